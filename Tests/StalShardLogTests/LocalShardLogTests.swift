import Foundation
import StalCore
import StalDeterminism
import StalShardLog
import StalStorage
import Testing

/// Counts applied commands in `state/count`, records each command's index under its name,
/// and rejects commands named "fail" after writing (to prove a failed apply leaves nothing).
struct CountingStateMachine: ShardStateMachine {
    func apply(_ command: ShardCommand, index: UInt64, state: StagedWrites) throws -> CommandResult {
        guard case let .setSubscribed(c) = command else { throw StalError(.invalidArgument, "unexpected command") }
        let count = try state.get(.state, Array("count".utf8)).map { KeyCoding.u64($0, at: 0) } ?? 0
        var w = ByteWriter()
        w.u64(count + 1)
        state.put(.state, Array("count".utf8), w.bytes)
        state.put(.state, Array("name:\(c.name)".utf8), KeyCoding.key(0, index))
        if c.name == "fail" { throw StalError(.conflict, "asked to fail") }
        return .mailboxCreated(MailboxID(rawValue: index))
    }

    func committed(_ command: ShardCommand, result: CommandResult) {}
}

func named(_ name: String) -> ShardCommand {
    .setSubscribed(SetSubscribedCommand(account: AccountID(rawValue: 1), name: name, subscribed: true))
}

func count(_ engine: any KVEngine) throws -> UInt64 {
    try engine.get(.state, Array("count".utf8)).map { KeyCoding.u64($0, at: 0) } ?? 0
}

func index(of result: CommandResult) -> UInt64? {
    if case let .mailboxCreated(id) = result { return id.rawValue }
    return nil
}

/// Holds the first synced write until released, so a test can line up proposals behind it.
final class GatedEngine: KVEngine, @unchecked Sendable {
    let inner = MemoryEngine()
    private let condition = NSCondition()
    private var released = false
    private(set) var writes = 0
    private(set) var batchSizes: [Int] = []

    var writesStarted: Int { condition.withLock { writes } }

    func release() {
        condition.withLock {
            released = true
            condition.broadcast()
        }
    }

    func get(_ cf: ColumnFamily, _ key: [UInt8]) throws -> [UInt8]? { try inner.get(cf, key) }

    func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?,
              _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try inner.scan(cf, range, reverse: reverse, limit: limit, body)
    }

    func write(_ batch: WriteBatch, sync: Bool) throws {
        condition.withLock {
            writes += 1
            batchSizes.append(batch.count)
            while !released { condition.wait() }
        }
        try inner.write(batch, sync: sync)
    }

    func snapshot() throws -> any KVSnapshot { try inner.snapshot() }
}

@Suite struct LocalShardLogTests {
    @Test func proposalsApplyInOrderAndReturnResults() async throws {
        let engine = MemoryEngine()
        let log = try LocalShardLog(engine: engine, stateMachine: CountingStateMachine())
        for i in 1...5 {
            let result = try await log.propose(named("c\(i)"))
            #expect(index(of: result) == UInt64(i))
        }
        #expect(try count(engine) == 5)
        #expect(try log.appliedIndex() == 5)
        #expect(try log.entry(at: 3) == named("c3"))
        log.shutdown()
    }

    @Test func failedCommandIsLoggedWithoutEffects() async throws {
        let engine = MemoryEngine()
        let log = try LocalShardLog(engine: engine, stateMachine: CountingStateMachine())
        _ = try await log.propose(named("a"))
        let failed = try await log.propose(named("fail"))
        #expect(failed == .failed(StalError(.conflict, "asked to fail")))
        let after = try await log.propose(named("b"))
        #expect(index(of: after) == 3)
        #expect(try count(engine) == 2)
        #expect(try engine.get(.state, Array("name:fail".utf8)) == nil)
        #expect(try log.entry(at: 2) == named("fail"))
        log.shutdown()
    }

