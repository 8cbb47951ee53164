import Foundation
import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure
import Testing

@Suite struct BlobStoreTests {
    @Test func singleLocationDefaultRoundTrips() throws {
        let root = NSTemporaryDirectory() + "stal-blob-single-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/shards", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try BlobStore(configuration: .singleLocation(path: root), clock: ManualClock())
        let big = BlobStoreFixture.randomBytes(300_000, seed: 1)
        let small = Array("Subject: hi\r\n\r\nhello\r\n".utf8)
        let bigID = try store.put(big), smallID = try store.put(small)
        #expect(try store.get(bigID) == big)
        #expect(try store.get(smallID) == small)
        #expect(try store.get(bigID, range: 1000..<2000) == Array(big[1000..<2000]))
        #expect(try store.put(big) == bigID)
        guard case .erasureCoded(let layout, let shards)? = try store.manifest(bigID)?.body else {
            Issue.record("a 300 kB blob is erasure-coded")
            return
        }
        #expect(layout.scheme == .single && shards == [StorageLocationID("local")])
        #expect(store.status().blobs == 2)
    }

    @Test func smallBlobsInlineLargeBlobsSpreadAcrossDomains() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        let small = try store.put(BlobStoreFixture.randomBytes(4000, seed: 2))
        guard case .inline? = try store.manifest(small)?.body else { Issue.record("small blob inline"); return }
        let large = try store.put(BlobStoreFixture.randomBytes(200_000, seed: 3))
        guard case .erasureCoded(let layout, let placement)? = try store.manifest(large)?.body else {
            Issue.record("large blob coded"); return
        }
        #expect(layout.scheme.totalShards == 6)
        #expect(Set(placement).count == 6)
        for path in try fixture.shardPaths(store, large) { #expect(FileManager.default.fileExists(atPath: path)) }
        let status = store.status()
        #expect(status.inlineBlobs == 1 && status.erasureCodedBlobs == 1)
        #expect(status.locations.allSatisfy { $0.usable && $0.shards == 1 })
    }

    @Test func compressesOnlyWhenItPays() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        let text = Array(String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 5000).utf8)
        let textID = try store.put(text)
        let manifest = try #require(try store.manifest(textID))
        #expect(manifest.compression == .zstd && manifest.storedLength < text.count / 10)
        #expect(try store.get(textID) == text)
        #expect(try store.get(textID, range: 12_345..<23_456) == Array(text[12_345..<23_456]))
        let noise = BlobStoreFixture.randomBytes(100_000, seed: 4)
        #expect(try store.manifest(try store.put(noise))?.compression == BlobManifest.Compression.none)
    }

    @Test func healthyRangeReadTouchesOnlyTheDataShardsHoldingIt() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        let bytes = BlobStoreFixture.randomBytes(300_000, seed: 5)
        let id = try store.put(bytes)
        let paths = try fixture.shardPaths(store, id)
        // Cells are 16 KiB (64 KiB stripes, k=4): bytes 100..<9000 live in data shard 0 only.
        for path in paths.dropFirst() { try FileManager.default.removeItem(atPath: path) }
        #expect(try store.get(id, range: 100..<9000) == Array(bytes[100..<9000]))
        #expect(throws: StalError.self) { try store.get(id, range: 20_000..<21_000) }
    }

    @Test func putWaitsForItsWriteQuorum() throws {
        let fixture = try BlobStoreFixture()
        let bytes = BlobStoreFixture.randomBytes(100_000, seed: 6)
        try FileManager.default.removeItem(atPath: fixture.configuration.locations[0].path)
        try FileManager.default.removeItem(atPath: fixture.configuration.locations[1].path)
        let strict = try fixture.open()
        #expect(strict.configuration.effectiveWriteQuorum == 5)
        #expect(throws: StalError.self) { try strict.put(bytes) }
        fixture.configuration.writeQuorum = 4
        let lenient = try fixture.open()
        let id = try lenient.put(bytes)
        lenient.drain()
        #expect(try lenient.get(id) == bytes)
        // The two shards that could not be written are rebuilt once their locations return.
        try FileManager.default.createDirectory(atPath: fixture.configuration.locations[0].path, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fixture.configuration.locations[1].path, withIntermediateDirectories: true)
        let report = lenient.scrub(maxBytes: .max)
        #expect(report.shardsMissing == 2 && report.shardsHealed == 2)
        #expect(lenient.status().locations.allSatisfy { $0.usable && $0.shards == 1 })
    }

    @Test func referencesKeepBlobsAndReleaseLetsThemGo() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        let kept = try store.put(BlobStoreFixture.randomBytes(100_000, seed: 7))
        let dropped = try store.put(BlobStoreFixture.randomBytes(100_000, seed: 8))
        let young = try store.put(Array("young".utf8))
        try store.retain(kept)
        try store.retain(dropped)
        try store.release(dropped)
        #expect(try store.referenceCount(kept) == 1 && store.referenceCount(dropped) == 0)
        #expect(throws: StalError.self) { try store.release(dropped) }
        #expect(try store.collectGarbage().blobsCollected == 0)
        fixture.clock.advance(milliseconds: fixture.configuration.garbageGraceMilliseconds + 1)
        let paths = try fixture.shardPaths(store, dropped)
        try store.put(Array("young".utf8))
        let report = try store.collectGarbage()
        #expect(report.blobsCollected == 1 && report.shardsCollected == 6)
        #expect(throws: StalError.self) { try store.get(dropped) }
        #expect(paths.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        #expect(try store.get(young) == Array("young".utf8))
        #expect(try store.get(kept).count == 100_000)
    }

    @Test func scrubIsBoundedAndResumes() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        for seed in 0..<5 as Range<UInt64> { try store.put(BlobStoreFixture.randomBytes(100_000, seed: 100 + seed)) }
        var checked = 0
        var calls = 0
        while true {
            let report = store.scrub(maxBytes: 1)
            #expect(report.blobsChecked == 1)
            checked += report.blobsChecked
            calls += 1
            if report.passCompleted { break }
        }
        #expect(checked == 5 && calls == 5)
        #expect(store.scrub(maxBytes: .max).blobsChecked == 5)
    }
}

