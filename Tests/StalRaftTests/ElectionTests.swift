import Testing
import StalDeterminism
@testable import StalRaft

@Suite struct ElectionTests {
    @Test func aFollowerThatHearsNothingBecomesLeader() {
        // §5.2: "If a follower receives no communication over a period of time called the
        // election timeout, then it assumes there is no viable leader and begins an election."
        var c = TestCluster(voters: [1, 2, 3])
        c.tickAll(times: 25)
        #expect(c.leaders.count == 1)
        let leader = c.leaders[0]
        #expect(c.ids.allSatisfy { c.node($0).leader == leader })
        #expect(c.ids.allSatisfy { c.node($0).term == c.node(leader).term })
    }

    @Test func singleVoterElectsItselfAndCommitsAlone() {
        var c = TestCluster(voters: [1])
        c.elect(1)
        #expect(c.node(1).role == .leader)
        _ = c.propose(1, "x")
        #expect(c.appliedData(1) == ["x"])
    }

    @Test func randomizedTimeoutsStayInRange() {
        for seed in UInt64(1)...50 {
            var config = RaftConfig(id: 1)
            config.electionTicks = 10
            let n = RaftStateMachine(config: config, state: .bootstrap(voters: [1, 2, 3]), random: SeededRandom(seed: seed))
            #expect((10..<20).contains(n.randomizedElectionTimeout))
        }
    }

    @Test func atMostOneVotePerTerm() {
        // §5.2: "Each server will vote for at most one candidate in a given term, on a
        // first-come-first-served basis."
        var c = TestCluster(voters: [1, 2, 3]) { $0.preVote = false; $0.checkQuorum = false }
        c.nodes[3]!.step(RaftMessage(kind: .requestVote, from: 1, to: 3, term: 2, logTerm: 1, index: 3))
        c.nodes[3]!.step(RaftMessage(kind: .requestVote, from: 2, to: 3, term: 2, logTerm: 1, index: 3))
        var r = c.nodes[3]!.ready()
        #expect(r.messages.map(\.reject) == [false, true])
        #expect(r.hardState?.vote == 1)
        #expect(r.mustSync)
        c.nodes[3]!.advance(r)
        // Retransmitted request from the same candidate is granted again.
        c.nodes[3]!.step(RaftMessage(kind: .requestVote, from: 1, to: 3, term: 2, logTerm: 1, index: 3))
        r = c.nodes[3]!.ready()
        #expect(r.messages.map(\.reject) == [false])
    }

    @Test func injectedDoubleVoteFaultGrantsTwice() {
        var c = TestCluster(voters: [1, 2, 3]) { $0.preVote = false; $0.checkQuorum = false; $0.testingFaults = [.grantMultipleVotesPerTerm] }
        c.nodes[3]!.step(RaftMessage(kind: .requestVote, from: 1, to: 3, term: 2, logTerm: 1, index: 3))
        c.nodes[3]!.step(RaftMessage(kind: .requestVote, from: 2, to: 3, term: 2, logTerm: 1, index: 3))
        #expect(c.nodes[3]!.ready().messages.map(\.reject) == [false, false])
    }

    @Test func voteSurvivesRestart() {
        var c = TestCluster(voters: [1, 2, 3]) { $0.preVote = false; $0.checkQuorum = false }
        c.nodes[3]!.step(RaftMessage(kind: .requestVote, from: 1, to: 3, term: 2, logTerm: 1, index: 3))
        c.settle()
        c.restart(3)
        c.nodes[3]!.step(RaftMessage(kind: .requestVote, from: 2, to: 3, term: 2, logTerm: 1, index: 3))
        #expect(c.nodes[3]!.ready().messages.first { $0.to == 2 }?.reject == true)
    }

    @Test func candidateWithStaleLogIsRejected() {
        // §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of
        // the candidate."
        var c = TestCluster(voters: [1, 2, 3]) { $0.preVote = false }
        c.elect(1)
        _ = c.propose(1, "a")
        c.nodes[2]!.step(RaftMessage(kind: .requestVote, from: 3, to: 2, term: 9, logTerm: 1, index: 3, leaderTransfer: true))
        let reply = c.nodes[2]!.ready().messages.first { $0.kind == .requestVoteResponse }
        #expect(reply?.reject == true)
    }

    @Test func preVoteKeepsAPartitionedNodeFromInflatingTerms() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        let term = c.node(1).term
        c.isolate(3)
        c.tickAll(times: 100)
        #expect(c.node(3).term == term)
        c.heal()
        c.tickAll(times: 5)
        #expect(c.node(1).role == .leader)
        #expect(c.node(1).term == term)
    }

    @Test func withoutPreVoteAPartitionedNodeDisruptsOnReturn() {
        var c = TestCluster(voters: [1, 2, 3]) { $0.preVote = false; $0.checkQuorum = false }
        c.elect(1)
        let term = c.node(1).term
        c.isolate(3)
        c.tickAll(times: 100)
        #expect(c.node(3).term > term + 3)
    }

    @Test func checkQuorumDeposesAnIsolatedLeader() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.isolate(1)
        // Activity is checked once per election timeout, so an isolated leader notices
        // within two timeouts (this is why leases are dated from heartbeats instead).
        c.tickAll(times: 9)
        #expect(c.node(1).role == .leader)
        c.tickAll(times: 11)
        #expect(c.node(1).role == .follower)
        c.tickAll(times: 30)
        #expect(c.leaders.count == 1)
        #expect(c.leaders[0] != 1)
    }

    @Test func followersInsideTheLeaseIgnoreVoteRequests() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        let term = c.node(2).term
        c.nodes[2]!.step(RaftMessage(kind: .requestVote, from: 3, to: 2, term: term + 1, logTerm: 9, index: 99))
        #expect(c.node(2).term == term)
        #expect(!c.node(2).hasReady)
    }

    @Test func restartedReplicaRefusesVotesForOneElectionTimeout() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        c.restart(2)
        let term = c.node(2).term
        c.nodes[2]!.step(RaftMessage(kind: .requestVote, from: 3, to: 2, term: term + 1, logTerm: 9, index: 99))
        #expect(c.node(2).term == term)
        c.tick(2, times: 10)
        c.nodes[2]!.step(RaftMessage(kind: .requestVote, from: 3, to: 2, term: term + 5, logTerm: 9, index: 99))
        #expect(c.node(2).term == term + 5)
    }

    @Test func learnersNeverCampaign() {
        var c = TestCluster(voters: [1, 2, 3])
        c.elect(1)
        _ = c.nodes[1]!.proposeConfChange(ConfChange(.addLearner, 4))
        c.start(4, state: .joining)
        c.settle()
        c.tickAll(times: 3)
        c.isolate(1)
        c.tick(4, times: 100)
        c.settle()
        #expect(c.node(4).role == .follower)
        #expect(c.node(4).confState.isLearner(4))
    }
}
