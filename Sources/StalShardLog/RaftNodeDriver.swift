#if canImport(Glibc)
import Glibc
#endif
import StalCore
import StalDeterminism
import StalRaft
import StalStorage

/// One group's state as this node sees it, for `GET /api/v1/cluster/status` and tests.
public struct RaftGroupStatus: Hashable, Sendable {
    public var shard: UInt64
    public var role: RaftRole
    public var leader: RaftNodeID
    public var term: RaftTerm
    public var commit: LogIndex
    public var applied: LogIndex
}

/// A local request reached a replica that is not the leader (`leader` when known).
struct NotLeader: Error {
    var leader: RaftNodeID?
}

/// Runs every Raft group a node hosts on ONE loop thread, over one engine. Each cycle
/// follows the Ready contract for all groups at once: one engine write holding every
/// group's log entries and hard state (fsynced when any group needs it: group commit
/// across groups and proposers), then the messages, then the committed entries applied
/// through each group's `ShardStateMachine` (effects and applied index in one more batch),
/// then proposers and readers are resumed. A tick thread feeds logical time.
///
/// Proposals are matched to log positions: an entry applied at a proposal's index with
/// the proposal's term is its result; any other term at that index means the proposal was
/// lost, and it fails with `.unavailable` so the caller retries.
public final class RaftNodeDriver: RaftTransportReceiver, @unchecked Sendable {
    public struct Options: Sendable {
        /// One Raft tick. Election timeouts are `electionTicks` of these.
        public var tickInterval: Duration = .milliseconds(10)
        public var electionTicks = 10
        public var heartbeatTicks = 1
        /// Proposals, reads and inbound message batches waiting for the loop; beyond it
        /// proposals fail fast with `.unavailable` and peer messages are dropped.
        public var inboundMax = 100_000
        /// A group compacts its log once this many entries are applied past its snapshot.
        public var compactAfterEntries: UInt64 = 10_000
        /// A read whose read index has not arrived after this many ticks fails (`.unavailable`).
        public var readTimeoutTicks: UInt64 = 500
        /// Bound on a proposal forwarded to the leader.
        public var forwardTimeout: Duration = .seconds(5)
        /// How long a proposal or read waits for a leader to be known before failing.
        public var leaderWait: Duration = .seconds(5)
        /// Seeds the randomized election timeouts; nil draws a seed from the system.
        public var randomSeed: UInt64?

        public init() {}
    }

    public struct Statistics: Hashable, Sendable {
        /// Ready cycles that wrote anything.
        public var cycles: UInt64 = 0
        /// Cycle writes that were fsynced (one per cycle at most, whatever the group count).
        public var syncedWrites: UInt64 = 0
        public var appliedEntries: UInt64 = 0
        public var snapshotsInstalled: UInt64 = 0
        public var compactions: UInt64 = 0
    }

    private enum Input {
        case add(GroupRuntime, RaftStateMachine)
        case propose(group: UInt64, data: [UInt8], CheckedContinuation<CommandResult, any Error>)
        case read(group: UInt64, CheckedContinuation<Void, any Error>)
        case messages([RaftGroupMessage])
        case unreachable(RaftNodeID)
        case snapshotStatus(group: UInt64, node: RaftNodeID, delivered: Bool)
    }

    private struct PendingProposal {
        var term: RaftTerm
        var continuation: CheckedContinuation<CommandResult, any Error>
    }

    private struct PendingRead {
        var deadlineTick: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// Loop-thread state of one group.
    private final class GroupRuntime {
        let shard: UInt64
        let stateMachine: any ShardStateMachine
        var applied: LogIndex
        var lastAppliedTerm: RaftTerm = 0
        var proposals: [LogIndex: PendingProposal] = [:]
        var reads: [[UInt8]: PendingRead] = [:]
        var readsAwaitingApply: [(index: LogIndex, continuation: CheckedContinuation<Void, any Error>)] = []

