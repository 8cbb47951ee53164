import Testing
@testable import StalRaft

@Suite struct SnapshotTests {
    @Test func laggingFollowerIsCaughtUpBySnapshot() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(3)
        for i in 0..<20 { _ = c.propose(1, "e\(i)") }
        c.tickAll(times: 2)
        let applied = c.node(1).status.applied
        let snap = c.nodes[1]!.compact(through: applied, data: Array("image".utf8))
        #expect(snap?.metadata.index == applied)
        #expect(snap?.metadata.confState == ConfState(voters: [1, 2, 3]))
        #expect(c.node(1).snapshotIndex == applied)
        // Compacting again at or below the snapshot does nothing.
        #expect(c.nodes[1]!.compact(through: applied, data: []) == nil)
        c.heal()
        c.delivered = []
        c.tickAll(times: 3)
        #expect(c.delivered.contains { $0.kind == .snapshot && $0.to == 3 })
        #expect(c.node(3).snapshotIndex == applied)
        #expect(c.durable[3]?.snapshot.data == Array("image".utf8))
        _ = c.propose(1, "after")
        c.tickAll(times: 2)
        #expect(c.appliedData(3) == ["after"])
        #expect(c.node(3).commitIndex == c.node(1).commitIndex)
    }

    @Test func compactionOnlyCoversAppliedEntries() {
        var c = TestCluster(voters: [1])
        c.elect(1)
        _ = c.nodes[1]!.propose([1])
        // Not yet handed out through a Ready, hence not applied.
        #expect(c.nodes[1]!.compact(through: c.node(1).lastIndex, data: []) == nil)
    }

    @Test func restartFromSnapshotAndTail() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        for i in 0..<5 { _ = c.propose(1, "e\(i)") }
        c.tickAll(times: 2)
        let snap = c.nodes[2]!.compact(through: c.node(2).status.applied, data: [9])!
        c.durable[2]!.snapshot = snap
        c.durable[2]!.entries.removeAll { $0.index <= snap.metadata.index }
        _ = c.propose(1, "tail")
        c.tickAll(times: 2)
        c.restart(2)
        #expect(c.node(2).snapshotIndex == snap.metadata.index)
        #expect(c.node(2).confState.voters == [1, 2, 3])
        c.settle()
        #expect(c.appliedData(2) == ["tail"])
    }
}

@Suite struct ReadIndexTests {
    @Test func readIndexWaitsForAQuorumHeartbeat() {
        // Thesis §6.4: the leader records its commit index, then confirms leadership with a
        // heartbeat round before answering.
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = c.propose(1, "a")
        c.isolate(1)
        #expect(c.nodes[1]!.readIndex(context: [1]) == nil)
        c.settle()
        #expect(c.readStates[1, default: []].isEmpty)
        c.heal()
        c.tickAll(times: 1)
        #expect(c.readStates[1] == [ReadState(index: c.node(1).commitIndex, context: [1])])
    }

    @Test func readIndexRefusedUntilTheLeaderCommitsInItsTerm() {
        var c = TestCluster(voters: [1, 2, 3])
        c.nodes[1]!.campaign()
        for id: RaftNodeID in [2, 3] { c.nodes[1]!.step(RaftMessage(kind: .requestPreVoteResponse, from: id, to: 1, term: 2)) }
        for id: RaftNodeID in [2, 3] { c.nodes[1]!.step(RaftMessage(kind: .requestVoteResponse, from: id, to: 1, term: 2)) }
        #expect(c.nodes[1]!.readIndex(context: [1]) == .noCommittedEntryInCurrentTerm)
    }

