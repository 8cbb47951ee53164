import Foundation
import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure
import Testing
@testable import StalBlobStore

/// Shards deleted, flipped, truncated; whole locations lost; puts cut short by a crash.
@Suite struct BlobStoreFaultTests {
    enum Damage: CaseIterable { case delete, flipCell, flipHeader, truncate }

    func damage(_ path: String, _ kind: Damage, random: inout SeededRandom) throws {
        let size = BlobStoreFixture.fileSize(path)
        switch kind {
        case .delete: try FileManager.default.removeItem(atPath: path)
        case .flipCell: try BlobStoreFixture.flipByte(at: 200 + Int(random.next(below: UInt64(size - 200))), in: path)
        case .flipHeader: try BlobStoreFixture.flipByte(at: Int(random.next(below: 70)), in: path)
        case .truncate: try FileHandle(forWritingTo: URL(fileURLWithPath: path)).truncate(atOffset: UInt64(size / 2))
        }
    }

    @Test(arguments: [(4, 2), (6, 3), (2, 1)])
    func upToMDamagedShardsStillReadAndHeal(k: Int, m: Int) throws {
        let fixture = try BlobStoreFixture(k: k, m: m, locationCount: k + m, stripeBytes: StripeLayout.alignedStripeBytes(32 * 1024, scheme: try ErasureScheme(dataShards: k, parityShards: m)))
        let store = try fixture.open()
        var random = SeededRandom(seed: UInt64(k * 10 + m))
        var blobs: [(BlobID, [UInt8])] = []
        for i in 0..<12 {
            let bytes = BlobStoreFixture.randomBytes(5000 + Int(random.next(below: 250_000)), seed: UInt64(i))
            blobs.append((try store.put(bytes), bytes))
        }
        var damagedShards = 0
        for (id, _) in blobs {
            let paths = try fixture.shardPaths(store, id)
            var indices = Array(paths.indices)
            let count = Int(random.next(below: UInt64(m + 1)))
            for _ in 0..<count {
                let path = paths[indices.remove(at: Int(random.next(below: UInt64(indices.count))))]
                try damage(path, Damage.allCases[Int(random.next(below: 4))], random: &random)
                damagedShards += 1
            }
        }
        #expect(damagedShards > 0)
        for (id, bytes) in blobs {
            #expect(try store.get(id) == bytes)
            let a = Int(random.next(below: UInt64(bytes.count))), b = Int(random.next(below: UInt64(bytes.count)))
            #expect(try store.get(id, range: min(a, b)..<max(a, b)) == Array(bytes[min(a, b)..<max(a, b)]))
        }
        let report = store.scrub(maxBytes: .max)
        #expect(report.shardsMissing + report.shardsCorrupt == damagedShards)
        #expect(report.shardsHealed == damagedShards && report.unrecoverable.isEmpty)
        let clean = store.scrub(maxBytes: .max)
        #expect(clean.shardsMissing == 0 && clean.shardsCorrupt == 0 && clean.shardsHealed == 0)
        // Healed shards alone must now suffice: remove m other shards and read again.
        for (id, bytes) in blobs {
            for path in try fixture.shardPaths(store, id).prefix(m) { try FileManager.default.removeItem(atPath: path) }
            #expect(try store.get(id) == bytes)
        }
    }