        init(shard: UInt64, stateMachine: any ShardStateMachine, applied: LogIndex) {
            self.shard = shard
            self.stateMachine = stateMachine
            self.applied = applied
        }
    }

    public let nodeID: RaftNodeID
    public let peers: [RaftNodeID]
    public let options: Options
    let transport: (any RaftTransport)?
    private let engine: any KVEngine

    private let queue = ConditionLock()
    private var inbox: [Input] = []
    private var ticksDue = 0
    private var stopping = false
    private var failure: StalError?
    private var statuses: [UInt64: RaftGroupStatus] = [:]
    private var stats = Statistics()
    private var loopThread: WriterThread?
    private var tickThread: WriterThread?

    // Loop thread only.
    private var groups = RaftGroupSet()
    private var runtimes: [UInt64: GroupRuntime] = [:]
    private var tickCount: UInt64 = 0
    private var readSequence: UInt64 = 0

    /// - Parameters:
    ///   - peers: the other nodes; every group this driver hosts has `[nodeID] + peers` as
    ///     its initial voters. Empty: one-replica groups that elect themselves at once.
    ///   - transport: nil for a single node.
    public init(engine: any KVEngine, nodeID: RaftNodeID, peers: [RaftNodeID] = [], transport: (any RaftTransport)?,
                options: Options = Options()) throws {
        guard nodeID != raftNoNode, !peers.contains(nodeID), !peers.contains(raftNoNode) else {
            throw StalError(.invalidArgument, "raft node id \(nodeID) with peers \(peers)")
        }
        guard peers.isEmpty || transport != nil else {
            throw StalError(.invalidArgument, "raft peers need a transport")
        }
        self.engine = engine
        self.nodeID = nodeID
        self.peers = peers
        self.transport = transport
        self.options = options
        try raftConfig().validate()
        let loop = WriterThread { self.run() }
        let ticker = WriterThread { self.runTicks() }
        loopThread = loop
        tickThread = ticker
        loop.start()
        ticker.start()
        do {
            try transport?.start(self)
        } catch {
            shutdown()
            throw error
        }
    }

    private func raftConfig() -> RaftConfig {
        var config = RaftConfig(id: nodeID)
        config.electionTicks = options.electionTicks
        config.heartbeatTicks = options.heartbeatTicks
        return config
    }

    // MARK: groups

    /// Starts hosting `shard`: recovers its log from the engine (or bootstraps it with this
    /// node and the peers as voters), then replays entries committed but not yet applied.
    public func addGroup(shard: UInt64, stateMachine: any ShardStateMachine) throws -> RaftShardLog {
        var state: RaftPersistentState
        if let recovered = try RaftLogStore.recover(engine, group: shard) {
            state = recovered
        } else {
            state = .bootstrap(voters: [nodeID] + peers)
            try engine.write(RaftLogStore.operations(RaftWriteBatch.initial(group: shard, state: state)), sync: true)
        }
        let applied = try RaftLogStore.appliedIndex(engine, shard: shard)
        guard applied >= state.snapshot.metadata.index else {
            throw StalError(.corrupted, "shard \(shard): applied \(applied) behind snapshot \(state.snapshot.metadata.index)")
        }
        if !peers.isEmpty && (state.snapshot.metadata.index > 0 || applied > 0) {
            state = try rebase(state, shard: shard, applied: applied, families: stateMachine.stateFamilies)
        }
        var random = SystemRandom()
        let seed = (options.randomSeed ?? random.next()) &+ shard &* 0x9E37_79B9_7F4A_7C15
        let replica = RaftStateMachine(config: raftConfig(), state: state, applied: applied, random: SeededRandom(seed: seed))
        let runtime = GroupRuntime(shard: shard, stateMachine: stateMachine, applied: applied)
        try queue.withLock {
            if let failure { throw failure }
            guard !stopping else { throw StalError(.unavailable, "raft driver is shut down") }
            guard statuses[shard] == nil else { throw StalError(.alreadyExists, "shard \(shard) is already hosted") }
            statuses[shard] = Self.status(shard: shard, replica.status)
            inbox.append(.add(runtime, replica))
            queue.broadcast()
        }
        // Readers go to the engine directly, so the group is handed out only once the
        // entries it had committed before a restart are applied: a reader never sees the
        // state move under it while the log is replayed.
        let recoveredCommit = state.hardState.commit
        try queue.withLock {
            while (statuses[shard]?.applied ?? 0) < recoveredCommit {
                if let failure { throw failure }
                guard !stopping else { throw StalError(.unavailable, "raft driver is shut down") }
                queue.wait()
            }
        }
        return RaftShardLog(shard: shard, driver: self)
    }

