import Testing
import StalDeterminism
@testable import StalRaft

@Suite struct RobustnessTests {
    /// Arbitrary, even nonsensical, messages must never trap the core: a replica either
    /// handles them or refuses them (possibly flagging `integrityFault`).
    @Test func randomMessagesNeverTrap() {
        var random = SeededRandom(seed: 2024)
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        let kinds = RaftMessage.Kind.allCases
        for step in 0..<20_000 {
            let to = RaftNodeID(random.next(below: 3) + 1)
            let from = RaftNodeID(random.next(below: 4) + 1)
            let index = random.next(below: 12)
            var entries: [LogEntry] = []
            for i in 0..<random.next(below: 4) {
                // Mostly well-formed, sometimes not.
                let idx = random.chance(9, in: 10) ? index + 1 + i : random.next(below: 20)
                entries.append(LogEntry(index: idx, term: random.next(below: 6), kind: random.chance(1, in: 8) ? .confChange : .normal,
                                        data: random.bytes(Int(random.next(below: 10)))))
            }
            let snapshot = random.chance(1, in: 10)
                ? Snapshot(metadata: SnapshotMetadata(index: random.next(below: 15), term: random.next(below: 6), confState: ConfState(voters: [1, 2, 3])))
                : nil
            let m = RaftMessage(kind: kinds[Int(random.next(below: UInt64(kinds.count)))], from: from, to: to,
                                term: random.next(below: 6), logTerm: random.next(below: 6), index: index, entries: entries,
                                commit: random.next(below: 14), reject: random.chance(1, in: 3), rejectHint: random.next(below: 12),
                                snapshot: snapshot, context: random.chance(1, in: 2) ? [UInt8(step % 7)] : [],
                                leaseTick: random.next(below: 100), leaderTransfer: random.chance(1, in: 10))
            c.nodes[to]!.step(m)
            if random.chance(1, in: 5) { c.tick(to) }
            if random.chance(1, in: 20) { _ = c.nodes[to]!.propose([1]) }
            if random.chance(1, in: 50) { _ = c.nodes[to]!.readIndex(context: [9], mode: .leaseBased) }
            if random.chance(1, in: 10) {
                let n = c.node(to)
                _ = c.nodes[to]!.compact(through: n.status.applied, data: [])
            }
            if random.chance(1, in: 3) { c.settle(maxRounds: 5) }
        }
        // The replicas are still live state machines afterwards.
        c.settle()
        for id in c.ids { #expect(c.node(id).lastIndex >= c.node(id).commitIndex) }
    }

    @Test func malformedAppendIsRefusedAndFlagged() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        let last = c.node(2).lastIndex
        let term = c.node(2).term
        c.nodes[2]!.step(RaftMessage(kind: .append, from: 1, to: 2, term: term, logTerm: term, index: last,
                                     entries: [LogEntry(index: last + 2, term: term)], commit: 0))
        #expect(c.node(2).integrityFault != nil)
        #expect(c.node(2).lastIndex == last)
    }
}
