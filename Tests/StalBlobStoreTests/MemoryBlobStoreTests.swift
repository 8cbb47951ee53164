import Foundation
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

@Suite struct PlacementAtPutTests {
    @Test func downLocationsAreSkippedWhileEnoughOthersRemain() throws {
        let clock = ManualClock()
        let devices = (0..<8).map { MemoryShardDevice(id: StorageLocationID("m\($0)"), failureDomain: "d\($0)") }
        var configuration = BlobStoreConfiguration(catalogPath: "", locations: [], scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        configuration.inlineBytesMax = 0
        let store = try BlobStore(configuration: configuration, catalog: MemoryBlobCatalog(), devices: devices, clock: clock)
        devices[0].fail(losingData: false)
        devices[1].fail(losingData: false)
        var random = SeededRandom(seed: 4)
        for _ in 0..<20 {
            let id = try store.put(random.bytes(5000))
            guard case .erasureCoded(_, let placement)? = try store.manifest(id)?.body else { Issue.record("coded"); return }
            #expect(Set(placement).count == 6 && !placement.contains(devices[0].id) && !placement.contains(devices[1].id))
        }
        // With a third location down only five remain: shards are not doubled up, so at least
        // one of the six chosen locations is down and the put misses the quorum of 5 whenever
        // two or more are.
        devices[2].fail(losingData: false)
        var failures = 0
        for _ in 0..<20 {
            do { try store.put(random.bytes(5000)) } catch { failures += 1; #expect(error.kind == .unavailable) }
        }
        #expect(failures > 0)
    }
}

@Suite struct BlobStoreStatusTests {
    @Test func statusAndScrubRenderAsJSON() throws {
        let devices = [MemoryShardDevice(id: StorageLocationID("disk \"a\""), failureDomain: "rack\n1")]
        let store = try BlobStore(configuration: BlobStoreConfiguration(catalogPath: "", locations: [], scheme: .single),
                                  catalog: MemoryBlobCatalog(), devices: devices, clock: ManualClock())
        var random = SeededRandom(seed: 5)
        try store.put(random.bytes(100_000))
        try store.put(Array("tiny".utf8))
        _ = store.scrub(maxBytes: .max)
        let status = store.status()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.json.utf8)) as? [String: Any])
        #expect(object["blobs"] as? Int == 2 && object["inline_blobs"] as? Int == 1)
        let locations = try #require(object["locations"] as? [[String: Any]])
        #expect(locations.first?["id"] as? String == "disk \"a\"" && locations.first?["failure_domain"] as? String == "rack\n1")
        let scrub = try #require(object["last_scrub"] as? [String: Any])
        #expect(scrub["blobs_checked"] as? Int == 2 && scrub["pass_completed"] as? Bool == true)
        #expect(status.description.contains("blobs 2 (inline 1, coded 1"))
    }
}

@Suite struct BlobStreamingTests {
    let devices = (0..<6).map { MemoryShardDevice(id: StorageLocationID("s\($0)"), failureDomain: "d\($0)") }

    func makeStore() throws -> BlobStore {
        var configuration = BlobStoreConfiguration(catalogPath: "", locations: [], scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        configuration.stripeBytes = 64 * 1024
        configuration.inlineBytesMax = 4096
        return try BlobStore(configuration: configuration, catalog: MemoryBlobCatalog(), devices: devices, clock: ManualClock())
    }

    func streamed(_ store: BlobStore, _ id: BlobID) throws(StalError) -> (bytes: [UInt8], chunks: [Int]) {
        var bytes: [UInt8] = []
        var chunks: [Int] = []
        try store.read(id) { (chunk: ArraySlice<UInt8>) throws(StalError) in
            bytes += chunk
            chunks.append(chunk.count)
        }
        return (bytes, chunks)
    }

    @Test func streamsEveryKindOfBlob() throws {
        let store = try makeStore()
        var random = SeededRandom(seed: 6)
        let text = Array(String(repeating: "Received: from mx.example.org by stal; ", count: 40_000).utf8)
        let cases: [[UInt8]] = [[], Array("short".utf8), Array(text.prefix(3000)), random.bytes(3000), random.bytes(700_000), text]
        for bytes in cases {
            let id = try store.put(bytes)
            let (read, chunks) = try streamed(store, id)
            #expect(read == bytes)
            #expect(chunks.allSatisfy { $0 <= BlobStore.streamChunkBytesMax })
        }
        #expect(try store.manifest(try store.put(text))?.compression == .zstd)
    }

    @Test func streamingRebuildsDamagedStripesAndRefusesBeyondParity() throws {
        let store = try makeStore()
        var random = SeededRandom(seed: 7)
        let bytes = random.bytes(300_000)
        let id = try store.put(bytes)
        store.drain()
        guard case .erasureCoded(_, let placement)? = try store.manifest(id)?.body else { Issue.record("coded"); return }
        let device = { (shard: Int) in devices.first { $0.id == placement[shard] }! }
        device(1).dropShard(blob: id, shard: 1)
        device(2).corrupt(blob: id, shard: 2, offset: 40_000)
        #expect(try streamed(store, id).bytes == bytes)
        #expect(store.status().blobsAwaitingHeal == 1)
        device(0).dropShard(blob: id, shard: 0)
        device(2).dropShard(blob: id, shard: 2)
        #expect(throws: StalError.self) { try streamed(store, id) }
    }
}

/// The lower-level calls a caller that hashes, compresses and counts references itself uses
/// (the mail store inlines small zstd frames in its log and keeps counts in its own state).
@Suite struct CallerAddressedBlobTests {
    let devices = (0..<6).map { MemoryShardDevice(id: StorageLocationID("c\($0)"), failureDomain: "d\($0)") }

    @Test func writeAsStoresBytesUnchangedAndRemoveDeletesAtOnce() throws {
        var configuration = BlobStoreConfiguration(catalogPath: "", locations: [], scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        configuration.inlineBytesMax = 1024
        let store = try BlobStore(configuration: configuration, catalog: MemoryBlobCatalog(), devices: devices, clock: ManualClock())
        let frame = Array(repeating: UInt8(ascii: "z"), count: 200_000)
        let id = BlobID(digest: Array(repeating: 7, count: 32))!
        try store.write(frame, as: id)
        store.drain()
        let manifest = try #require(try store.manifest(id))
        #expect(manifest.addressing == .caller && manifest.compression == .none && manifest.storedLength == frame.count)
        #expect(try store.get(id) == frame)
        #expect(try store.get(id, range: 10..<20) == Array(frame[10..<20]))
        var streamed: [UInt8] = []
        try store.read(id) { (chunk: ArraySlice<UInt8>) throws(StalError) in streamed += chunk }
        #expect(streamed == frame)
        try store.write(Array("different".utf8), as: id)
        #expect(try store.get(id) == frame)
        try store.remove(id)
        #expect(try store.manifest(id) == nil)
        #expect(devices.allSatisfy { $0.inventory().isEmpty })
        try store.remove(id)
    }
}