@Suite struct BlobScrubberTests {
    @Test func pausesKeepTheAverageAtTheRate() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        for seed in 0..<4 as Range<UInt64> { try store.put(BlobStoreFixture.randomBytes(100_000, seed: 200 + seed)) }
        var pacing = ScrubPacing()
        pacing.bytesPerSecond = 1_000_000
        pacing.stepBytes = 1
        pacing.passPauseMilliseconds = 3_600_000
        var pauses: [Int64] = []
        var reports: [ScrubReport] = []
        BlobScrubber(store: store, pacing: pacing).run(
            shouldStop: { reports.count == 5 },
            sleepMilliseconds: { pauses.append($0) },
            report: { reports.append($0) })
        #expect(reports.map(\.blobsChecked) == [1, 1, 1, 1, 1])
        #expect(reports.map(\.passCompleted) == [false, false, false, true, false])
        // Each blob's 6 shards hold 100 kB / 4 plus parity: about 150 kB read, so ~150 ms.
        for (pause, report) in zip(pauses.prefix(3), reports) {
            #expect(pause == Int64((report.bytesRead * 1000 + 999_999) / 1_000_000))
            #expect((140...170).contains(pause))
        }
        #expect(pauses[3] == 3_600_000)
        #expect(pauses.count == 4)
    }
}

@Suite struct BlobCompressionTests {
    @Test func incompressiblePrefixSkipsCompression() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        // Random first 512 KiB, then highly compressible text: the sample decides "no".
        let mixed = BlobStoreFixture.randomBytes(512 * 1024, seed: 12) + Array(repeating: UInt8(ascii: "a"), count: 512 * 1024)
        let id = try store.put(mixed)
        #expect(try store.manifest(id)?.compression == BlobManifest.Compression.none)
        #expect(try store.get(id) == mixed)
        let text = Array(repeating: UInt8(ascii: "b"), count: 1 << 20)
        #expect(try store.manifest(try store.put(text))?.compression == .zstd)
    }
}

@Suite struct BlobStoreConcurrencyTests {
    @Test func concurrentPutsOfSameAndDifferentBlobs() throws {
        let fixture = try BlobStoreFixture()
        let store = try fixture.open()
        let inputs = (0..<4).map { BlobStoreFixture.randomBytes(90_000, seed: 300 + UInt64($0)) }
        let ids = LockedResults(count: 12)
        DispatchQueue.concurrentPerform(iterations: 12) { i in
            ids.set(i, try? store.put(inputs[i % 4]))
        }
        let results = ids.values
        #expect(results.allSatisfy { $0 != nil })
        for i in 0..<12 {
            #expect(results[i] == results[i % 4])
            #expect(try store.get(results[i]!) == inputs[i % 4])
        }
        #expect(store.status().erasureCodedBlobs == 4)
        let scrub = store.scrub(maxBytes: .max)
        #expect(scrub.shardsCorrupt == 0 && scrub.shardsMissing == 0)
    }
}

final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [BlobID?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: BlobID?) { lock.withLock { storage[i] = value } }
    var values: [BlobID?] { lock.withLock { storage } }
}
