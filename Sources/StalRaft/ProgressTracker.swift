/// Membership plus per-member progress and the votes of the current election.
public struct ProgressTracker: Sendable {
    public private(set) var confState: ConfState
    public private(set) var majority: MajorityConfig
    public internal(set) var progress: [RaftNodeID: Progress] = [:]
    public private(set) var votes: [RaftNodeID: Bool] = [:]
    let maxInflight: Int

    init(confState: ConfState, maxInflight: Int) {
        self.confState = confState
        self.majority = MajorityConfig(confState.voters)
        self.maxInflight = maxInflight
    }

    /// Members in id order; never iterate `progress` directly (hash order is per-process).
    public var members: [RaftNodeID] { confState.members }
    public func isVoter(_ id: RaftNodeID) -> Bool { confState.isVoter(id) }

    /// Switches to `newConf`, keeping progress of members that stay and starting new
    /// members at `nextIndex`.
    mutating func setConfiguration(_ newConf: ConfState, nextIndex: LogIndex) {
        confState = newConf
        majority = MajorityConfig(newConf.voters)
        var updated: [RaftNodeID: Progress] = [:]
        for id in newConf.members {
            var p = progress[id] ?? {
                var fresh = Progress(next: nextIndex, maxInflight: maxInflight, isLearner: false)
                // A new member counts as active so check-quorum does not depose the leader
                // before the newcomer has had a chance to answer.
                fresh.recentActive = true
                return fresh
            }()
            p.isLearner = newConf.isLearner(id)
            updated[id] = p
        }
        progress = updated
    }

    mutating func resetProgress(lastIndex: LogIndex, selfID: RaftNodeID) {
        for id in members {
            var p = Progress(next: lastIndex + 1, maxInflight: maxInflight, isLearner: confState.isLearner(id))
            if id == selfID {
                p.match = lastIndex
                p.recentActive = true
            }
            progress[id] = p
        }
    }

    public func committedIndex() -> LogIndex {
        majority.committedIndex { progress[$0]?.match }
    }

    mutating func recordVote(_ id: RaftNodeID, granted: Bool) {
        if votes[id] == nil { votes[id] = granted }
    }

    mutating func resetVotes() { votes = [:] }

    public func voteResult() -> VoteResult { majority.voteResult(votes) }

    /// True when a quorum was heard from since the last call; clears the marks.
    mutating func checkQuorumActive(selfID: RaftNodeID) -> Bool {
        let active = majority.hasQuorum { $0 == selfID || progress[$0]?.recentActive == true }
        for id in members where id != selfID {
            progress[id]?.recentActive = false
        }
        return active
    }

    /// The latest leader tick such that a quorum acknowledged a heartbeat sent at or after
    /// it, or nil when no quorum has acknowledged one in this term.
    func leaseStartTick(selfID: RaftNodeID, now: UInt64) -> UInt64? {
        guard !majority.voters.isEmpty else { return nil }
        let ticks = majority.voters.map { $0 == selfID ? now : progress[$0]?.leaseAckTick }
        let acked = ticks.compactMap { $0 }.sorted(by: >)
        guard acked.count >= majority.quorum else { return nil }
        return acked[majority.quorum - 1]
    }
}
