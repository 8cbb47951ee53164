import Testing
import StalDeterminism
@testable import StalRaft

@Suite struct MembershipTests {
    @Test func learnerReceivesTheLogButNeverCountsTowardCommit() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        #expect(throws: Never.self) { try c.nodes[1]!.proposeConfChange(ConfChange(.addLearner, 4)).get() }
        c.start(4, state: .joining)
        c.settle()
        c.tickAll(times: 2)
        _ = c.propose(1, "a")
        c.tickAll(times: 2)
        #expect(c.appliedData(4) == ["a"])
        #expect(c.node(4).confState == ConfState(voters: [1, 2, 3], learners: [4]))
        // With both other voters cut off, the learner's acknowledgement does not commit.
        c.cut = [[2, 1], [3, 1], [1, 2], [1, 3]]
        _ = c.propose(1, "b")
        c.settle()
        #expect(c.appliedData(1) == ["a"])
    }

    @Test func oneChangeAtATime() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(1)
        #expect(throws: Never.self) { try c.nodes[1]!.proposeConfChange(ConfChange(.addLearner, 4)).get() }
        // The first change is not committed yet.
        #expect(c.nodes[1]!.proposeConfChange(ConfChange(.addLearner, 5)) == .failure(.membershipChangePending))
        c.heal()
        c.tickAll(times: 2)
        #expect(throws: Never.self) { try c.nodes[1]!.proposeConfChange(ConfChange(.addLearner, 5)).get() }
    }

    @Test func newLeaderMustCommitInItsTermBeforeChangingMembership() {
        var c = TestCluster(voters: [1, 2, 3])
        c.nodes[1]!.campaign()
        for id: RaftNodeID in [2, 3] {
            c.nodes[1]!.step(RaftMessage(kind: .requestPreVoteResponse, from: id, to: 1, term: 2))
        }
        for id: RaftNodeID in [2, 3] {
            c.nodes[1]!.step(RaftMessage(kind: .requestVoteResponse, from: id, to: 1, term: 2))
        }
        #expect(c.node(1).role == .leader)
        // Its no-op is not acknowledged yet, so nothing of term 2 is committed.
        #expect(c.nodes[1]!.proposeConfChange(ConfChange(.addLearner, 4)) == .failure(.noCommittedEntryInCurrentTerm))
    }

    @Test func membershipTakesEffectWhenAppendedAndRevertsWhenTruncated() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.cut = [[2, 1], [1, 3], [3, 1]]
        _ = c.nodes[1]!.proposeConfChange(ConfChange(.addLearner, 4))
        // Leader and node 2 adopt the change as soon as it is in their logs.
        #expect(c.node(1).confState.isLearner(4))
        c.settle()
        #expect(c.node(2).confState.isLearner(4))
        let term = c.node(2).term
        let last = c.node(2).lastIndex
        // The entry is not committed: a later leader without it overwrites it, and node 2's
        // membership goes back to what its log now says.
        c.nodes[2]!.step(RaftMessage(kind: .append, from: 3, to: 2, term: term + 1, logTerm: term, index: last - 1,
                                     entries: [LogEntry(index: last, term: term + 1)], commit: last - 1))
        #expect(c.node(2).term(at: last) == term + 1)
        #expect(c.node(2).confState == ConfState(voters: [1, 2, 3]))
    }

    @Test func promoteThenRemoveAVoter() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = c.nodes[1]!.proposeConfChange(ConfChange(.addLearner, 4))
        c.start(4, state: .joining)
        c.settle()
        c.tickAll(times: 2)
        #expect(throws: Never.self) { try c.nodes[1]!.proposeConfChange(ConfChange(.addVoter, 4)).get() }
        c.settle()
        c.tickAll(times: 2)
        #expect(c.node(4).confState.voters == [1, 2, 3, 4])
        #expect(throws: Never.self) { try c.nodes[1]!.proposeConfChange(ConfChange(.removeNode, 2)).get() }
        c.settle()
        c.tickAll(times: 2)
        #expect(c.node(1).confState.voters == [1, 3, 4])
        // Node 2 no longer counts: with 3 cut off, 1 and 4 still commit.
        c.isolate(2)
        _ = c.propose(1, "after")
        c.tickAll(times: 2)
        #expect(c.appliedData(4).last == "after")
    }

    @Test func leaderThatRemovesItselfStepsDownOnceCommitted() {
        // Thesis §4.2.2: the leader steps down when the configuration without it commits.
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        #expect(throws: Never.self) { try c.nodes[1]!.proposeConfChange(ConfChange(.removeNode, 1)).get() }
        c.settle()
        #expect(c.node(1).role == .follower)
        c.tickAll(times: 40)
        #expect(c.leaders.count == 1)
        #expect(c.leaders[0] != 1)
    }

    @Test func joiningReplicaLearnsBootstrapMembershipFromTheLog() {
        let state = RaftPersistentState.bootstrap(voters: [3, 1, 2])
        #expect(state.entries.count == 3)
        #expect(state.hardState.commit == 3)
        let n = RaftStateMachine(config: RaftConfig(id: 9), state: state, random: SeededRandom(seed: 7))
        #expect(n.confState.voters == [1, 2, 3])
    }
}
