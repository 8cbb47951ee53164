import Dispatch
import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure
import Testing

/// Seeded random campaigns over memory devices: puts, gets, range gets, shard loss, bit rot,
/// truncation, wiped disks, beyond-parity damage, scrubs and garbage collection, checked
/// against a model after every step. A failure names its seed; the same seed replays it.
@Suite struct BlobStoreFaultCampaignTests {
    /// Used by one thread at a time: built by the test, then stepped on one Dispatch thread.
    final class Campaign: @unchecked Sendable {
        let m = 2
        var random: SeededRandom
        let clock = ManualClock()
        let devices: [MemoryShardDevice]
        let store: BlobStore
        var live: [BlobID: [UInt8]] = [:]
        /// Blobs deliberately damaged beyond parity: reads must fail, never return bytes.
        var lost = Set<BlobID>()
        /// Shards damaged since the last full scrub, per blob (an upper bound on real damage).
        var damaged: [BlobID: Set<Int>] = [:]
        var retained = Set<BlobID>()
        var healed = 0
        var everLost = 0
        var collected = 0

        init(seed: UInt64) throws {
            random = SeededRandom(seed: seed)
            devices = (0..<8).map { MemoryShardDevice(id: StorageLocationID("dev\($0)"), failureDomain: "host\($0 / 2)-\($0 % 2)") }
            var configuration = BlobStoreConfiguration(catalogPath: "", locations: [], scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
            configuration.stripeBytes = 16 * 1024
            configuration.inlineBytesMax = 2048
            store = try BlobStore(configuration: configuration, catalog: MemoryBlobCatalog(), devices: devices, clock: clock)
        }

        func placement(_ id: BlobID) throws -> [StorageLocationID]? {
            guard case .erasureCoded(_, let shards)? = try store.manifest(id)?.body else { return nil }
            return shards
        }

        func device(_ id: StorageLocationID) -> MemoryShardDevice { devices.first { $0.id == id }! }

        func codedBlobs() throws -> [BlobID] { try live.keys.sorted().filter { try placement($0) != nil } }

        func pick<T>(_ items: [T]) -> T? { items.isEmpty ? nil : items[Int(random.next(below: UInt64(items.count)))] }

        func step() throws {
            switch random.next(below: 100) {
            case 0..<30: try put()
            case 30..<50: try checkRead()
            case 50..<68: try damageShard()
            case 68..<72: try wipeDevice()
            case 72..<75: try damageBeyondParity()
            case 75..<85: partialScrub()
            case 85..<93: try fullScrub()
            default: try collect()
            }
        }

        func put() throws {
            let size = Int(random.next(below: 120_000))
            var bytes = random.bytes(size)
            if random.chance(1, in: 3) { for i in stride(from: 0, to: size, by: 2) { bytes[i] = 0x41 } }
            let id = try store.put(bytes)
            store.drain()
            live[id] = bytes
            if random.chance(1, in: 2) { try store.retain(id); retained.insert(id) }
        }

        func checkRead() throws {
            guard let id = pick(Array(live.keys)) else { return }
            let bytes = live[id]!
            if lost.contains(id) {
                #expect(throws: StalError.self) { try self.store.get(id) }
                return
            }
            #expect(try store.get(id) == bytes)
            let a = Int(random.next(below: UInt64(bytes.count + 1))), b = Int(random.next(below: UInt64(bytes.count + 1)))
            #expect(try store.get(id, range: min(a, b)..<max(a, b)) == Array(bytes[min(a, b)..<max(a, b)]))
        }

        func damageShard() throws {
            guard let id = pick(try codedBlobs().filter { !lost.contains($0) && damaged[$0, default: []].count < m }),
                  let shards = try placement(id) else { return }
            let shard = Int(random.next(below: UInt64(shards.count)))
            let device = device(shards[shard])
            switch random.next(below: 3) {
            case 0: device.dropShard(blob: id, shard: shard)
            case 1: device.corrupt(blob: id, shard: shard, offset: Int(random.next(below: 1 << 20)), mask: UInt8(truncatingIfNeeded: random.next() | 1))
            default: device.truncate(blob: id, shard: shard, to: Int(random.next(below: 1000)))
            }
            damaged[id, default: []].insert(shard)
        }

        /// A disk dies and is replaced empty; allowed only while no blob would exceed m.
        func wipeDevice() throws {
            guard let device = pick(devices) else { return }
            var added: [BlobID: Set<Int>] = [:]
            for id in try codedBlobs() where !lost.contains(id) {
                for (shard, location) in try placement(id)!.enumerated() where location == device.id { added[id, default: []].insert(shard) }
            }
            guard added.allSatisfy({ damaged[$0.key, default: []].union($0.value).count <= m }) else { return }
            device.fail(losingData: true)
            device.recover()
            for (id, shards) in added { damaged[id, default: []].formUnion(shards) }
        }

        func damageBeyondParity() throws {
            guard let id = pick(try codedBlobs().filter { !lost.contains($0) }), let shards = try placement(id) else { return }
            for shard in 0...m { device(shards[shard]).dropShard(blob: id, shard: shard) }
            lost.insert(id)
            everLost += 1
        }

        func partialScrub() {
            let report = store.scrub(maxBytes: Int(random.next(below: 300_000)))
            healed += report.shardsHealed
            #expect(report.healFailures == 0)
            #expect(Set(report.unrecoverable).isSubset(of: lost))
        }

        func fullScrub() throws {
            // Finish the pass in progress, then run one complete pass.
            while !store.scrub(maxBytes: .max).passCompleted {}
            let report = store.scrub(maxBytes: .max)
            healed += report.shardsHealed
            #expect(report.passCompleted && report.healFailures == 0)
            #expect(Set(report.unrecoverable) == lost.intersection(try codedBlobs()))
            damaged.removeAll()
            let clean = store.scrub(maxBytes: .max)
            #expect(clean.shardsHealed == 0 && Set(clean.unrecoverable) == Set(report.unrecoverable))
        }

        func collect() throws {
            clock.advance(milliseconds: store.configuration.garbageGraceMilliseconds + 1)
            _ = try store.collectGarbage()
            for id in Array(live.keys) where !retained.contains(id) {
                #expect(throws: StalError.self) { try self.store.get(id) }
                collected += 1
                live[id] = nil
                lost.remove(id)
                damaged[id] = nil
            }
            // Everything left is referenced; no device holds a shard of a collected blob.
            let liveIDs = Set(live.keys)
            for device in devices { #expect(device.inventory().allSatisfy { liveIDs.contains($0.blob) }) }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func campaign(seed: UInt64) async throws {
        let campaign = try Campaign(seed: seed)
        // Seconds of synchronous I/O: on a Dispatch thread, so the cooperative pool (one
        // thread per core) stays free for the servers of suites running in parallel.
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                done.resume(with: Result {
                    for _ in 0..<250 { try campaign.step() }
                    try campaign.fullScrub()
                })
            }
        }
        for (id, bytes) in campaign.live where !campaign.lost.contains(id) {
            #expect(try campaign.store.get(id) == bytes, "seed \(seed) blob \(id.hex)")
        }
        #expect(campaign.live.count > 5 && campaign.healed > 0 && campaign.everLost > 0 && campaign.collected > 0,
                "seed \(seed): \(campaign.live.count) live, \(campaign.healed) healed, \(campaign.everLost) lost, \(campaign.collected) collected")
    }
}
