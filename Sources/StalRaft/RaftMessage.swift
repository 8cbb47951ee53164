/// A message between replicas of one group. A multi-Raft node driver wraps it with the
/// group id; the core never sees other groups.
public struct RaftMessage: Hashable, Sendable {
    public enum Kind: UInt8, Hashable, Sendable, CaseIterable {
        case append = 0
        case appendResponse = 1
        case requestVote = 2
        case requestVoteResponse = 3
        case requestPreVote = 4
        case requestPreVoteResponse = 5
        case heartbeat = 6
        case heartbeatResponse = 7
        case snapshot = 8
        case timeoutNow = 9
        case readIndex = 10
        case readIndexResponse = 11
    }

    public var kind: Kind
    public var from: RaftNodeID
    public var to: RaftNodeID
    public var term: RaftTerm
    /// append: term of the entry at `index`; vote: candidate's last log term;
    /// rejected appendResponse: term of the follower's entry at `rejectHint`.
    public var logTerm: RaftTerm
    /// append: index preceding `entries`; vote: candidate's last index; appendResponse:
    /// highest index now matching (or the rejected index); readIndexResponse: read index.
    public var index: LogIndex
    public var entries: [LogEntry]
    public var commit: LogIndex
    public var reject: Bool
    public var rejectHint: LogIndex
    public var snapshot: Snapshot?
    /// ReadIndex request identity, echoed through heartbeats.
    public var context: [UInt8]
    /// Leader's local tick count when it sent a heartbeat, echoed back so the leader can
    /// date its lease from the send time rather than the receive time.
    public var leaseTick: UInt64
    /// A vote request caused by leadership transfer: voters answer even inside a lease.
    public var leaderTransfer: Bool

    public init(kind: Kind, from: RaftNodeID, to: RaftNodeID, term: RaftTerm = 0, logTerm: RaftTerm = 0,
                index: LogIndex = 0, entries: [LogEntry] = [], commit: LogIndex = 0, reject: Bool = false,
                rejectHint: LogIndex = 0, snapshot: Snapshot? = nil, context: [UInt8] = [],
                leaseTick: UInt64 = 0, leaderTransfer: Bool = false) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.snapshot = snapshot
        self.context = context
        self.leaseTick = leaseTick
        self.leaderTransfer = leaderTransfer
    }
}

extension RaftMessage: CustomStringConvertible {
    public var description: String {
        var s = "\(kind) \(from)->\(to) t\(term)"
        switch kind {
        case .append:
            s += " i\(index)/t\(logTerm) n\(entries.count) c\(commit)"
        case .appendResponse:
            s += reject ? " reject i\(index) hint \(rejectHint)/t\(logTerm)" : " i\(index)"
        case .requestVote, .requestPreVote:
            s += " last \(index)/t\(logTerm)\(leaderTransfer ? " transfer" : "")"
        case .requestVoteResponse, .requestPreVoteResponse:
            s += reject ? " reject" : " grant"
        case .heartbeat:
            s += " c\(commit)"
        case .snapshot:
            s += " snap \(snapshot?.metadata.index ?? 0)/t\(snapshot?.metadata.term ?? 0)"
        case .readIndexResponse:
            s += " i\(index)"
        case .heartbeatResponse, .timeoutNow, .readIndex:
            break
        }
        return s
    }
}
