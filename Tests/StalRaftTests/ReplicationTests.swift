import Testing
@testable import StalRaft

@Suite struct ReplicationTests {
    @Test func committedEntriesReachEveryStateMachineInOrder() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        for s in ["a", "b", "c"] { _ = c.propose(1, s) }
        c.tickAll(times: 2)
        for id in c.ids { #expect(c.appliedData(id) == ["a", "b", "c"]) }
    }

    @Test func proposalsAtAFollowerAreRefusedWithALeaderHint() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        #expect(c.nodes[2]!.propose([1]) == .failure(.notLeader(leaderHint: 1)))
        var lone = TestCluster(voters: [1, 2, 3])
        #expect(lone.nodes[2]!.propose([1]) == .failure(.notLeader(leaderHint: nil)))
    }

    @Test func leaderForcesFollowersToDuplicateItsLog() {
        // §5.3: "the leader handles inconsistencies by forcing the followers' logs to
        // duplicate its own ... conflicting entries in follower logs will be overwritten."
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = c.propose(1, "base")
        c.isolate(1)
        for s in ["lost1", "lost2", "lost3"] { _ = c.nodes[1]!.propose(Array(s.utf8)) }
        c.settle()
        c.tickAll(times: 30)
        let newLeader = c.leaders.first { $0 != 1 }!
        _ = c.propose(newLeader, "kept")
        c.heal()
        c.tickAll(times: 5)
        for id in c.ids { #expect(c.appliedData(id) == ["base", "kept"]) }
        #expect(c.node(1).lastIndex == c.node(newLeader).lastIndex)
    }

    @Test func fastBackoffSkipsAWholeConflictingTermInOneRoundTrip() {
        var c = TestCluster(voters: [1, 2, 3]) { $0.maxEntriesPerAppend = 100 }
        c.elect(1)
        c.isolate(3)
        // Node 3 will lag by 50 entries: the probe must not walk back one by one.
        for i in 0..<50 { _ = c.nodes[1]!.propose([UInt8(i)]) }
        c.settle()
        c.heal()
        c.delivered = []
        c.tickAll(times: 2)
        let rejections = c.delivered.filter { $0.kind == .appendResponse && $0.reject && $0.from == 3 }
        #expect(rejections.count <= 1)
        #expect(c.node(3).lastIndex == c.node(1).lastIndex)
    }

    @Test func pipeliningIsBoundedByInflightLimit() {
        var c = TestCluster(voters: [1, 2]) { $0.maxInflightAppends = 3; $0.maxEntriesPerAppend = 1 }
        c.elect(1)
        c.cut.insert([2, 1])
        for i in 0..<10 { _ = c.nodes[1]!.propose([UInt8(i)]) }
        c.delivered = []
        c.settle()
        #expect(c.delivered.filter { $0.kind == .append && $0.to == 2 && !$0.entries.isEmpty }.count == 3)
    }

    @Test func figure8LeaderDoesNotCommitOlderTermEntriesByCounting() {
        // §5.4.2: "Raft never commits log entries from previous terms by counting replicas.
        // Only log entries from the leader's current term are committed by counting."
        let (committed, _) = figure8(faults: [])
        #expect(!committed)
    }

    @Test func figure8WithInjectedFaultCommitsTheOlderEntry() {
        let (committed, _) = figure8(faults: [.commitPreviousTermEntriesByCounting])
        #expect(committed)
    }

    /// Node 1 leads term 2 and appends an entry that reaches only itself, restarts, and is
    /// re-elected in term 3 and replicates that entry to node 2 alone (its no-op lost on the
    /// way). A majority now stores the term-2 entry, yet node 3 could still be elected
    /// with a term-3 entry of its own (Figure 8 (c)-(d)). Returns whether node 1 counted
    /// the old-term entry as committed.
    private func figure8(faults: RaftTestingFaults) -> (Bool, LogIndex) {
        var c = TestCluster(voters: [1, 2, 3]) { $0.preVote = false; $0.checkQuorum = false; $0.maxEntriesPerAppend = 1; $0.testingFaults = faults }
        c.elect(1)
        c.isolate(1)
        _ = c.nodes[1]!.propose(Array("old".utf8))
        c.settle()
        let oldIndex = c.node(1).lastIndex
        c.restart(1)
        // Node 1 wins again (node 2 votes for it: equal terms, longer log) and sends the old
        // entry by itself; the no-op append is dropped on the way.
        c.heal()
        c.cut.insert([3, 1]); c.cut.insert([1, 3])
        c.nodes[1]!.campaign()
        for _ in 0..<50 {
            var outbox: [RaftMessage] = []
            for id in c.ids.sorted() where c.nodes[id]!.hasReady {
                let r = c.nodes[id]!.ready()
                outbox += r.messages
                c.nodes[id]!.advance(r)
            }
            for m in outbox where !c.cut.contains([m.from, m.to]) {
                // Appends node 2 would accept that carry the new term's entries are lost.
                if m.kind == .append && m.to == 2 && m.index <= c.node(2).lastIndex
                    && m.entries.contains(where: { $0.term == c.node(1).term }) {
                    continue
                }
                c.nodes[m.to]!.step(m)
            }
        }
        #expect(c.node(1).role == .leader)
        #expect(c.node(2).term(at: oldIndex) == c.node(1).term(at: oldIndex))
        return (c.node(1).commitIndex >= oldIndex, oldIndex)
    }

    @Test func readyContractOrdersPersistSendApply() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = c.nodes[1]!.propose([7])
        var r = c.nodes[1]!.ready()
        #expect(r.mustSync)
        #expect(r.entries.map(\.data) == [[7]])
        #expect(r.committedEntries.isEmpty)
        #expect(r.messages.filter { $0.kind == .append }.count == 2)
        #expect(!c.nodes[1]!.hasReady)
        c.nodes[1]!.advance(r)
        for m in r.messages { c.nodes[m.to]!.step(m) }
        let followerReady = c.nodes[2]!.ready()
        // The acknowledgement travels in the same Ready as the entries it acknowledges, so
        // the driver sends it only after persisting them.
        #expect(followerReady.mustSync)
        #expect(followerReady.entries.map(\.data) == [[7]])
        #expect(followerReady.messages.contains { $0.kind == .appendResponse && !$0.reject })
        c.nodes[2]!.advance(followerReady)
        for m in followerReady.messages { c.nodes[m.to]!.step(m) }
        r = c.nodes[1]!.ready()
        #expect(r.committedEntries.map(\.data) == [[7]])
        #expect(r.hardState?.commit == r.committedEntries.last?.index)
        // Only the commit index moved: no fsync needed.
        #expect(!r.mustSync)
    }

    @Test func injectedSkipSyncFaultClearsMustSync() {
        var c = TestCluster(voters: [1]) { $0.testingFaults = [.acknowledgeBeforeSync] }
        c.nodes[1]!.campaign()
        #expect(!c.nodes[1]!.ready().mustSync)
    }

    @Test func uncommittedBacklogIsBounded() {
        var c = TestCluster(voters: [1, 2, 3]) { $0.maxUncommittedEntries = 5 }
        c.elect(1)
        c.isolate(1)
        var refusals = 0
        for _ in 0..<10 {
            if case .failure(.uncommittedLogFull) = c.nodes[1]!.propose([1]) { refusals += 1 }
        }
        #expect(refusals == 5)
    }

    @Test func oversizedProposalsAreRefusedBeforeTheLog() {
        var c = TestCluster(voters: [1]) { $0.maxEntryBytes = 8 }
        c.elect(1)
        let last = c.node(1).lastIndex
        #expect(c.nodes[1]!.propose(Array(repeating: 0, count: 9)) == .failure(.entryTooLarge))
        #expect(c.node(1).lastIndex == last)
        #expect(throws: Never.self) { try c.nodes[1]!.propose(Array(repeating: 0, count: 8)).get() }
    }

    @Test func testingFaultsAreRejectedOutsideTests() {
        var config = RaftConfig(id: 1)
        config.testingFaults = [.grantMultipleVotesPerTerm]
        #expect(throws: (any Error).self) { try config.validate() }
        #expect(throws: Never.self) { try config.validate(allowTestingFaults: true) }
        #expect(throws: (any Error).self) { try RaftConfig(id: 0).validate() }
    }
}
