public enum VoteResult: Hashable, Sendable {
    case pending
    case lost
    case won
}

/// A simple majority over a set of voters: the only quorum kind a one-at-a-time
/// membership change needs.
public struct MajorityConfig: Hashable, Sendable {
    public let voters: [RaftNodeID]

    public init(_ voters: [RaftNodeID]) {
        self.voters = Array(Set(voters)).sorted()
    }

    public var quorum: Int { voters.count / 2 + 1 }

    /// The largest index acknowledged by a quorum. `acked` returns nil for a voter with no
    /// acknowledgement yet (counted as 0). An empty configuration commits nothing.
    public func committedIndex(_ acked: (RaftNodeID) -> LogIndex?) -> LogIndex {
        guard !voters.isEmpty else { return 0 }
        let sorted = voters.map { acked($0) ?? 0 }.sorted(by: >)
        return sorted[quorum - 1]
    }

    public func voteResult(_ votes: [RaftNodeID: Bool]) -> VoteResult {
        guard !voters.isEmpty else { return .won }
        var granted = 0
        var missing = 0
        for id in voters {
            switch votes[id] {
            case true?: granted += 1
            case false?: break
            case nil: missing += 1
            }
        }
        if granted >= quorum { return .won }
        if granted + missing >= quorum { return .pending }
        return .lost
    }

    /// Whether a quorum satisfies `predicate`.
    public func hasQuorum(_ predicate: (RaftNodeID) -> Bool) -> Bool {
        !voters.isEmpty && voters.filter(predicate).count >= quorum
    }
}
