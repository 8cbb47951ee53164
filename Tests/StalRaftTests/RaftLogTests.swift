import Testing
@testable import StalRaft

@Suite struct RaftLogTests {
    func log(_ terms: [RaftTerm], commit: LogIndex = 0) -> RaftLog {
        let entries = terms.enumerated().map { LogEntry(index: LogIndex($0.offset + 1), term: $0.element) }
        return RaftLog(state: RaftPersistentState(hardState: HardState(commit: commit), entries: entries), applied: nil)
    }

    @Test func upToDateComparesLastTermThenLength() {
        // §5.4.1: "If the logs have last entries with different terms, then the log with
        // the later term is more up-to-date. If the logs end with the same term, then
        // whichever log is longer is more up-to-date."
        let l = log([1, 1, 2])
        #expect(l.isUpToDate(lastIndex: 1, term: 3))
        #expect(l.isUpToDate(lastIndex: 3, term: 2))
        #expect(!l.isUpToDate(lastIndex: 2, term: 2))
        #expect(!l.isUpToDate(lastIndex: 9, term: 1))
    }

    @Test func appendReplacesConflictingSuffixButNeverCommittedEntries() {
        var l = log([1, 1, 2, 2], commit: 2)
        #expect(l.findConflict([LogEntry(index: 2, term: 1), LogEntry(index: 3, term: 3)]) == 3)
        let outcome1 = l.append([LogEntry(index: 3, term: 3)])
        #expect(outcome1)
        #expect(l.lastIndex == 3)
        #expect(l.term(at: 3) == 3)
        let outcome2 = l.append([LogEntry(index: 2, term: 3)])
        #expect(!outcome2)
        #expect(l.term(at: 2) == 1)
    }

    @Test func conflictByTermSkipsWholeTerms() {
        let l = log([1, 1, 1, 4, 4, 5, 5, 6])
        #expect(l.findConflictByTerm(index: 8, term: 4) == (5, 4))
        #expect(l.findConflictByTerm(index: 8, term: 3) == (3, 1))
        #expect(l.findConflictByTerm(index: 8, term: 0) == (0, 0))
    }

    @Test func unstableEntriesFollowStableIndex() {
        var l = log([1, 1])
        #expect(l.unstableEntries.isEmpty)
        let outcome3 = l.append([LogEntry(index: 3, term: 2), LogEntry(index: 4, term: 2)])
        #expect(outcome3)
        #expect(l.unstableEntries.map(\.index) == [3, 4])
        l.stable(to: 4, term: 2)
        #expect(l.unstableEntries.isEmpty)
        // A truncation below the stable index makes the replacement unstable again.
        let outcome4 = l.append([LogEntry(index: 2, term: 3)])
        #expect(outcome4)
        #expect(l.unstableEntries.map(\.index) == [2])
        // Advancing with a stale Ready (index 4 term 2 no longer exists) changes nothing.
        l.stable(to: 4, term: 2)
        #expect(l.unstableEntries.map(\.index) == [2])
    }

    @Test func sliceRespectsCountAndBytesButSendsAtLeastOne() {
        var entries: [LogEntry] = []
        for i in 1...6 { entries.append(LogEntry(index: LogIndex(i), term: 1, data: Array(repeating: 0, count: 100))) }
        let l = RaftLog(state: RaftPersistentState(entries: entries), applied: nil)
        #expect(l.slice(from: 2, maxCount: 3, maxBytes: 1 << 20)?.map(\.index) == [2, 3, 4])
        #expect(l.slice(from: 2, maxCount: 10, maxBytes: 250)?.map(\.index) == [2, 3])
        #expect(l.slice(from: 2, maxCount: 10, maxBytes: 1)?.map(\.index) == [2])
        #expect(l.slice(from: 7, maxCount: 10, maxBytes: 1)?.isEmpty == true)
    }
}
