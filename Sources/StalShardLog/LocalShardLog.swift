import StalCore
import StalStorage

/// The one-replica shard log. A writer thread drains the queue of proposals, applies them
/// in order over staged state, and writes ONE synced batch holding the log entries, their
/// effects and the new applied index; then it resumes every proposer of the group. While
/// one group is being fsynced the next one accumulates, so concurrent proposers share
/// fsyncs (group commit) without any timer.
///
/// Log keys in `ColumnFamily.log`: `E shard index` -> encoded command,
/// `I shard` -> last applied index. Entry and effects are in the same batch, so after a
/// crash the applied index always equals the last entry: there is nothing to replay.
public final class LocalShardLog: ShardLog, @unchecked Sendable {
    public struct Options: Sendable {
        /// Commands per synced batch; bounds batch size and latency of the group's first proposer.
        public var commandsPerBatchMax = 512
        /// Queue bound; beyond it `propose` fails fast with `.unavailable`.
        public var pendingCommandsMax = 100_000
        /// Entries kept after apply, for debugging and for a future follower catch-up.
        public var retainedEntries: UInt64 = 10_000

        public init() {}
    }

    public struct Statistics: Hashable, Sendable {
        /// Synced writes performed.
        public var batches: UInt64
        public var commands: UInt64

        public init(batches: UInt64 = 0, commands: UInt64 = 0) {
            self.batches = batches
            self.commands = commands
        }
    }

    private struct Proposal {
        var command: ShardCommand
        var continuation: CheckedContinuation<CommandResult, any Error>
    }

    public let shard: UInt64
    private let engine: any KVEngine
    private let stateMachine: any ShardStateMachine
    private let options: Options
    private let queue = ConditionLock()
    private var pending: [Proposal] = []
    private var stopping = false
    private var stats = Statistics()
    private var thread: WriterThread?
    /// Touched only by the writer thread after init.
    private var lastIndex: UInt64
    private var trimmedBelow: UInt64 = 0

    public init(engine: any KVEngine, shard: UInt64 = 0, stateMachine: any ShardStateMachine,
                options: Options = Options()) throws {
        self.engine = engine
        self.shard = shard
        self.stateMachine = stateMachine
        self.options = options
        lastIndex = try engine.get(.log, Self.appliedKey(shard)).map { KeyCoding.u64($0, at: 0) } ?? 0
        // The thread holds the log until `shutdown()` ends it.
        let thread = WriterThread { self.run() }
        self.thread = thread
        thread.start()
    }

    static func appliedKey(_ shard: UInt64) -> [UInt8] { KeyCoding.key(UInt8(ascii: "I"), shard) }
    static func entryKey(_ shard: UInt64, _ index: UInt64) -> [UInt8] { KeyCoding.key(UInt8(ascii: "E"), shard, index) }

    /// The index of the last durable, applied entry.
    public func appliedIndex() throws -> UInt64 {
        try engine.get(.log, Self.appliedKey(shard)).map { KeyCoding.u64($0, at: 0) } ?? 0
    }

    /// A retained log entry, decoded.
    public func entry(at index: UInt64) throws -> ShardCommand? {
        try engine.get(.log, Self.entryKey(shard, index)).map { try ShardCommand(decoding: $0) }
    }

    public var statistics: Statistics { queue.withLock { stats } }

    /// Proposals waiting for the writer (not counting the group being written).
    public var pendingCount: Int { queue.withLock { pending.count } }

    public func propose(_ command: ShardCommand) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            queue.lock()
            if stopping {
                queue.unlock()
                continuation.resume(throwing: StalError(.unavailable, "shard \(shard) log is shut down"))
                return
            }
            if pending.count >= options.pendingCommandsMax {
                queue.unlock()
                continuation.resume(throwing: StalError(.unavailable, "shard \(shard) log queue is full"))
                return
            }
            pending.append(Proposal(command: command, continuation: continuation))
            queue.broadcast()
            queue.unlock()
        }
    }

    /// Stops accepting proposals, finishes the queued ones, and joins the writer thread.
    public func shutdown() {
        queue.withLock {
            stopping = true
            queue.broadcast()
        }
        let t = queue.withLock { () -> WriterThread? in
            defer { thread = nil }
            return thread
        }
        t?.join()
    }

    private func run() {
        while true {
            queue.lock()
            while pending.isEmpty && !stopping { queue.wait() }
            if pending.isEmpty && stopping {
                queue.unlock()
                return
            }
            let take = min(pending.count, options.commandsPerBatchMax)
            let group = Array(pending.prefix(take))
            pending.removeFirst(take)
            queue.unlock()

            let outcome = commit(group)

            if case .success = outcome {
                queue.withLock {
                    stats.batches += 1
                    stats.commands += UInt64(group.count)
                }
            }
            switch outcome {
            case let .success(results):
                for (proposal, result) in zip(group, results) {
                    stateMachine.committed(proposal.command, result: result)
                }
                for (proposal, result) in zip(group, results) { proposal.continuation.resume(returning: result) }
            case let .failure(error):
                for proposal in group { proposal.continuation.resume(throwing: error) }
            }
        }
    }

    private func commit(_ group: [Proposal]) -> Result<[CommandResult], StalError> {
        let staging = StagedWrites(over: engine)
        var results: [CommandResult] = []
        results.reserveCapacity(group.count)
        var index = lastIndex
        for proposal in group {
            index += 1
            staging.appendUnread(.put(.log, key: Self.entryKey(shard, index), value: proposal.command.encode()))
            let attempt = StagedWrites(over: staging)
            do {
                let result = try stateMachine.apply(proposal.command, index: index, state: attempt)
                staging.absorb(attempt)
                results.append(result)
            } catch let error as StalError {
                results.append(.failed(error))
            } catch {
                results.append(.failed(StalError(.internal, "\(error)")))
            }
        }
        for (proposal, result) in zip(group, results) {
            if case .failed = result { continue }
            stateMachine.willCommit(proposal.command, result: result)
        }
        var applied = ByteWriter(capacity: 8)
        applied.u64(index)
        staging.appendUnread(.put(.log, key: Self.appliedKey(shard), value: applied.bytes))
        // Trim in steps of 1024 entries so most batches carry no range tombstone.
        var trimTo = trimmedBelow
        if index > options.retainedEntries, index - options.retainedEntries >= trimmedBelow + 1024 {
            trimTo = index - options.retainedEntries
            staging.appendUnread(.deleteRange(.log, from: Self.entryKey(shard, 0), to: Self.entryKey(shard, trimTo)))
        }
        do {
            try engine.write(staging.batch, sync: true)
        } catch let error as StalError {
            return .failure(error)
        } catch {
            return .failure(StalError(.storage, "\(error)"))
        }
        lastIndex = index
        trimmedBelow = trimTo
        return .success(results)
    }
}
