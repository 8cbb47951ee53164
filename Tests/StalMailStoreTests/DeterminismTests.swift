import Foundation
import StalCore
import StalDeterminism
import StalMailStore
import StalRaft
import StalShardLog
import StalStorage
import Testing

/// A mixed workload driven by a seed, so two runs can be compared byte for byte.
func runWorkload(_ store: MailStore, account: AccountID, tenant: TenantID, seed: UInt64) async throws {
    var rng = SeededRandom(seed: seed)
    try await store.createAccount(account, tenant: tenant)
    let inbox = try store.mailboxes(account).first { $0.role == .inbox }!.id
    let other = try await store.createMailbox(account, name: "Lists/Swift").id
    for i in 0..<40 {
        let target = rng.chance(1, in: 3) ? other : inbox
        _ = try await store.append(account, mailbox: target, bytes: StoreFixture.message(i, padding: Int(rng.next(below: 200))),
                                   keywords: rng.chance(1, in: 2) ? [.seen] : [])
        if i % 7 == 6 {
            let uids = try store.messages(account, mailbox: inbox).map(\.uid).filter { _ in rng.chance(1, in: 2) }
            _ = try await store.storeKeywords(account, mailbox: inbox, uids: uids, operation: .add, keywords: [.deleted])
            _ = try await store.copy(account, from: inbox, uids: uids.prefix(2).map { $0 }, to: other)
            _ = try await store.expunge(account, mailbox: inbox)
        }
        if i == 20 { _ = try await store.renameMailbox(account, id: other, newName: "Archive/Swift") }
        if i == 30 { _ = try await store.move(account, from: other, uids: [1, 2, 3], to: inbox) }
    }
}

@Suite struct DeterminismTests {
    /// Same seed, same commands: identical key/value state in every column family.
    @Test func sameCommandsGiveIdenticalState() async throws {
        var dumps: [[ColumnFamily: [KVPair]]] = []
        for _ in 0..<2 {
            let f = try StoreFixture(seed: 99)
            try await runWorkload(f.store, account: f.account, tenant: f.tenant, seed: 5)
            try checkInvariants(f.store, f.engine, account: f.account)
            f.store.shutdown()
            dumps.append(try f.engine.dump(ColumnFamily.all))
        }
        #expect(dumps[0] == dumps[1])
        #expect(dumps[0][.state]!.count > 50)
    }

    /// Replaying the logged commands into a fresh engine reproduces the state exactly:
    /// the log alone determines the state, as a Raft follower needs.
    @Test func replayingTheLogReproducesTheState() async throws {
        let f = try StoreFixture(seed: 3)
        try await runWorkload(f.store, account: f.account, tenant: f.tenant, seed: 8)
        f.store.shutdown()
        let (replica, commands) = try await Self.replica(replaying: f.engine)
        #expect(commands > 40)
        #expect(try replica.dump([.state, .blobs]) == f.engine.dump([.state, .blobs]))
    }

    /// A fresh engine with every command of `engine`'s mail shard log applied, as a Raft
    /// follower applies them, and how many commands that was.
    static func replica(replaying engine: MemoryEngine) async throws -> (MemoryEngine, Int) {
        let range = RaftStorageFormat.entryRange(group: 0, from: 0)
        let commands = try engine.scan(.log, KeyRange(lower: range.start, upper: range.end))
            .map { try RaftStorageFormat.decodeEntry($0.value) }
            .filter { $0.kind == .normal && !$0.data.isEmpty }
            .map { try ShardCommand(decoding: $0.data) }
        let replica = MemoryEngine()
        let driver = try RaftNodeDriver(engine: replica, nodeID: 1, transport: nil)
        let log = try driver.addGroup(shard: 0, stateMachine: MailStateMachine(notifier: ChangeNotifier(engine: replica), blobs: nil))
        for c in commands { _ = try await log.propose(c) }
        driver.shutdown()
        return (replica, commands.count)
    }

    /// Where a blob's shards live is replicated state: a replica replaying the log holds the
    /// same placements, and the blob's collection removes its placement in the same batch.
    @Test func blobPlacementsAreReplicatedAndCollectionDropsThem() async throws {
        let f = try await StoreFixture.withAccount(seed: 6)
        var random = SeededRandom(seed: 6)
        // Incompressible, so it is a blob-store blob and not inline in the log.
        let message = Array("Subject: placed\r\n\r\n".utf8) + random.bytes(200_000)
        _ = try await f.store.append(f.account, mailbox: try f.inbox(), bytes: message, keywords: [.deleted])
        let placed = MailStore.blobStoreID(tenant: f.tenant, MailStore.blobID(for: message))
        let other = MailStore.blobStoreID(tenant: TenantID(rawValue: 2), MailStore.blobID(for: message))
        #expect(placed != other)
        try await f.store.recordBlobPlacement(placed, manifest: [1, 2, 3])
        try await f.store.recordBlobPlacement(other, manifest: [4])
        #expect(try f.store.blobPlacementIDs() == [placed, other].sorted())
        #expect(try f.store.blobPlacement(placed) == [1, 2, 3])
        await #expect(throws: StalError.self) {
            try await f.store.recordBlobPlacement(placed, manifest: [UInt8](repeating: 0, count: RecordBlobPlacementCommand.manifestBytesMax + 1))
        }

        let (replica, _) = try await Self.replica(replaying: f.engine)
        #expect(try replica.dump([.blobs]) == f.engine.dump([.blobs]))