    /// A restarted replica keeps its snapshot image only as the state machine's state, which
    /// has moved on to `applied`. Makes the in-memory snapshot that image at `applied`, so a
    /// lagging follower can be sent it (the log before `applied` is dropped, like a
    /// compaction).
    private func rebase(_ state: RaftPersistentState, shard: UInt64, applied: LogIndex,
                        families: [ColumnFamily]) throws -> RaftPersistentState {
        var state = state
        let image = try ShardStateImage.capture(engine.snapshot(), families: families)
        let base = state.snapshot.metadata
        if applied > base.index {
            guard let entry = state.entries.first(where: { $0.index == applied }) else {
                throw StalError(.corrupted, "shard \(shard): applied index \(applied) not in the log")
            }
            var conf = base.confState
            for e in state.entries where e.index <= applied && e.kind == .confChange {
                if let change = ConfChange(decoding: e.data), case let .success(next) = conf.applying(change) { conf = next }
            }
            state.snapshot = Snapshot(metadata: SnapshotMetadata(index: applied, term: entry.term, confState: conf), data: image)
            state.entries.removeAll { $0.index <= applied }
            try engine.write(RaftLogStore.operations(RaftWriteBatch.compaction(group: shard, snapshot: state.snapshot)), sync: true)
        } else {
            state.snapshot.data = image
        }
        return state
    }

    /// Every hosted group's status, in shard order.
    public var groupStatuses: [RaftGroupStatus] {
        queue.withLock { statuses.values.sorted { $0.shard < $1.shard } }
    }

    public var statistics: Statistics { queue.withLock { stats } }

    /// Inputs waiting for the loop thread.
    public var queuedInputs: Int { queue.withLock { inbox.count } }

    func status(of shard: UInt64) -> RaftGroupStatus? {
        queue.withLock { statuses[shard] }
    }

    private static func status(shard: UInt64, _ s: RaftStatus) -> RaftGroupStatus {
        RaftGroupStatus(shard: shard, role: s.role, leader: s.leader, term: s.term, commit: s.commit, applied: s.applied)
    }

    // MARK: requests

    private func enqueue(_ input: Input, orFail fail: (any Error) -> Void) {
        queue.lock()
        if let failure {
            queue.unlock()
            fail(failure)
            return
        }
        if stopping {
            queue.unlock()
            fail(StalError(.unavailable, "raft driver is shut down"))
            return
        }
        if inbox.count >= options.inboundMax {
            queue.unlock()
            fail(StalError(.unavailable, "raft driver queue is full"))
            return
        }
        inbox.append(input)
        queue.broadcast()
        queue.unlock()
    }

