import StalDeterminism

/// One replica of one Raft group as a pure state machine: no I/O, no clock, no threads.
/// Time enters through `tick()`, the network through `step(_:)`, clients through
/// `propose`, `proposeConfChange`, `readIndex` and `transferLeadership`; everything the
/// driver must do comes out of `ready()` (see `Ready` for the persist, send, apply order).
///
/// Follows the Raft paper and thesis, shaped after etcd-io/raft: pre-vote, check-quorum,
/// per-follower progress with pipelining, ReadIndex and lease reads, leadership transfer,
/// learners, one-at-a-time membership changes, snapshots.
public struct RaftStateMachine: Sendable {
    public let config: RaftConfig
    public var id: RaftNodeID { config.id }
    public internal(set) var term: RaftTerm
    public internal(set) var vote: RaftNodeID
    public internal(set) var leader: RaftNodeID = raftNoNode
    public internal(set) var role: RaftRole = .follower
    /// Set when a peer asked for something that would break a safety property this replica
    /// can see locally (e.g. overwriting a committed entry). The request is refused; a
    /// production driver must stop the group and alert, the simulator fails the run.
    public internal(set) var integrityFault: String?
    public internal(set) var tracker: ProgressTracker
    public internal(set) var leadTransferee: RaftNodeID = raftNoNode

    var log: RaftLog
    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    /// Ticks since this process started the replica, capped at electionTicks: a restarted
    /// replica may have acknowledged a leader just before it crashed, so it keeps the
    /// leader's lease by refusing votes for one election timeout.
    var startupTicks = 0
    var localTicks: UInt64 = 0
    /// Cleared once this leader sends TimeoutNow: the transfer target campaigns without
    /// waiting for leases to expire, so this term's lease can no longer be trusted.
    var leaseUsable = true
    /// Index of the newest membership change a leader must see committed before it accepts
    /// another one.
    var pendingConfIndex: LogIndex = 0
    var latestConfIndex: LogIndex = 0
    var readQueue = ReadIndexQueue()
    var messages: [RaftMessage] = []
    var readStates: [ReadState] = []
    var random: any RandomSource
    var prevHardState: HardState
    var prevSoftState = SoftState(leader: raftNoNode, role: .follower)
    var readyOutstanding = false

    /// Starts a replica from what stable storage holds. `applied` is the index the
    /// application's state already reflects (nil: the snapshot's index, so every committed
    /// entry after it is handed out again).
    public init(config: RaftConfig, state: RaftPersistentState, applied: LogIndex? = nil, random: some RandomSource) {
        self.config = config
        self.random = random
        term = state.hardState.term
        vote = state.hardState.vote
        log = RaftLog(state: state, applied: applied)
        prevHardState = state.hardState
        tracker = ProgressTracker(confState: state.snapshot.metadata.confState, maxInflight: config.maxInflightAppends)
        refreshConfiguration()
        if state.hardState.commit > log.lastIndex {
            integrityFault = "hard state commit \(state.hardState.commit) beyond last index \(log.lastIndex)"
        }
        becomeFollower(term: term, leader: raftNoNode)
    }

    // MARK: - Observation

    public var status: RaftStatus {
        RaftStatus(id: id, term: term, vote: vote, leader: leader, role: role, commit: log.committed,
                   applied: log.applied, firstIndex: log.firstIndex, lastIndex: log.lastIndex,
                   confState: tracker.confState)
    }

    public var commitIndex: LogIndex { log.committed }
    public var lastIndex: LogIndex { log.lastIndex }
    public var snapshotIndex: LogIndex { log.snapshotIndex }
    public func term(at index: LogIndex) -> RaftTerm? { log.term(at: index) }
    public func entry(at index: LogIndex) -> LogEntry? { log.entry(at: index) }
    public var confState: ConfState { tracker.confState }

    // MARK: - Inputs

    public mutating func tick() {
        localTicks += 1
        if startupTicks < config.electionTicks { startupTicks += 1 }
        if role == .leader {
            tickLeader()
        } else {
            electionElapsed += 1
            if isPromotable && electionElapsed >= randomizedElectionTimeout {
                electionElapsed = 0
                startElection(transfer: false)
            }
        }
    }

    /// Starts an election now (bootstrap, tests, operator command).
    public mutating func campaign() {
        startElection(transfer: false)
    }

    public mutating func propose(_ data: [UInt8]) -> Result<LogPosition, RaftRefusal> {
        if let refusal = proposalRefusal() { return .failure(refusal) }
        guard data.count <= config.maxEntryBytes else { return .failure(.entryTooLarge) }
        appendAsLeader([LogEntry(index: 0, term: 0, kind: .normal, data: data)])
        broadcastAppend()
        return .success(LogPosition(index: log.lastIndex, term: term))
    }