        #expect(try await f.store.expunge(f.account, mailbox: try f.inbox()).count == 1)
        #expect(try await f.store.collectGarbage(tenant: f.tenant) == [MailStore.blobID(for: message)])
        #expect(try f.store.blobPlacementIDs() == [other])
        #expect(try f.store.blobPlacement(placed) == nil)
        f.store.shutdown()
    }

    /// A new blob-store blob's placement is recorded by the delivery that references it, in
    /// its batch, with no log entry of its own; a replica replaying the log holds it; a
    /// placement already recorded is kept when the blob is written again, and the
    /// collection drops it.
    @Test func aNewBlobsPlacementRidesItsDelivery() async throws {
        let engine = MemoryEngine()
        let blobs = PlacingBlobStore()
        let store = try MailStore.local(engine: engine, blobs: blobs, clock: ManualClock(), random: SeededRandom(seed: 12))
        let account = AccountID(rawValue: 5), tenant = TenantID(rawValue: 1)
        try await store.createAccount(account, tenant: tenant)
        let inbox = try #require(try store.mailbox(account, named: "INBOX")).id
        var random = SeededRandom(seed: 12)
        let message = Array("Subject: placed\r\n\r\n".utf8) + random.bytes(200_000)
        let placed = MailStore.blobStoreID(tenant: tenant, MailStore.blobID(for: message))

        let (_, before) = try await Self.replica(replaying: engine)
        _ = try await store.append(account, mailbox: inbox, bytes: message, keywords: [.deleted])
        let (replica, after) = try await Self.replica(replaying: engine)
        #expect(after == before + 1)
        #expect(blobs.writes == 1)
        #expect(try store.blobPlacementIDs() == [placed])
        #expect(try store.blobPlacement(placed) == PlacingBlobStore.placement(1))
        #expect(try replica.dump([.blobs]) == engine.dump([.blobs]))

        // Referenced: a second delivery writes nothing and carries no placement.
        _ = try await store.append(account, mailbox: inbox, bytes: message, keywords: [.deleted])
        #expect(blobs.writes == 1)
        // Unreferenced but not yet collected: the next delivery writes again (it finds no
        // record), and the recorded placement stays.
        #expect(try await store.expunge(account, mailbox: inbox).count == 2)
        _ = try await store.append(account, mailbox: inbox, bytes: message, keywords: [.deleted])
        #expect(blobs.writes == 2)
        #expect(try store.blobPlacement(placed) == PlacingBlobStore.placement(1))
        #expect(try await store.readBlob(tenant: tenant, MailStore.blobID(for: message)) == message)

        #expect(try await store.expunge(account, mailbox: inbox).count == 1)
        #expect(try await store.collectGarbage(tenant: tenant) == [MailStore.blobID(for: message)])
        #expect(try store.blobPlacementIDs().isEmpty)
        store.shutdown()
    }

    /// Kill-free crash check: RocksDB closed without a memtable flush and reopened keeps
    /// every acknowledged delivery, readable, with UIDs continuing where they stopped.
    @Test func rocksDBStoreSurvivesReopen() async throws {
        let dir = NSTemporaryDirectory() + "stal-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let account = AccountID(rawValue: 5)
        var acknowledged: [AppendResult] = []
        do {
            let engine = try RocksDBEngine(path: dir + "/db")
            let store = try MailStore.local(engine: engine, blobs: try LocalBlobDirectory(root: dir + "/blobs"),
                                            clock: ManualClock(), random: SeededRandom(seed: 1))
            try await store.createAccount(account, tenant: TenantID(rawValue: 1))
            let inbox = try store.mailboxes(account).first { $0.role == .inbox }!.id
            try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for i in 0..<64 {
                    group.addTask {
                        try await store.append(account, mailbox: inbox, bytes: StoreFixture.message(i, padding: i == 0 ? 200_000 : 0))
                    }
                }
                for try await r in group { acknowledged.append(r) }
            }
            store.shutdown()
            engine.close()
        }
        let engine = try RocksDBEngine(path: dir + "/db")
        let store = try MailStore.local(engine: engine, blobs: try LocalBlobDirectory(root: dir + "/blobs"),
                                        clock: ManualClock(), random: SeededRandom(seed: 2))
        let inbox = try store.mailboxes(account).first { $0.role == .inbox }!
        let listed = try store.messages(account, mailbox: inbox.id)
        #expect(Set(listed.map(\.emailID)) == Set(acknowledged.map(\.emailID)))
        #expect(listed.map(\.uid) == Array(1...64))
        for m in listed { #expect(try await store.readBlob(account: account, m.blobID).count == m.size) }
        let next = try await store.append(account, mailbox: inbox.id, bytes: StoreFixture.message(1000))
        #expect(next.uid == 65 && next.uidValidity == inbox.uidValidity)
        store.shutdown()
        engine.close()
    }
}

/// A blob store whose writes return a placement to record, numbered by write, as the
/// erasure-coded store returns its manifest.
final class PlacingBlobStore: MailBlobStore, @unchecked Sendable {
    let inner = MemoryBlobStore()
    private let lock = Mutex()
    private var count = 0

    static func placement(_ write: Int) -> [UInt8] { Array("placement \(write)".utf8) }

    var writes: Int { lock.withLock { count } }

    func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws -> [UInt8]? {
        try await inner.write(tenant: tenant, id: id, compressed: compressed)
        return Self.placement(lock.withLock { count += 1; return count })
    }

    func read(tenant: TenantID, id: BlobID) async throws -> [UInt8] { try await inner.read(tenant: tenant, id: id) }
    func delete(tenant: TenantID, id: BlobID) throws { try inner.delete(tenant: tenant, id: id) }
}
