import StalCore

/// How a leader confirms it is still leader before serving a read.
public enum ReadMode: UInt8, Hashable, Sendable {
    /// ReadIndex (Raft thesis §6.4): a heartbeat round acknowledged by a quorum. Safe under
    /// any clock behaviour.
    case safe
    /// Leader lease (thesis §6.4.1): no round trip while the lease holds. Safe only under
    /// the bounded clock-drift assumption written in docs/raft.md; falls back to `.safe`
    /// when the lease has lapsed.
    case leaseBased
}

/// Deliberate safety bugs, for proving the simulator catches them. Production code never
/// sets these; `RaftConfig.validate` rejects them unless `allowTestingFaults` is passed.
public struct RaftTestingFaults: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Commit an entry from an earlier term once a majority stores it (violates §5.4.2).
    public static let commitPreviousTermEntriesByCounting = RaftTestingFaults(rawValue: 1 << 0)
    /// Grant a vote to every up-to-date candidate, even after voting in this term (§5.2).
    public static let grantMultipleVotesPerTerm = RaftTestingFaults(rawValue: 1 << 1)
    /// Report `mustSync == false` for every Ready, so a driver acknowledges writes and votes
    /// before they are durable.
    public static let acknowledgeBeforeSync = RaftTestingFaults(rawValue: 1 << 2)
}

/// Every knob of one replica, each with a default and a unit in its name.
public struct RaftConfig: Hashable, Sendable {
    public var id: RaftNodeID
    /// Followers start an election after a random timeout in
    /// [electionTicks, 2 * electionTicks) ticks without hearing from a leader.
    public var electionTicks: Int = 10
    public var heartbeatTicks: Int = 1
    public var preVote: Bool = true
    /// Leaders step down after electionTicks without hearing from a quorum; followers ignore
    /// vote requests while they have heard from a leader within electionTicks.
    public var checkQuorum: Bool = true
    /// Leases are shortened by this many ticks to absorb clock drift (docs/raft.md).
    public var leaseSafetyMarginTicks: Int = 2
    /// Proposals larger than this are refused before they reach the log: entries carry
    /// commands, not message bodies (blobs are stored before the command is proposed).
    public var maxEntryBytes: Int = 1 << 20
    public var maxEntriesPerAppend: Int = 64
    public var maxBytesPerAppend: Int = 1 << 20
    /// Append messages in flight to one follower in replicate state.
    public var maxInflightAppends: Int = 256
    /// Proposals are refused while this many entries are appended but not committed.
    public var maxUncommittedEntries: Int = 10_000
    public var maxPendingReads: Int = 4096
    public var testingFaults: RaftTestingFaults = []

    public init(id: RaftNodeID) {
        self.id = id
    }

    public func validate(allowTestingFaults: Bool = false) throws(StalError) {
        guard id != raftNoNode else { throw StalError(.invalidArgument, "raft: node id 0 is reserved") }
        guard heartbeatTicks > 0, electionTicks > heartbeatTicks else {
            throw StalError(.invalidArgument, "raft: need 0 < heartbeatTicks < electionTicks")
        }
        guard leaseSafetyMarginTicks >= 0, leaseSafetyMarginTicks < electionTicks else {
            throw StalError(.invalidArgument, "raft: leaseSafetyMarginTicks must be in [0, electionTicks)")
        }
        guard maxEntryBytes > 0, maxEntriesPerAppend > 0, maxBytesPerAppend > 0, maxInflightAppends > 0,
              maxUncommittedEntries > 0, maxPendingReads > 0 else {
            throw StalError(.invalidArgument, "raft: limits must be positive")
        }
        guard testingFaults.isEmpty || allowTestingFaults else {
            throw StalError(.invalidArgument, "raft: testing faults are for the simulator only")
        }
    }
}
