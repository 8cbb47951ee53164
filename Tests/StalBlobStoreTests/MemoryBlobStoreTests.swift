import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure
import Testing
@testable import StalBlobStore

@Suite struct MemoryBlobStoreTests {
    let clock = ManualClock()
    let devices = (0..<6).map { MemoryShardDevice(id: StorageLocationID("m\($0)"), failureDomain: "d\($0)") }

    func makeStore(inlineBytesMax: Int = 64 * 1024) throws -> BlobStore {
        var configuration = BlobStoreConfiguration(catalogPath: "", locations: [], scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        configuration.inlineBytesMax = inlineBytesMax
        return try BlobStore(configuration: configuration, catalog: MemoryBlobCatalog(), devices: devices, clock: clock)
    }

    @Test func inlinePutsWriteNoShardsCodedPutsWriteKPlusM() throws {
        let store = try makeStore()
        var random = SeededRandom(seed: 1)
        try store.put(random.bytes(60_000))
        store.drain()
        #expect(devices.map(\.writeCount).reduce(0, +) == 0)
        try store.put(random.bytes(70_000))
        store.drain()
        #expect(devices.map(\.writeCount) == [1, 1, 1, 1, 1, 1])
    }

    @Test func partialShardsOfACrashedPutAreCollected() throws {
        let store = try makeStore(inlineBytesMax: 0)
        var random = SeededRandom(seed: 2)
        let bytes = random.bytes(50_000)
        let id = BlobID(digest: FixtureHash.sha256(bytes))!
        _ = try store.stageShards(id: id, bytes: bytes, at: clock.now())
        store.drain()
        // The crash tore two shard writes: one lost its cells, one even its header.
        devices[0].truncate(blob: id, shard: devices[0].inventory()[0].shard, to: 500)
        devices[1].truncate(blob: id, shard: devices[1].inventory()[0].shard, to: 10)
        #expect(throws: StalError.self) { try store.get(id) }
        // Within the grace period only the shard whose header is unreadable goes: it cannot be
        // aged, and without a manifest nothing can ever read it.
        #expect(try store.collectGarbage().shardsCollected == 1)
        clock.advance(milliseconds: store.configuration.garbageGraceMilliseconds + 1)
        #expect(try store.collectGarbage().shardsCollected == 5)
        #expect(devices.allSatisfy { $0.inventory().isEmpty })
    }

    @Test func unusableDevicesFailReadsOverToParityAndHealElsewhereWhenSpareExists() throws {
        let spare = MemoryShardDevice(id: StorageLocationID("spare"), failureDomain: "d-spare")
        var configuration = BlobStoreConfiguration(catalogPath: "", locations: [], scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        configuration.inlineBytesMax = 0
        let store = try BlobStore(configuration: configuration, catalog: MemoryBlobCatalog(), devices: devices + [spare], clock: clock)
        var random = SeededRandom(seed: 3)
        let bytes = random.bytes(40_000)
        let id = try store.put(bytes)
        store.drain()
        guard case .erasureCoded(_, let placement)? = try store.manifest(id)?.body else { Issue.record("coded"); return }
        let down = devices.first { placement.contains($0.id) }!
        down.fail(losingData: false)
        #expect(try store.get(id) == bytes)
        let report = store.scrub(maxBytes: .max)
        #expect(report.shardsHealed == 1)
        guard case .erasureCoded(_, let moved)? = try store.manifest(id)?.body else { Issue.record("coded"); return }
        #expect(!moved.contains(down.id) && Set(moved).count == 6)
        // The old copy, back online, is no longer placed there and is collected after grace.
        down.recover()
        clock.advance(milliseconds: store.configuration.garbageGraceMilliseconds + 1)
        try store.retain(id)
        #expect(try store.collectGarbage().shardsCollected == 1)
        #expect(down.inventory().isEmpty)
        #expect(try store.get(id) == bytes)
    }
}