    /// Proposes a single-server membership change. Refused while an earlier change is not
    /// committed, and until this leader has committed an entry of its own term (the fix to
    /// the single-server change bug in Ongaro's raft-dev post of 2015).
    public mutating func proposeConfChange(_ change: ConfChange) -> Result<LogPosition, RaftRefusal> {
        if let refusal = proposalRefusal() { return .failure(refusal) }
        guard committedEntryInCurrentTerm else { return .failure(.noCommittedEntryInCurrentTerm) }
        guard log.committed >= pendingConfIndex else { return .failure(.membershipChangePending) }
        if case .failure(let refusal) = tracker.confState.applying(change) { return .failure(refusal) }
        appendAsLeader([LogEntry(index: 0, term: 0, kind: .confChange, data: change.encoded())])
        pendingConfIndex = log.lastIndex
        broadcastAppend()
        return .success(LogPosition(index: log.lastIndex, term: term))
    }

    /// Asks for a read index. On success a `ReadState` with `context` arrives in a later
    /// Ready (possibly never, if leadership is lost: callers time out). Followers forward the
    /// request to the leader; forwarded reads always use `.safe`.
    public mutating func readIndex(context: [UInt8], mode: ReadMode = .safe) -> RaftRefusal? {
        guard !context.isEmpty else { return .invalidRequest("empty read context") }
        if role != .leader {
            guard leader != raftNoNode else { return .notLeader(leaderHint: nil) }
            send(RaftMessage(kind: .readIndex, from: id, to: leader, context: context))
            return nil
        }
        return handleReadIndex(context: context, requester: id, mode: mode)
    }

    /// Hands leadership to `target` (thesis §3.10). Proposals are refused until the
    /// transfer completes or is abandoned after one election timeout.
    public mutating func transferLeadership(to target: RaftNodeID) -> RaftRefusal? {
        guard role == .leader else { return .notLeader(leaderHint: leader == raftNoNode ? nil : leader) }
        guard tracker.isVoter(target), target != id else { return .invalidRequest("transfer target is not another voter") }
        if leadTransferee == target { return nil }
        leadTransferee = target
        electionElapsed = 0
        if tracker.progress[target]?.match == log.lastIndex {
            sendTimeoutNow(to: target)
        } else {
            sendAppend(to: target)
        }
        return nil
    }

    /// The transport could not reach `peer`: stop streaming to it and probe instead.
    public mutating func reportUnreachable(_ peer: RaftNodeID) {
        guard role == .leader, tracker.progress[peer]?.state == .replicate else { return }
        tracker.progress[peer]?.becomeProbe()
    }

    /// The transport finished (or gave up) sending a snapshot to `peer`.
    public mutating func reportSnapshot(to peer: RaftNodeID, succeeded: Bool) {
        guard role == .leader, var pr = tracker.progress[peer], pr.state == .snapshot else { return }
        if !succeeded { pr.pendingSnapshot = 0 }
        pr.becomeProbe()
        // Wait for the next heartbeat response before probing again.
        pr.probeSent = true
        tracker.progress[peer] = pr
    }