    @Test func followerForwardsReadIndexToTheLeader() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = c.propose(1, "a")
        #expect(c.nodes[2]!.readIndex(context: [5, 5]) == nil)
        c.settle()
        #expect(c.readStates[2] == [ReadState(index: c.node(1).commitIndex, context: [5, 5])])
        var lone = TestCluster(voters: [1, 2, 3])
        #expect(lone.nodes[2]!.readIndex(context: [1]) == .notLeader(leaderHint: nil))
    }

    @Test func leaseReadNeedsNoRoundTripWhileTheLeaseHolds() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.tickAll(times: 1)
        c.isolate(1)
        #expect(c.nodes[1]!.readIndex(context: [1], mode: .leaseBased) == nil)
        c.settle()
        #expect(c.readStates[1]?.count == 1)
        // After electionTicks - margin ticks without a quorum, the lease has lapsed and the
        // read falls back to a heartbeat round (which cannot complete while isolated).
        c.tick(1, times: 8)
        c.settle()
        #expect(c.nodes[1]!.readIndex(context: [2], mode: .leaseBased) == nil)
        c.settle()
        #expect(c.readStates[1]?.count == 1)
    }

    @Test func leaseExpiresBeforeAnyOtherLeaderCanBeElected() {
        // With equal tick rates, the deposed leader's lease has always lapsed by the time
        // the rest of the group has elected someone else.
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.tickAll(times: 2)
        #expect(c.node(1).leaseIsValid)
        c.isolate(1)
        var newLeaderSeen = false
        for _ in 0..<60 {
            c.tickAll(times: 1)
            if c.leaders.contains(where: { $0 != 1 }) {
                newLeaderSeen = true
                #expect(!c.node(1).leaseIsValid)
            }
        }
        #expect(newLeaderSeen)
    }

    @Test func leaseReadsGoStaleWhenDriftExceedsTheMargin() {
        // The documented assumption, violated on purpose: followers' clocks run three times
        // faster than the leader's and there is no safety margin.
        var c = TestCluster(voters: [1, 2, 3]) { $0.leaseSafetyMarginTicks = 0 }
        c.elect(1)
        c.tickAll(times: 2)
        let staleCommit = c.node(1).commitIndex
        c.isolate(1)
        // Three leader ticks are ten follower ticks: the followers' leases are over.
        c.tick(1, times: 3)
        c.tick(2, times: 10)
        c.tick(3, times: 10)
        c.settle()
        if !c.leaders.contains(where: { $0 != 1 }) { c.elect(2) }
        let newLeader = c.leaders.first { $0 != 1 }
        #expect(newLeader != nil)
        _ = c.propose(newLeader ?? 2, "w")
        #expect(c.node(1).leaseIsValid)
        #expect(c.nodes[1]!.readIndex(context: [1], mode: .leaseBased) == nil)
        c.settle()
        let served = c.readStates[1]?.first?.index
        #expect(served == staleCommit)
        #expect(served.map { $0 < c.node(newLeader ?? 2).commitIndex } == true)
    }

    @Test func leaseIsAbandonedOnceLeadershipTransferStarts() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.tickAll(times: 1)
        c.cut = [[2, 1], [3, 1], [1, 3], [3, 2]]
        #expect(c.nodes[1]!.transferLeadership(to: 2) == nil)
        c.settle()
        #expect(c.node(1).leaseIsValid == false)
    }
}

@Suite struct LeadershipTransferTests {
    @Test func transferMakesTheTargetLeader() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = c.propose(1, "a")
        #expect(c.nodes[1]!.transferLeadership(to: 3) == nil)
        c.settle()
        #expect(c.leaders == [3])
        #expect(c.node(3).term == c.node(1).term)
    }

    @Test func transferCatchesTheTargetUpFirst() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(3)
        _ = c.propose(1, "a")
        c.heal()
        #expect(c.nodes[1]!.transferLeadership(to: 3) == nil)
        c.settle()
        #expect(c.leaders == [3])
        #expect(c.appliedData(3) == ["a"])
    }

    @Test func proposalsAreRefusedDuringTransferAndTransferTimesOut() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(3)
        _ = c.propose(1, "a")
        #expect(c.nodes[1]!.transferLeadership(to: 3) == nil)
        #expect(c.nodes[1]!.propose([1]) == .failure(.leadershipTransferInProgress))
        c.tick(1, times: 10)
        c.settle()
        #expect(c.node(1).role == .leader)
        #expect(throws: Never.self) { try c.nodes[1]!.propose([1]).get() }
    }

    @Test func transferTargetMustBeAnotherVoter() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        #expect(c.nodes[1]!.transferLeadership(to: 1) != nil)
        #expect(c.nodes[1]!.transferLeadership(to: 9) != nil)
        #expect(c.nodes[2]!.transferLeadership(to: 3) == .notLeader(leaderHint: 1))
    }
}