    @Test func moreThanMDamagedShardsIsAClearErrorNeverWrongBytes() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        let bytes = BlobStoreFixture.randomBytes(200_000, seed: 9)
        let id = try store.put(bytes)
        let paths = try fixture.shardPaths(store, id)
        var random = SeededRandom(seed: 3)
        for path in paths.prefix(3) { try damage(path, .flipCell, random: &random) }
        // Every stripe may still have 4 intact cells if the flips hit different stripes, so
        // flip the same stripe's cell (stripe 0) in three shards to be sure.
        for path in paths.prefix(3) { try BlobStoreFixture.flipByte(at: ShardHeader.encodedLength(stripeCount: 4) + 5, in: path) }
        do {
            let read = try store.get(id)
            Issue.record("read \(read.count) bytes from a blob with three damaged shards")
        } catch {
            #expect(error.kind == .corrupted)
            #expect(error.context.contains("stripe 0"))
        }
        let report = store.scrub(maxBytes: .max)
        #expect(report.unrecoverable == [id] && report.shardsHealed == 0)
    }

    @Test func lostLocationIsRebuiltElsewhere() throws {
        let fixture = try BlobStoreFixture(locationCount: 7)
        let store = try fixture.open()
        let bytes = BlobStoreFixture.randomBytes(150_000, seed: 10)
        let id = try store.put(bytes)
        guard case .erasureCoded(_, let before)? = try store.manifest(id)?.body else { Issue.record("coded"); return }
        store.drain()
        let lost = before[2]
        try FileManager.default.removeItem(atPath: fixture.location(lost).path)
        #expect(try store.get(id) == bytes)
        #expect(store.status().locations.first { $0.id == lost }?.usable == false)
        let report = store.scrub(maxBytes: .max)
        #expect(report.shardsMissing == 1 && report.shardsHealed == 1)
        guard case .erasureCoded(_, let after)? = try store.manifest(id)?.body else { Issue.record("coded"); return }
        #expect(!after.contains(lost) && Set(after).count == 6)
        #expect(after.enumerated().allSatisfy { $0.offset == 2 || $0.element == before[$0.offset] })
        for path in try fixture.shardPaths(store, id).prefix(2) { try FileManager.default.removeItem(atPath: path) }
        #expect(try store.get(id) == bytes)
    }

    @Test func crashMidPutLeavesNoVisibleBlobAndItsShardsAreCollected() throws {
        let fixture = try BlobStoreFixture()
        let bytes = BlobStoreFixture.randomBytes(120_000, seed: 11)
        var id: BlobID!
        do {
            let store = try fixture.open()
            try store.put(Array("unrelated".utf8))
            id = BlobID(digest: Array(FixtureHash.sha256(bytes)))!
            // The put stops after the shards are durable and before the manifest commits.
            _ = try store.stageShards(id: id, bytes: bytes, at: fixture.clock.now())
            store.drain()
        }
        let leftover = fixture.configuration.locations[0].path + "/" + String(id.hex.prefix(2)) + "/\(id.hex).9.shard.\(fixture.clock.now().millisecondsSinceEpoch)-77.tmp"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: leftover))
        let store = try fixture.open()
        #expect(throws: StalError.self) { try store.get(id) }
        #expect(try store.manifest(id) == nil)
        #expect(try store.collectGarbage() == GarbageReport())
        fixture.clock.advance(milliseconds: fixture.configuration.garbageGraceMilliseconds + 1)
        let report = try store.collectGarbage()
        // The unreferenced "unrelated" blob goes too: its grace period has passed.
        #expect(report.shardsCollected == 6 && report.temporariesCollected == 1 && report.blobsCollected == 1)
        for location in fixture.configuration.locations {
            #expect(FileManager.default.fileExists(atPath: fixture.shardPath(id, shard: 0, at: location.id)) == false)
        }
        #expect(!FileManager.default.fileExists(atPath: leftover))
        // A fresh put of the same bytes afterwards works normally.
        #expect(try store.put(bytes) == id)
        #expect(try store.get(id) == bytes)
    }

    /// Two deliveries of one message both stage its blob before either records the
    /// manifest; the first may record it while the second writes. The second must then
    /// replace each shard by rename, never truncate a file a reader (or a crash) relies on.
    @Test func stagingAnUnrecordedBlobAgainReplacesItsShardsAtomically() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        let bytes = BlobStoreFixture.randomBytes(120_000, seed: 13)
        let id = BlobID(digest: [UInt8](repeating: 0xCD, count: 32))!
        let first = try #require(try store.stage(bytes, as: id))
        store.drain()
        #expect(try store.manifest(id) == nil)
        guard case .erasureCoded(_, let placement) = first.body else {
            Issue.record("120 KB is erasure-coded, got \(first.body)")
            return
        }
        let path = fixture.shardPath(id, shard: 0, at: placement[0])
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let held = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? held.close() }
        let heldFile = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int

        fixture.clock.advance(milliseconds: 5)
        let second = try #require(try store.stage(bytes, as: id))
        store.drain()
        #expect(second.body == first.body)
        // A new file under the name (its header carries the later write time); the one held
        // open was not touched.
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int != heldFile)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) != original)
        #expect(try held.readToEnd() == original)
        let directory = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasSuffix(".tmp") })

        // Recorded, the blob reads back, and staging it again has nothing to do.
        try store.commit(second, at: fixture.clock.now())
        #expect(try store.get(id) == bytes)
        #expect(try store.stage(bytes, as: id) == nil)
    }
}

@Suite struct ReadTriggeredHealTests {
    @Test func aDegradedReadQueuesTheBlobForTheNextScrubStep() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        var blobs: [BlobID] = []
        for seed in 0..<3 as Range<UInt64> { blobs.append(try store.put(BlobStoreFixture.randomBytes(100_000, seed: 400 + seed))) }
        let damaged = blobs.max()!
        try FileManager.default.removeItem(atPath: try fixture.shardPaths(store, damaged)[0])
        #expect(try store.get(damaged).count == 100_000)
        #expect(store.status().blobsAwaitingHeal == 1)
        // A step too small for the regular pass to reach the damaged blob still heals it.
        let report = store.scrub(maxBytes: 1)
        #expect(report.shardsHealed == 1 && report.shardsMissing == 1)
        #expect(store.status().blobsAwaitingHeal == 0)
        #expect(FileManager.default.fileExists(atPath: try fixture.shardPaths(store, damaged)[0]))
    }
}