    /// While one group is being written, later proposals queue and go out together in the
    /// next single synced batch.
    @Test func concurrentProposalsShareOneSyncedWrite() async throws {
        let engine = GatedEngine()
        let log = try LocalShardLog(engine: engine, stateMachine: CountingStateMachine())
        let first = Task { try await log.propose(named("first")) }
        while engine.writesStarted < 1 { await Task.yield() }
        let followers = 50
        let tasks = (0..<followers).map { i in Task { try await log.propose(named("f\(i)")) } }
        while log.pendingCount < followers { await Task.yield() }
        engine.release()
        #expect(index(of: try await first.value) == 1)
        var indices = Set<UInt64>()
        for t in tasks { indices.insert(try #require(index(of: try await t.value))) }
        #expect(indices == Set(2...UInt64(followers + 1)))
        #expect(log.statistics == LocalShardLog.Statistics(batches: 2, commands: UInt64(followers + 1)))
        #expect(engine.writesStarted == 2)
        #expect(try count(engine) == UInt64(followers + 1))
        log.shutdown()
    }

    @Test func groupsAreCappedAtTheBatchLimit() async throws {
        let engine = GatedEngine()
        var options = LocalShardLog.Options()
        options.commandsPerBatchMax = 8
        let log = try LocalShardLog(engine: engine, stateMachine: CountingStateMachine(), options: options)
        let first = Task { try await log.propose(named("first")) }
        while engine.writesStarted < 1 { await Task.yield() }
        let tasks = (0..<20).map { i in Task { try await log.propose(named("f\(i)")) } }
        while log.pendingCount < 20 { await Task.yield() }
        engine.release()
        _ = try await first.value
        for t in tasks { _ = try await t.value }
        #expect(log.statistics.batches == 4)  // 1 + 8 + 8 + 4
        log.shutdown()
    }

    @Test func shutdownRejectsNewProposals() async throws {
        let log = try LocalShardLog(engine: MemoryEngine(), stateMachine: CountingStateMachine())
        log.shutdown()
        await #expect(throws: StalError(.unavailable, "shard 0 log is shut down")) { try await log.propose(named("late")) }
    }

    @Test func oldEntriesAreTrimmedInSteps() async throws {
        var options = LocalShardLog.Options()
        options.retainedEntries = 10
        let engine = MemoryEngine()
        let log = try LocalShardLog(engine: engine, stateMachine: CountingStateMachine(), options: options)
        for i in 0..<1100 { _ = try await log.propose(named("n\(i)")) }
        #expect(try log.entry(at: 1) == nil)
        #expect(try log.entry(at: 1023) == nil)
        #expect(try log.entry(at: 1024) == named("n1023"))
        #expect(try log.entry(at: 1100) == named("n1099"))
        #expect(try count(engine) == 1100)
        log.shutdown()
    }

    /// A simulated power cut (unsynced writes lost) keeps every acknowledged command.
    @Test func simulatedPowerCutKeepsAcknowledgedCommands() async throws {
        let engine = MemoryEngine(tracksDurability: true)
        let log = try LocalShardLog(engine: engine, stateMachine: CountingStateMachine())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<100 { group.addTask { _ = try await log.propose(named("p\(i)")) } }
            try await group.waitForAll()
        }
        log.shutdown()
        var stray = WriteBatch()
        stray.put(.state, Array("count".utf8), KeyCoding.key(0, 999))
        try engine.write(stray, sync: false)
        engine.crash()
        #expect(try count(engine) == 100)
        let reopened = try LocalShardLog(engine: engine, stateMachine: CountingStateMachine())
        #expect(try reopened.appliedIndex() == 100)
        reopened.shutdown()
    }

    /// Acknowledged proposals survive closing RocksDB without a memtable flush: reopening
    /// replays the synced WAL to exactly the acknowledged state, and the log continues.
    @Test func rocksDBReopenKeepsEveryAcknowledgedCommand() async throws {
        let dir = NSTemporaryDirectory() + "stal-log-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let engine = try RocksDBEngine(path: dir)
            let log = try LocalShardLog(engine: engine, shard: 7, stateMachine: CountingStateMachine())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 { group.addTask { _ = try await log.propose(named("r\(i)")) } }
                try await group.waitForAll()
            }
            log.shutdown()
            engine.close()
        }
        let engine = try RocksDBEngine(path: dir)
        #expect(try count(engine) == 200)
        let log = try LocalShardLog(engine: engine, shard: 7, stateMachine: CountingStateMachine())
        #expect(try log.appliedIndex() == 200)
        let next = try await log.propose(named("after"))
        #expect(index(of: next) == 201)
        log.shutdown()
        engine.close()
    }
}
