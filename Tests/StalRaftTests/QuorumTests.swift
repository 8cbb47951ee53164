import Testing
@testable import StalRaft

@Suite struct QuorumTests {
    @Test func committedIndexIsTheQuorumthLargestMatch() {
        let three = MajorityConfig([1, 2, 3])
        #expect(three.committedIndex { [1: 5, 2: 3, 3: 9][$0] } == 5)
        #expect(three.committedIndex { [1: 5][$0] } == 0)
        let five = MajorityConfig([1, 2, 3, 4, 5])
        #expect(five.committedIndex { [1: 10, 2: 8, 3: 7, 4: 1, 5: 2][$0] } == 7)
        #expect(MajorityConfig([]).committedIndex { _ in 4 } == 0)
    }

    @Test func voteResultNeedsAMajorityOfVoters() {
        let c = MajorityConfig([1, 2, 3])
        #expect(c.voteResult([1: true]) == .pending)
        #expect(c.voteResult([1: true, 2: true]) == .won)
        #expect(c.voteResult([1: true, 2: false]) == .pending)
        #expect(c.voteResult([1: true, 2: false, 3: false]) == .lost)
        // Votes from non-voters (learners, strangers) do not count.
        #expect(c.voteResult([1: true, 7: true, 8: true]) == .pending)
        let four = MajorityConfig([1, 2, 3, 4])
        #expect(four.quorum == 3)
        #expect(four.voteResult([1: true, 2: true, 3: false]) == .pending)
        #expect(four.voteResult([1: true, 2: true, 3: false, 4: false]) == .lost)
    }

    @Test func singleServerChangesKeepMajoritiesOverlapping() {
        // The safety argument for one-at-a-time changes: any majority of C and any majority
        // of C +/- one server intersect. Checked exhaustively for small clusters.
        for size in 1...5 {
            let old = Array(RaftNodeID(1)...RaftNodeID(size))
            for new in [old + [99], Array(old.dropLast())] where !new.isEmpty {
                let a = MajorityConfig(old), b = MajorityConfig(new)
                for maskA in 0..<(1 << old.count) {
                    let qa = Set(old.enumerated().filter { maskA >> $0.offset & 1 == 1 }.map(\.element))
                    guard a.hasQuorum({ qa.contains($0) }) else { continue }
                    for maskB in 0..<(1 << new.count) {
                        let qb = Set(new.enumerated().filter { maskB >> $0.offset & 1 == 1 }.map(\.element))
                        guard b.hasQuorum({ qb.contains($0) }) else { continue }
                        #expect(!qa.isDisjoint(with: qb))
                    }
                }
            }
        }
    }

    @Test func confStateRejectsUnsafeChanges() throws {
        let c = ConfState(voters: [1, 2, 3], learners: [4])
        #expect(throws: RaftRefusal.self) { try c.applying(ConfChange(.addVoter, 2)).get() }
        #expect(throws: RaftRefusal.self) { try c.applying(ConfChange(.removeNode, 9)).get() }
        #expect(throws: RaftRefusal.self) { try ConfState(voters: [1]).applying(ConfChange(.removeNode, 1)).get() }
        #expect(try c.applying(ConfChange(.addVoter, 4)).get() == ConfState(voters: [1, 2, 3, 4]))
        #expect(try c.applying(ConfChange(.addLearner, 3)).get() == ConfState(voters: [1, 2], learners: [3, 4]))
        #expect(ConfChange(decoding: ConfChange(.removeNode, 0x0102_0304_0506).encoded()) == ConfChange(.removeNode, 0x0102_0304_0506))
    }
}

@Suite struct ProgressTests {
    @Test func inflightsBoundPipelining() {
        var f = Inflights(capacity: 3)
        f.add(5); f.add(7); f.add(9)
        #expect(f.isFull)
        f.freeLE(7)
        #expect(f.count == 1)
        f.add(11); f.add(12)
        #expect(f.isFull)
        f.freeFirst()
        #expect(f.count == 2)
        f.freeLE(100)
        #expect(f.count == 0)
    }

    @Test func probeSendsOneAppendUntilAnswered() {
        var p = Progress(next: 5, maxInflight: 4, isLearner: false)
        #expect(!p.isPaused)
        p.sentAppend(lastIndex: 6, count: 2)
        #expect(p.isPaused)
        #expect(p.next == 5)
        let outcome1 = p.maybeUpdate(6)
        #expect(outcome1)
        #expect(!p.isPaused)
        #expect(p.next == 7)
    }

    @Test func replicateStreamsUpToTheInflightLimit() {
        var p = Progress(next: 1, maxInflight: 2, isLearner: false)
        p.becomeReplicate()
        p.sentAppend(lastIndex: 3, count: 3)
        p.sentAppend(lastIndex: 5, count: 2)
        #expect(p.next == 6)
        #expect(p.isPaused)
        p.inflights.freeLE(3)
        #expect(!p.isPaused)
    }

    @Test func rejectionsMoveNextBackOnlyWhenCurrent() {
        var p = Progress(next: 10, maxInflight: 4, isLearner: false)
        // A stale rejection (of an append we no longer have outstanding) is ignored.
        let outcome2 = p.maybeDecrease(rejected: 5, matchHint: 2)
        #expect(!outcome2)
        let outcome3 = p.maybeDecrease(rejected: 9, matchHint: 3)
        #expect(outcome3)
        #expect(p.next == 4)
        p.match = 3
        p.becomeReplicate()
        let outcome4 = p.maybeDecrease(rejected: 3, matchHint: 0)
        #expect(!outcome4)
        let outcome5 = p.maybeDecrease(rejected: 8, matchHint: 0)
        #expect(outcome5)
        #expect(p.next == 4)
    }

    @Test func snapshotStateResumesAfterThePendingSnapshot() {
        var p = Progress(next: 3, maxInflight: 4, isLearner: false)
        p.becomeSnapshot(20)
        #expect(p.isPaused)
        p.becomeProbe()
        #expect(p.next == 21)
    }
}