    /// Discards entries up to `index` (which must be applied) behind a snapshot whose
    /// state-machine image is `data`. Returns the snapshot for the driver to persist before
    /// it deletes the same entries from storage; nil when there is nothing to compact.
    public mutating func compact(through index: LogIndex, data: [UInt8]) -> Snapshot? {
        guard index > log.snapshotIndex, index <= log.applied, index <= log.stableIndex,
              let t = log.term(at: index) else { return nil }
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: index, term: t, confState: configuration(through: index)), data: data)
        log.compact(snapshot)
        return snapshot
    }

    public mutating func step(_ m: RaftMessage) {
        guard m.to == id else { return }
        if m.term > term {
            if m.kind == .requestVote || m.kind == .requestPreVote {
                let inLease = config.checkQuorum && electionElapsed < config.electionTicks
                    && (leader != raftNoNode || startupTicks < config.electionTicks)
                if !m.leaderTransfer && inLease { return }
            }
            switch m.kind {
            case .requestPreVote:
                break
            case .requestPreVoteResponse where !m.reject:
                break
            case .append, .heartbeat, .snapshot:
                becomeFollower(term: m.term, leader: m.from)
            default:
                becomeFollower(term: m.term, leader: raftNoNode)
            }
        } else if m.term < term {
            if (config.checkQuorum || config.preVote) && (m.kind == .heartbeat || m.kind == .append) {
                // A deposed leader learns the new term and steps down.
                send(RaftMessage(kind: .appendResponse, from: id, to: m.from))
            } else if m.kind == .requestPreVote {
                send(RaftMessage(kind: .requestPreVoteResponse, from: id, to: m.from, term: term, reject: true))
            }
            return
        }

        switch m.kind {
        case .requestVote, .requestPreVote:
            handleVoteRequest(m)
            return
        default:
            break
        }
        switch role {
        case .leader: stepLeader(m)
        case .candidate, .preCandidate: stepCandidate(m)
        case .follower: stepFollower(m)
        }
    }

    // MARK: - Ready

    public var hasReady: Bool {
        guard !readyOutstanding else { return false }
        return !messages.isEmpty || !readStates.isEmpty || log.unstableSnapshot != nil
            || !log.unstableEntries.isEmpty || log.hasEntriesToApply
            || hardState != prevHardState || softState != prevSoftState
    }

    public mutating func ready() -> Ready {
        precondition(!readyOutstanding, "raft: ready() called twice without advance()")
        var r = Ready()
        let ss = softState
        if ss != prevSoftState { r.softState = ss }
        let hs = hardState
        if hs != prevHardState { r.hardState = hs }
        r.snapshot = log.unstableSnapshot
        r.entries = Array(log.unstableEntries)
        r.committedEntries = Array(log.entriesToApply())
        r.messages = messages
        messages = []
        r.readStates = readStates
        readStates = []
        r.mustSync = !r.entries.isEmpty || r.snapshot != nil || hs.term != prevHardState.term || hs.vote != prevHardState.vote
        if config.testingFaults.contains(.acknowledgeBeforeSync) { r.mustSync = false }
        readyOutstanding = true
        return r
    }

    public mutating func advance(_ r: Ready) {
        if let hs = r.hardState { prevHardState = hs }
        if let ss = r.softState { prevSoftState = ss }
        if let snap = r.snapshot { log.stableSnapshot(snap.metadata.index) }
        if let last = r.entries.last { log.stable(to: last.index, term: last.term) }
        if let last = r.committedEntries.last { log.applied(to: last.index) }
        readyOutstanding = false
    }

    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    var softState: SoftState { SoftState(leader: leader, role: role) }

    // MARK: - Shared internals

    var isPromotable: Bool { tracker.isVoter(id) && log.unstableSnapshot == nil }

    var committedEntryInCurrentTerm: Bool { log.term(at: log.committed) == term }

    func proposalRefusal() -> RaftRefusal? {
        guard role == .leader else { return .notLeader(leaderHint: leader == raftNoNode ? nil : leader) }
        guard tracker.isVoter(id) else { return .notAMember }
        guard leadTransferee == raftNoNode else { return .leadershipTransferInProgress }
        guard log.lastIndex - log.committed < LogIndex(config.maxUncommittedEntries) else { return .uncommittedLogFull }
        return nil
    }

    mutating func send(_ m: RaftMessage) {
        var m = m
        m.from = id
        switch m.kind {
        case .requestVote, .requestPreVote, .requestVoteResponse, .requestPreVoteResponse:
            break
        default:
            m.term = term
        }
        messages.append(m)
    }

    mutating func reset(term newTerm: RaftTerm) {
        if term != newTerm {
            term = newTerm
            vote = raftNoNode
        }
        leader = raftNoNode
        electionElapsed = 0
        heartbeatElapsed = 0
        randomizedElectionTimeout = config.electionTicks + Int(random.next(below: UInt64(config.electionTicks)))
        leadTransferee = raftNoNode
        leaseUsable = true
        tracker.resetVotes()
        tracker.resetProgress(lastIndex: log.lastIndex, selfID: id)
        pendingConfIndex = 0
        readQueue.removeAll()
    }

    mutating func becomeFollower(term newTerm: RaftTerm, leader newLeader: RaftNodeID) {
        reset(term: newTerm)
        leader = newLeader
        role = .follower
    }

    /// The membership in force at `index`: the snapshot's, then every change in the log up
    /// to `index`, in order. `configuration(through: commitIndex)` is the committed one.
    public func configuration(through index: LogIndex) -> ConfState {
        var conf = log.snapshotMetadata.confState
        guard index > log.snapshotIndex else { return conf }
        for e in log.entries where e.index <= index && e.kind == .confChange {
            if let change = ConfChange(decoding: e.data), case .success(let next) = conf.applying(change) {
                conf = next
            }
        }
        return conf
    }

    /// Recomputes membership after the log changed (append, truncation, snapshot).
    mutating func refreshConfiguration() {
        latestConfIndex = log.entries.last(where: { $0.kind == .confChange })?.index ?? log.snapshotIndex
        let conf = configuration(through: log.lastIndex)
        guard conf != tracker.confState else { return }
        tracker.setConfiguration(conf, nextIndex: log.lastIndex + 1)
        if role == .leader {
            if leadTransferee != raftNoNode && !conf.isVoter(leadTransferee) { leadTransferee = raftNoNode }
            if maybeCommit() { broadcastAppend() }
        }
    }
}
