/// A replica's identity inside one Raft group. Zero means "nobody" (no leader known, no vote
/// cast), as in the Raft paper's `votedFor = null`.
public typealias RaftNodeID = UInt64
public typealias RaftTerm = UInt64
public typealias LogIndex = UInt64

public let raftNoNode: RaftNodeID = 0

/// One log entry. `confChange` entries carry an encoded `ConfChange` and take effect as soon
/// as they are in a replica's log (see docs/raft.md, "Membership changes").
public struct LogEntry: Hashable, Sendable {
    public enum Kind: UInt8, Hashable, Sendable {
        case normal = 0
        case confChange = 1
    }

    public var index: LogIndex
    public var term: RaftTerm
    public var kind: Kind
    public var data: [UInt8]

    public init(index: LogIndex, term: RaftTerm, kind: Kind = .normal, data: [UInt8] = []) {
        self.index = index
        self.term = term
        self.kind = kind
        self.data = data
    }
}

/// The three values Raft must have on stable storage before answering any message.
public struct HardState: Hashable, Sendable {
    public var term: RaftTerm
    public var vote: RaftNodeID
    public var commit: LogIndex

    public init(term: RaftTerm = 0, vote: RaftNodeID = raftNoNode, commit: LogIndex = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

/// Group membership. Both lists are sorted and disjoint; iteration order never depends on
/// hashing, so simulator runs stay reproducible.
public struct ConfState: Hashable, Sendable {
    public let voters: [RaftNodeID]
    public let learners: [RaftNodeID]
    /// Voters and learners in id order.
    public let members: [RaftNodeID]

    public init(voters: [RaftNodeID] = [], learners: [RaftNodeID] = []) {
        let v = Array(Set(voters)).sorted()
        self.voters = v
        self.learners = Array(Set(learners).subtracting(v)).sorted()
        self.members = (self.voters + self.learners).sorted()
    }

    public func isVoter(_ id: RaftNodeID) -> Bool { voters.contains(id) }
    public func isLearner(_ id: RaftNodeID) -> Bool { learners.contains(id) }
    public func isMember(_ id: RaftNodeID) -> Bool { isVoter(id) || isLearner(id) }

    /// The configuration after `change`, or why the change is not allowed. Every allowed
    /// change alters the voter set by at most one server, which is what makes one-at-a-time
    /// membership changes safe (majorities of consecutive configurations overlap).
    public func applying(_ change: ConfChange) -> Result<ConfState, RaftRefusal> {
        guard change.nodeID != raftNoNode else { return .failure(.invalidMembershipChange("node id 0")) }
        var voters = self.voters
        var learners = self.learners
        switch change.operation {
        case .addVoter:
            guard !isVoter(change.nodeID) else { return .failure(.invalidMembershipChange("already a voter")) }
            learners.removeAll { $0 == change.nodeID }
            voters.append(change.nodeID)
        case .addLearner:
            guard !isLearner(change.nodeID) else { return .failure(.invalidMembershipChange("already a learner")) }
            guard voters != [change.nodeID] else { return .failure(.invalidMembershipChange("cannot demote the last voter")) }
            voters.removeAll { $0 == change.nodeID }
            learners.append(change.nodeID)
        case .removeNode:
            guard isMember(change.nodeID) else { return .failure(.invalidMembershipChange("not a member")) }
            guard voters != [change.nodeID] else { return .failure(.invalidMembershipChange("cannot remove the last voter")) }
            voters.removeAll { $0 == change.nodeID }
            learners.removeAll { $0 == change.nodeID }
        }
        return .success(ConfState(voters: voters, learners: learners))
    }
}

/// A single-server membership change.
public struct ConfChange: Hashable, Sendable {
    public enum Operation: UInt8, Hashable, Sendable {
        case addVoter = 0
        /// Adds a new learner, or demotes a voter to learner.
        case addLearner = 1
        case removeNode = 2
    }

    public var operation: Operation
    public var nodeID: RaftNodeID

    public init(_ operation: Operation, _ nodeID: RaftNodeID) {
        self.operation = operation
        self.nodeID = nodeID
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [operation.rawValue]
        var v = nodeID
        for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: v)); v >>= 8 }
        return out
    }

    public init?(decoding bytes: [UInt8]) {
        guard bytes.count == 9, let op = Operation(rawValue: bytes[0]) else { return nil }
        var v: UInt64 = 0
        for i in (1...8).reversed() { v = v << 8 | UInt64(bytes[i]) }
        self.init(op, v)
    }
}

public struct SnapshotMetadata: Hashable, Sendable {
    public var index: LogIndex
    public var term: RaftTerm
    public var confState: ConfState

    public init(index: LogIndex = 0, term: RaftTerm = 0, confState: ConfState = ConfState()) {
        self.index = index
        self.term = term
        self.confState = confState
    }
}

/// A state-machine image at `metadata.index`. `data` is opaque to Raft: the application
/// decides whether it is the image itself or a handle to one (e.g. a RocksDB checkpoint).
public struct Snapshot: Hashable, Sendable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }
}

/// Where a proposal landed. An entry never moves: if the entry later applied at `index` has
/// a different term, this proposal was dropped and will never be applied.
public struct LogPosition: Hashable, Sendable {
    public var index: LogIndex
    public var term: RaftTerm

    public init(index: LogIndex, term: RaftTerm) {
        self.index = index
        self.term = term
    }
}

/// Why a request was not accepted. Every refusal is immediate and certain: nothing was
/// appended or sent on the caller's behalf.
public enum RaftRefusal: Error, Hashable, Sendable {
    case notLeader(leaderHint: RaftNodeID?)
    case leadershipTransferInProgress
    case membershipChangePending
    case noCommittedEntryInCurrentTerm
    case invalidMembershipChange(String)
    case uncommittedLogFull
    case entryTooLarge
    case tooManyPendingReads
    case notAMember
    case invalidRequest(String)
}

/// What a replica needs from stable storage to restart. `snapshot` is the latest persisted
/// snapshot (or a bootstrap one carrying only the initial membership at index 0).
public struct RaftPersistentState: Hashable, Sendable {
    public var hardState: HardState
    public var snapshot: Snapshot
    public var entries: [LogEntry]

    public init(hardState: HardState = HardState(), snapshot: Snapshot = Snapshot(metadata: SnapshotMetadata()), entries: [LogEntry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    /// A brand-new group: every initial voter starts from the same committed log of term 1
    /// holding one addVoter change per initial voter. The membership lives in the log (not in
    /// a snapshot) so a replica that joins later and replays from index 1 learns it too.
    public static func bootstrap(voters: [RaftNodeID]) -> RaftPersistentState {
        let sorted = Array(Set(voters)).sorted()
        let entries = sorted.enumerated().map { i, id in
            LogEntry(index: LogIndex(i + 1), term: 1, kind: .confChange, data: ConfChange(.addVoter, id).encoded())
        }
        return RaftPersistentState(hardState: HardState(term: 1, commit: LogIndex(entries.count)), entries: entries)
    }

    /// A replica about to be added to an existing group: no membership until the leader's
    /// log or snapshot tells it.
    public static let joining = RaftPersistentState()
}
