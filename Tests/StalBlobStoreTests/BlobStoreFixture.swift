import Foundation
import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure

/// A blob store over fresh temporary directories: `locationCount` locations, each its own
/// failure domain, removed when the fixture goes away.
final class BlobStoreFixture {
    let root: String
    let clock = ManualClock()
    var configuration: BlobStoreConfiguration

    init(k: Int = 4, m: Int = 2, locationCount: Int = 6, stripeBytes: Int = 64 * 1024, inlineBytesMax: Int = 4096) throws {
        let root = NSTemporaryDirectory() + "stal-blobstore-" + UUID().uuidString
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let locations = try (0..<locationCount).map { i in
            let path = root + "/loc\(i)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return BlobLocation(id: StorageLocationID("loc\(i)"), path: path, failureDomain: "rack\(i)")
        }
        configuration = BlobStoreConfiguration(catalogPath: root + "/catalog", locations: locations,
                                               scheme: try ErasureScheme(dataShards: k, parityShards: m))
        configuration.stripeBytes = stripeBytes
        configuration.inlineBytesMax = inlineBytesMax
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func open() throws -> BlobStore { try BlobStore(configuration: configuration, clock: clock) }

    func location(_ id: StorageLocationID) -> BlobLocation { configuration.locations.first { $0.id == id }! }

    func shardPath(_ blob: BlobID, shard: Int, at locationID: StorageLocationID) -> String {
        location(locationID).path + "/" + String(blob.hex.prefix(2)) + "/\(blob.hex).\(shard).shard"
    }

    /// Paths of the blob's shards, once every shard write in flight has finished.
    func shardPaths(_ store: BlobStore, _ blob: BlobID) throws -> [String] {
        store.drain()
        guard case .erasureCoded(_, let placement)? = try store.manifest(blob)?.body else { return [] }
        return placement.enumerated().map { shardPath(blob, shard: $0.offset, at: $0.element) }
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        return random.bytes(count)
    }

    static func flipByte(at offset: Int, in path: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: [byte ^ 0x5A])
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }
}
