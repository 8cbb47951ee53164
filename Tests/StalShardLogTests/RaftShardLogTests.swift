import Foundation
import StalCore
import StalDeterminism
import StalRaft
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

    var stateFamilies: [ColumnFamily] { [.state] }
}

func named(_ name: String) -> ShardCommand {
    .setSubscribed(SetSubscribedCommand(account: AccountID(rawValue: 1), name: name, subscribed: true))
}

func count(_ engine: any KVReader) throws -> UInt64 {
    try engine.get(.state, Array("count".utf8)).map { KeyCoding.u64($0, at: 0) } ?? 0
}

func index(of result: CommandResult) -> UInt64? {
    if case let .mailboxCreated(id) = result { return id.rawValue }
    return nil
}

/// Waits for `condition`; the cap only ends a hung test.
func eventually(_ what: String, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw StalError(.unavailable, "timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// Once armed, holds the next write until released, so a test can line up proposals behind it.
final class GatedEngine: KVEngine, @unchecked Sendable {
    let inner = MemoryEngine()
    private let condition = NSCondition()
    private var armed = false
    private var holding = false

    var isHolding: Bool { condition.withLock { holding } }

    func arm() { condition.withLock { armed = true } }

    func release() {
        condition.withLock {
            armed = false
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
            holding = armed
            while armed { condition.wait() }
            holding = false
        }
        try inner.write(batch, sync: sync)
    }

    func snapshot() throws -> any KVSnapshot { try inner.snapshot() }
}

func singleNode(_ engine: any KVEngine, shard: UInt64 = 0, options: RaftNodeDriver.Options = RaftNodeDriver.Options())
    throws -> (RaftNodeDriver, RaftShardLog) {
    let driver = try RaftNodeDriver(engine: engine, nodeID: 1, transport: nil, options: options)
    return (driver, try driver.addGroup(shard: shard, stateMachine: CountingStateMachine()))
}

/// Raft log entries of `group` stored in the engine.
func storedEntries(_ engine: any KVReader, group: UInt64) throws -> [LogEntry] {
    let range = RaftStorageFormat.entryRange(group: group, from: 0)
    return try engine.scan(.log, KeyRange(lower: range.start, upper: range.end)).map { try RaftStorageFormat.decodeEntry($0.value) }
}

@Suite struct RaftShardLogTests {
    @Test func oneReplicaGroupLeadsAtOnceAndAppliesInOrder() async throws {
        let engine = MemoryEngine()
        let (driver, log) = try singleNode(engine)
        var indices: [UInt64] = []
        for i in 1...5 { indices.append(try #require(index(of: try await log.propose(named("c\(i)"))))) }
        #expect(indices == indices.sorted() && Set(indices).count == 5)
        #expect(try count(engine) == 5)
        let status = log.status
        #expect(status.role == .leader && status.leader == 1)
        #expect(status.applied == indices.last && status.commit == indices.last)
        #expect(try RaftLogStoreProbe.applied(engine, shard: 0) == indices.last)
        let logged = try storedEntries(engine, group: 0).first { $0.index == indices[2] }
        #expect(try ShardCommand(decoding: try #require(logged).data) == named("c3"))
        driver.shutdown()
    }

    @Test func failedCommandIsLoggedWithoutEffects() async throws {
        let engine = MemoryEngine()
        let (driver, log) = try singleNode(engine)
        let first = try #require(index(of: try await log.propose(named("a"))))
        let failed = try await log.propose(named("fail"))
        #expect(failed == .failed(StalError(.conflict, "asked to fail")))
        #expect(index(of: try await log.propose(named("b"))) == first + 2)
        #expect(try count(engine) == 2)
        #expect(try engine.get(.state, Array("name:fail".utf8)) == nil)
        let logged = try storedEntries(engine, group: 0).first { $0.index == first + 1 }
        #expect(try ShardCommand(decoding: try #require(logged).data) == named("fail"))
        driver.shutdown()
    }

    /// While one cycle's write is in progress, later proposals queue and go out together in
    /// the next cycle's single synced write.
    @Test func concurrentProposalsShareOneSyncedWrite() async throws {
        let engine = GatedEngine()
        let (driver, log) = try singleNode(engine)
        _ = try await log.propose(named("warm-up"))
        let before = driver.statistics
        engine.arm()
        let first = Task { try await log.propose(named("first")) }
        try await eventually("the first write") { engine.isHolding }
        let followers = 50
        let tasks = (0..<followers).map { i in Task { try await log.propose(named("f\(i)")) } }
        try await eventually("queued proposals") { driver.queuedInputs == followers }
        engine.release()
        let firstIndex = try #require(index(of: try await first.value))
        var indices = Set<UInt64>()
        for t in tasks { indices.insert(try #require(index(of: try await t.value))) }
        #expect(indices == Set((firstIndex + 1)...(firstIndex + UInt64(followers))))
        #expect(driver.statistics.syncedWrites - before.syncedWrites == 2)
        #expect(try count(engine) == UInt64(followers + 2))
        driver.shutdown()
    }

    @Test func fullQueueFailsFast() async throws {
        let engine = GatedEngine()
        var options = RaftNodeDriver.Options()
        options.inboundMax = 4
        let (driver, log) = try singleNode(engine, options: options)
        _ = try await log.propose(named("warm-up"))
        engine.arm()
        let first = Task { try await log.propose(named("first")) }
        try await eventually("the first write") { engine.isHolding }
        let queued = (0..<4).map { i in Task { try await log.propose(named("q\(i)")) } }
        try await eventually("a full queue") { driver.queuedInputs == 4 }
        await #expect(throws: StalError(.unavailable, "raft driver queue is full")) { try await log.propose(named("over")) }
        engine.release()
        _ = try await first.value
        for t in queued { _ = try await t.value }
        driver.shutdown()
    }

    @Test func shutdownRejectsNewProposals() async throws {
        let (driver, log) = try singleNode(MemoryEngine())
        driver.shutdown()
        await #expect(throws: StalError(.unavailable, "raft driver is shut down")) { try await log.propose(named("late")) }
    }

    @Test func logIsCompactedBehindTheAppliedState() async throws {
        var options = RaftNodeDriver.Options()
        options.compactAfterEntries = 100
        let engine = MemoryEngine()
        let (driver, log) = try singleNode(engine, options: options)
        for i in 0..<250 { _ = try await log.propose(named("n\(i)")) }
        // A proposer is resumed before its cycle compacts; joining the loop thread makes
        // the statistics and the stored log final.
        driver.shutdown()
        #expect(driver.statistics.compactions == 2)
        let entries = try storedEntries(engine, group: 0)
        #expect(entries.count < 100)
        #expect(entries.last?.index == log.status.applied)
        let (reopened, again) = try singleNode(engine, options: options)
        _ = try await again.propose(named("after"))
        #expect(try count(engine) == 251)
        reopened.shutdown()
    }

    /// A power cut keeps every acknowledged command whatever prefix of the unsynced writes
    /// (the effects, written after the synced log) survives: restart replays the rest.
    @Test(arguments: [0, 1, 2, 5, 1000])
    func powerCutKeepsAcknowledgedCommands(keptUnsynced: Int) async throws {
        let engine = MemoryEngine(tracksDurability: true)
        let (driver, log) = try singleNode(engine)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<100 { group.addTask { _ = try await log.propose(named("p\(i)")) } }
            try await group.waitForAll()
        }
        driver.shutdown()
        #expect(engine.unsyncedWrites > 0)
        var stray = WriteBatch()
        stray.put(.state, Array("stray".utf8), [1])
        try engine.write(stray, sync: false)
        engine.crash(keepingUnsynced: keptUnsynced)
        let (reopened, again) = try singleNode(engine)
        try await again.linearizableRead()
        #expect(try count(engine) == 100)
        #expect(again.status.applied == again.status.commit)
        reopened.shutdown()
    }

    /// Acknowledged proposals survive closing RocksDB without a memtable flush: reopening
    /// replays the WAL, and the log continues after the last entry.
    @Test func rocksDBReopenKeepsEveryAcknowledgedCommand() async throws {
        let dir = NSTemporaryDirectory() + "stal-log-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var last: UInt64 = 0
        do {
            let engine = try RocksDBEngine(path: dir)
            let (driver, log) = try singleNode(engine, shard: 7)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 { group.addTask { _ = try await log.propose(named("r\(i)")) } }
                try await group.waitForAll()
            }
            last = log.status.applied
            driver.shutdown()
            engine.close()
        }
        let engine = try RocksDBEngine(path: dir)
        #expect(try count(engine) == 200)
        let (driver, log) = try singleNode(engine, shard: 7)
        let next = try #require(index(of: try await log.propose(named("after"))))
        #expect(next > last)
        #expect(try count(engine) == 201)
        driver.shutdown()
        engine.close()
    }

    @Test func commandResultsRoundTripTheirEncoding() throws {
        let email = AppendedEmail(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 2), emailID: EmailID(rawValue: 3),
                                  uid: 4, uidValidity: 5, modSeq: ModSeq(rawValue: 6))
        let results: [CommandResult] = [
            .done, .failed(StalError(.quotaExceeded, "full")), .mailboxCreated(MailboxID(rawValue: 9)),
            .delivered([.success(email), .failure(StalError(.notFound, "mailbox"))]),
            .keywordsStored(changed: [1, 2], failed: [3], modSeq: ModSeq(rawValue: 7)),
            .copied(uidValidity: 8, mapping: [UIDPair(source: 1, destination: 2)], modSeq: ModSeq(rawValue: 9)),
            .expunged(uids: [4, 5], modSeq: ModSeq(rawValue: 10)),
            .blobsCollected([BlobID(digest: [UInt8](repeating: 7, count: 32))!]),
        ]
        for r in results { #expect(try CommandResult(decoding: r.encode()) == r) }
        #expect(throws: StalError.self) { try CommandResult(decoding: [1, 99]) }
    }
}

/// Reads what the driver stores next to the Raft log.
enum RaftLogStoreProbe {
    static func applied(_ engine: any KVReader, shard: UInt64) throws -> UInt64? {
        try engine.get(.log, KeyCoding.key(UInt8(ascii: "A"), shard)).map { KeyCoding.u64($0, at: 0) }
    }
}

/// A peer whose handler answers only when the test lets it.
private final class HeldRequests: RaftTransportReceiver, @unchecked Sendable {
    let (released, release) = AsyncStream.makeStream(of: Void.self)
    func received(_ messages: [RaftGroupMessage]) {}
    func unreachable(_ node: RaftNodeID) {}
    func snapshotStatus(group: UInt64, to node: RaftNodeID, delivered: Bool) {}
    func handleRequest(_ payload: [UInt8], from node: RaftNodeID) async throws -> [UInt8] {
        for await _ in released {}
        return payload
    }
}

@Suite struct InProcessRaftTransportTests {
    @Test func aRequestToAPeerThatNeverAnswersTimesOut() async throws {
        let network = InProcessRaftNetwork()
        let a = InProcessRaftTransport(node: 1, network: network)
        let b = InProcessRaftTransport(node: 2, network: network)
        let held = HeldRequests()
        try a.start(HeldRequests())
        try b.start(held)
        await #expect(throws: StalError(.unavailable, "request to node 2 timed out after 0.05 seconds")) {
            _ = try await a.request(to: 2, [1, 2, 3], timeout: .milliseconds(50))
        }
        held.release.finish()
        #expect(try await a.request(to: 2, [4], timeout: .seconds(60)) == [4])
        await a.shutdown()
        await b.shutdown()
    }
}
