/// Everything one replica needs its driver to do, handed out by
/// `RaftStateMachine.ready()` and acknowledged by `advance(_:)`.
///
/// The driver MUST act in this order:
/// 1. Persist: write `snapshot` (if any; it replaces the log up to its index), then
///    `entries` (an entry at index i replaces the stored entry at i and everything after
///    it), then `hardState`. If `mustSync`, make them durable (fsync) before step 2.
///    Many groups' writes may share one batch and one fsync (group commit).
/// 2. Send `messages`. They may acknowledge the writes of step 1 (votes, append
///    responses), which is why they wait for durability. The exception: a leader's
///    `append` and `heartbeat` messages may be sent before step 1 (Raft thesis §10.2.1),
///    provided the driver steps no message into this replica until step 1 is durable: the
///    leader counts its own new entries toward a commit, and only a follower's
///    acknowledgement, stepped after the write, can complete that quorum.
/// 3. Apply: restore `snapshot` into the state machine, then apply `committedEntries` in
///    order. Serve `readStates` once the applied index reaches each one's `index`.
///    Committed entries below the first of this Ready's `entries` were made durable by an
///    earlier Ready, so without a `snapshot` they may be applied before step 1.
/// 4. Call `advance(ready)`. Until then `hasReady` is false; ticks, messages and proposals
///    may still be stepped in, and their effects arrive in the next Ready.
public struct Ready: Sendable {
    public var softState: SoftState?
    public var hardState: HardState?
    public var snapshot: Snapshot?
    public var entries: [LogEntry] = []
    public var committedEntries: [LogEntry] = []
    public var messages: [RaftMessage] = []
    public var readStates: [ReadState] = []
    /// False when only the commit index or volatile state changed: the writes may then be
    /// batched without an fsync, because a lost commit index is relearned from the leader.
    public var mustSync: Bool = false

    public init() {}
}

/// Volatile state worth reporting when it changes (for routing and metrics).
public struct SoftState: Hashable, Sendable {
    public var leader: RaftNodeID
    public var role: RaftRole
}

public enum RaftRole: UInt8, Hashable, Sendable {
    case follower
    case preCandidate
    case candidate
    case leader
}

/// A read identified by `context` may be served once the local applied index is at least
/// `index`.
public struct ReadState: Hashable, Sendable {
    public var index: LogIndex
    public var context: [UInt8]

    public init(index: LogIndex, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}

public struct RaftStatus: Hashable, Sendable {
    public var id: RaftNodeID
    public var term: RaftTerm
    public var vote: RaftNodeID
    public var leader: RaftNodeID
    public var role: RaftRole
    public var commit: LogIndex
    public var applied: LogIndex
    public var firstIndex: LogIndex
    public var lastIndex: LogIndex
    public var confState: ConfState
}