    /// Proposes on this replica; throws `NotLeader` when it is not the leader.
    func proposeLocally(group: UInt64, data: [UInt8]) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.propose(group: group, data: data, continuation)) { continuation.resume(throwing: $0) }
        }
    }

    /// Returns once this replica has applied everything committed when the read began;
    /// throws `NotLeader(leader: nil)` while no leader is known.
    func readLocally(group: UInt64) async throws {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.read(group: group, continuation)) { continuation.resume(throwing: $0) }
        }
    }

    /// Stops the loop and tick threads. Proposals already queued are still proposed and,
    /// when they commit within the final cycles, answered; everything else fails with
    /// `.unavailable`. The transport is the caller's to shut down.
    public func shutdown() {
        queue.withLock {
            stopping = true
            queue.broadcast()
        }
        let threads = queue.withLock { () -> [WriterThread] in
            defer { loopThread = nil; tickThread = nil }
            return [loopThread, tickThread].compactMap { $0 }
        }
        for t in threads { t.join() }
    }

    // MARK: RaftTransportReceiver

    public func received(_ messages: [RaftGroupMessage]) {
        enqueue(.messages(messages)) { _ in }
    }

    public func unreachable(_ node: RaftNodeID) {
        enqueue(.unreachable(node)) { _ in }
    }

    public func snapshotStatus(group: UInt64, to node: RaftNodeID, delivered: Bool) {
        enqueue(.snapshotStatus(group: group, node: node, delivered: delivered)) { _ in }
    }

    public func handleRequest(_ payload: [UInt8], from node: RaftNodeID) async throws -> [UInt8] {
        let request = try ForwardedRequest(decoding: payload)
        switch request {
        case let .propose(group, command):
            do {
                return ForwardedRequest.response(.success(try await proposeLocally(group: group, data: command)))
            } catch is NotLeader {
                return ForwardedRequest.response(.failure(StalError(.unavailable, "node \(nodeID) is not the leader of shard \(group)")))
            } catch let error as StalError {
                return ForwardedRequest.response(.failure(error))
            }
        }
    }

    // MARK: the loop

    private func runTicks() {
        let nanos = options.tickInterval.components.seconds * 1_000_000_000
            + options.tickInterval.components.attoseconds / 1_000_000_000
        var interval = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
        while true {
            var remaining = timespec()
            nanosleep(&interval, &remaining)
            let stop = queue.withLock {
                ticksDue += 1
                queue.broadcast()
                return stopping
            }
            if stop { return }
        }
    }

    private func run() {
        var finalRounds = 0
        while true {
            queue.lock()
            while inbox.isEmpty && ticksDue == 0 && !stopping && !groups.hasReady { queue.wait() }
            let inputs = inbox
            inbox = []
            let ticks = ticksDue
            ticksDue = 0
            let stop = stopping
            queue.unlock()

            for input in inputs { handle(input) }
            for _ in 0..<ticks {
                groups.tick()
                tickCount += 1
            }
            if ticks > 0 { expireReads() }
            if groups.hasReady {
                do {
                    try cycle()
                } catch {
                    let stalError = error as? StalError ?? StalError(.storage, "\(error)")
                    queue.withLock { failure = stalError }
                    failEverything(stalError)
                    return
                }
            }
            publishStatuses()
            if stop {
                finalRounds += 1
                if !groups.hasReady || finalRounds > 100 {
                    failEverything(StalError(.unavailable, "raft driver is shut down"))
                    return
                }
            }
        }
    }

    private func handle(_ input: Input) {
        switch input {
        case let .add(runtime, replica):
            groups.add(group: runtime.shard, replica: replica)
            runtimes[runtime.shard] = runtime
            if peers.isEmpty { groups.with(group: runtime.shard) { $0.campaign() } }
        case let .propose(group, data, continuation):
            guard let runtime = runtimes[group],
                  let outcome = groups.with(group: group, { $0.propose(data) }) else {
                continuation.resume(throwing: StalError(.notFound, "shard \(group) is not hosted here"))
                return
            }
            switch outcome {
            case let .success(position):
                runtime.proposals[position.index] = PendingProposal(term: position.term, continuation: continuation)
            case let .failure(.notLeader(hint)):
                continuation.resume(throwing: NotLeader(leader: hint))
            case .failure(.entryTooLarge):
                continuation.resume(throwing: StalError(.limitExceeded, "shard \(group): command too large for the log"))
            case let .failure(refusal):
                continuation.resume(throwing: StalError(.unavailable, "shard \(group): \(refusal)"))
            }
        case let .read(group, continuation):
            guard let runtime = runtimes[group] else {
                continuation.resume(throwing: StalError(.notFound, "shard \(group) is not hosted here"))
                return
            }
            readSequence += 1
            var context = ByteWriter(capacity: 16)
            context.u64(nodeID)
            context.u64(readSequence)
            switch groups.with(group: group, { $0.readIndex(context: context.bytes) }) ?? nil {
            case nil:
                runtime.reads[context.bytes] = PendingRead(deadlineTick: tickCount + options.readTimeoutTicks,
                                                           continuation: continuation)
            case .notLeader?:
                continuation.resume(throwing: NotLeader(leader: nil))
            case let refusal?:
                continuation.resume(throwing: StalError(.unavailable, "shard \(group): \(refusal)"))
            }
        case let .messages(messages):
            for m in messages { groups.step(m) }
        case let .unreachable(node):
            for id in groups.groupIDs { groups.with(group: id) { $0.reportUnreachable(node) } }
        case let .snapshotStatus(group, node, delivered):
            groups.with(group: group) { $0.reportSnapshot(to: node, succeeded: delivered) }
        }
    }

    private func expireReads() {
        for runtime in runtimes.values {
            for (context, read) in runtime.reads where read.deadlineTick <= tickCount {
                runtime.reads[context] = nil
                read.continuation.resume(throwing: StalError(.unavailable, "shard \(runtime.shard): read index timed out"))
            }
        }
    }

    private struct AppliedEntry {
        var entry: LogEntry
        var command: ShardCommand?
        var result: CommandResult
    }

    private func cycle() throws {
        let batch = groups.ready()

        // 0. A leader's appends and heartbeats go out before its own write, so followers
        // write in parallel with it (Raft thesis §10.2.1). This is safe because the leader's
        // entries can only commit when a follower's acknowledgement is stepped, and this loop
        // steps nothing before the write below has finished. Everything else (votes, append
        // responses) acknowledges this write and waits for it.
        let (leaderMessages, acknowledgements) = Self.splitLeaderMessages(batch.messages)
        if let transport, !leaderMessages.isEmpty {
            transport.send(Self.groupedByPeer(leaderMessages))
        }

        // 0b. Committed entries below this Ready's new entries are durable here already (and
        // on a quorum): apply them and answer their proposers now, instead of after this
        // cycle's fsync, which only concerns newer entries. etcd applies in parallel with its
        // WAL write for the same reason.
        var counted = Statistics()
        try applyCommitted(batch, onlyAlreadyDurable: true, counted: &counted)

        // 1. Persist every group's Ready (and installed snapshot images) in one write.
        var write = RaftLogStore.operations(batch.mutations)
        for g in batch.groups {
            guard let snapshot = g.ready.snapshot, let runtime = runtimes[g.group] else { continue }
            try ShardStateImage.install(snapshot.data, families: runtime.stateMachine.stateFamilies, current: engine, into: &write)
            RaftLogStore.putApplied(snapshot.metadata.index, shard: runtime.shard, into: &write)
        }
        if !write.isEmpty { try engine.write(write, sync: batch.mustSync) }
        counted.cycles = write.isEmpty ? 0 : 1
        counted.syncedWrites = !write.isEmpty && batch.mustSync ? 1 : 0
        for g in batch.groups {
            guard let snapshot = g.ready.snapshot, let runtime = runtimes[g.group] else { continue }
            runtime.applied = snapshot.metadata.index
            counted.snapshotsInstalled += 1
            runtime.lastAppliedTerm = max(runtime.lastAppliedTerm, snapshot.metadata.term)
            failProposals(of: runtime, where: { index, _ in index <= snapshot.metadata.index })
        }

        // 2. Send the rest, grouped by destination so each peer's messages go out together.
        if let transport, !acknowledgements.isEmpty {
            transport.send(Self.groupedByPeer(acknowledgements))
        }

        // 3. Apply the rest of the committed entries.
        try applyCommitted(batch, onlyAlreadyDurable: false, counted: &counted)
        for g in batch.groups {
            guard let runtime = runtimes[g.group] else { continue }
            for rs in g.ready.readStates {
                if let read = runtime.reads.removeValue(forKey: rs.context) {
                    runtime.readsAwaitingApply.append((rs.index, read.continuation))
                }
            }
            serveReads(runtime)
        }

        // 4. Acknowledge, then compact groups that applied enough past their snapshot.
        groups.advance(batch)
        for g in batch.groups where try compactIfDue(g.group) { counted.compactions += 1 }
        queue.withLock {
            stats.cycles += counted.cycles
            stats.syncedWrites += counted.syncedWrites
            stats.appliedEntries += counted.appliedEntries
            stats.snapshotsInstalled += counted.snapshotsInstalled
            stats.compactions += counted.compactions
        }
    }

    /// Applies committed entries of every group, effects and applied indexes in one write,
    /// then answers their proposers. `onlyAlreadyDurable` stops each group before the first
    /// entry this Ready writes (and skips a group that installs a snapshot): only entries an
    /// earlier cycle made durable may be applied before this cycle's write.
    private func applyCommitted(_ batch: RaftBatchReady, onlyAlreadyDurable: Bool, counted: inout Statistics) throws {
        var applyWrite = WriteBatch()
        var appliedByGroup: [(GroupRuntime, [AppliedEntry])] = []
        for g in batch.groups where !g.ready.committedEntries.isEmpty {
            guard let runtime = runtimes[g.group] else { continue }
            var entries = g.ready.committedEntries[...]
            if onlyAlreadyDurable {
                guard g.ready.snapshot == nil else { continue }
                let firstWritten = g.ready.entries.first?.index ?? .max
                entries = entries.prefix { $0.index < firstWritten }
            }
            let applied = apply(entries, runtime: runtime, into: &applyWrite)
            if !applied.isEmpty { appliedByGroup.append((runtime, applied)) }
            counted.appliedEntries += UInt64(applied.count)
        }
        if !applyWrite.isEmpty { try engine.write(applyWrite, sync: false) }
        for (runtime, applied) in appliedByGroup {
            for a in applied {
                if let command = a.command { runtime.stateMachine.committed(command, result: a.result) }
            }
            for a in applied { resolve(a, runtime: runtime) }
        }
    }

    private func apply(_ entries: ArraySlice<LogEntry>, runtime: GroupRuntime, into write: inout WriteBatch) -> [AppliedEntry] {
        let staging = StagedWrites(over: engine)
        var out: [AppliedEntry] = []
        for entry in entries where entry.index > runtime.applied {
            guard entry.kind == .normal, !entry.data.isEmpty else {
                out.append(AppliedEntry(entry: entry, command: nil, result: .done))
                continue
            }
            let command: ShardCommand
            do {
                command = try ShardCommand(decoding: entry.data)
            } catch {
                out.append(AppliedEntry(entry: entry, command: nil, result: .failed(StalError(.corrupted, "log entry \(entry.index): \(error)"))))
                continue
            }
            let attempt = StagedWrites(over: staging)
            let result: CommandResult
            do {
                result = try runtime.stateMachine.apply(command, index: entry.index, state: attempt)
                staging.absorb(attempt)
            } catch let error as StalError {
                result = .failed(error)
            } catch {
                result = .failed(StalError(.internal, "\(error)"))
            }
            out.append(AppliedEntry(entry: entry, command: command, result: result))
        }
        guard let last = out.last else { return [] }
        for a in out {
            guard let command = a.command else { continue }
            if case .failed = a.result { continue }
            runtime.stateMachine.willCommit(command, result: a.result)
        }
        write.append(contentsOf: staging.batch)
        RaftLogStore.putApplied(last.entry.index, shard: runtime.shard, into: &write)
        runtime.applied = last.entry.index
        return out
    }

    /// Terms never decrease along a log, so once an entry of term T is applied at index i,
    /// no proposal of an older term at index i or later can still commit.
    private func resolve(_ a: AppliedEntry, runtime: GroupRuntime) {
        if a.entry.term > runtime.lastAppliedTerm {
            runtime.lastAppliedTerm = a.entry.term
            let index = a.entry.index, term = a.entry.term
            failProposals(of: runtime, where: { i, t in i > index && t < term })
        }
        guard let pending = runtime.proposals.removeValue(forKey: a.entry.index) else { return }
        if pending.term == a.entry.term {
            pending.continuation.resume(returning: a.result)
        } else {
            pending.continuation.resume(throwing: StalError(.unavailable, "shard \(runtime.shard): proposal lost to a new leader"))
        }
    }

    private func failProposals(of runtime: GroupRuntime, where lost: (LogIndex, RaftTerm) -> Bool) {
        for (index, pending) in runtime.proposals where lost(index, pending.term) {
            runtime.proposals[index] = nil
            pending.continuation.resume(throwing: StalError(.unavailable, "shard \(runtime.shard): proposal lost to a new leader"))
        }
    }

    private func serveReads(_ runtime: GroupRuntime) {
        guard !runtime.readsAwaitingApply.isEmpty else { return }
        var waiting: [(index: LogIndex, continuation: CheckedContinuation<Void, any Error>)] = []
        for read in runtime.readsAwaitingApply {
            if read.index <= runtime.applied { read.continuation.resume() } else { waiting.append(read) }
        }
        runtime.readsAwaitingApply = waiting
    }

    private func compactIfDue(_ group: UInt64) throws -> Bool {
        guard let runtime = runtimes[group], let replica = groups.replicas[group],
              runtime.applied >= replica.snapshotIndex + options.compactAfterEntries else { return false }
        // One replica never sends a snapshot: it skips capturing the image.
        let image = peers.isEmpty ? [] : try ShardStateImage.capture(engine.snapshot(), families: runtime.stateMachine.stateFamilies)
        guard let snapshot = groups.with(group: group, { $0.compact(through: runtime.applied, data: image) }) ?? nil else { return false }
        try engine.write(RaftLogStore.operations(RaftWriteBatch.compaction(group: group, snapshot: snapshot)), sync: false)
        return true
    }

    private static func splitLeaderMessages(_ messages: [RaftGroupMessage]) -> (leader: [RaftGroupMessage], rest: [RaftGroupMessage]) {
        var leader: [RaftGroupMessage] = []
        var rest: [RaftGroupMessage] = []
        for m in messages {
            switch m.message.kind {
            case .append, .heartbeat: leader.append(m)
            default: rest.append(m)
            }
        }
        return (leader, rest)
    }

    private static func groupedByPeer(_ messages: [RaftGroupMessage]) -> [RaftGroupMessage] {
        var order: [RaftNodeID] = []
        var byPeer: [RaftNodeID: [RaftGroupMessage]] = [:]
        for m in messages {
            if byPeer[m.message.to] == nil { order.append(m.message.to) }
            byPeer[m.message.to, default: []].append(m)
        }
        return order.flatMap { byPeer[$0]! }
    }

    private func publishStatuses() {
        let current = groups.groupIDs.map { Self.status(shard: $0, groups.replicas[$0]!.status) }
        queue.withLock {
            for s in current { statuses[s.shard] = s }
            queue.broadcast()
        }
    }

    private func failEverything(_ error: StalError) {
        queue.lock()
        let leftovers = inbox
        inbox = []
        queue.unlock()
        for input in leftovers {
            switch input {
            case let .propose(_, _, continuation): continuation.resume(throwing: error)
            case let .read(_, continuation): continuation.resume(throwing: error)
            case .add, .messages, .unreachable, .snapshotStatus: break
            }
        }
        for runtime in runtimes.values {
            for pending in runtime.proposals.values { pending.continuation.resume(throwing: error) }
            for read in runtime.reads.values { read.continuation.resume(throwing: error) }
            for read in runtime.readsAwaitingApply { read.continuation.resume(throwing: error) }
            runtime.proposals = [:]
            runtime.reads = [:]
            runtime.readsAwaitingApply = []
        }
    }
}
