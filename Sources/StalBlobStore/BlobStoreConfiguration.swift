import StalCore
import StalErasure

/// A local directory that holds shards, and the failure domain it shares fate with.
public struct BlobLocation: Hashable, Sendable {
    public var id: StorageLocationID
    public var path: String
    public var failureDomain: String

    public init(id: StorageLocationID, path: String, failureDomain: String) {
        self.id = id
        self.path = path
        self.failureDomain = failureDomain
    }
}

/// Every knob of the blob store, each with its default. See docs/erasure.md for the numbers
/// behind the defaults.
public struct BlobStoreConfiguration: Sendable {
    /// The `FileBlobCatalog` directory of `BlobStore(configuration:clock:)`; unused with a
    /// catalog of the caller's (the node's manifests ride the shard log).
    public var catalogPath: String
    public var locations: [BlobLocation]
    public var scheme: ErasureScheme
    /// Data bytes per stripe; rounded to a multiple of 64·k.
    public var stripeBytes = StripeLayout.defaultStripeBytes
    /// Shards that must be durable before put returns; nil means k+1 capped at k+m.
    public var writeQuorum: Int?
    /// Stored (post-compression) blobs up to this size travel inline in the manifest: one
    /// fsynced write instead of k+m (measured in docs/erasure.md).
    public var inlineBytesMax = 64 * 1024
    public var blobBytesMax = 64 * 1024 * 1024
    /// Shard writes in flight per location; a put waits for a slot, so concurrent puts cannot
    /// multiply I/O threads without bound.
    public var shardWritesInFlightPerLocationMax = 8
    public var zstdLevel: Int32 = 3
    /// Compression is kept only when it saves at least this share of the bytes.
    public var compressionSavingPercentMin = 10
    /// Blobs shorter than this are not worth a zstd frame.
    public var compressionBytesMin = 256
    /// Unreferenced blobs and orphaned shards younger than this are left alone: a put
    /// precedes the log command that references its blob.
    public var garbageGraceMilliseconds: Int64 = 60 * 60 * 1000

    public init(catalogPath: String, locations: [BlobLocation], scheme: ErasureScheme) {
        self.catalogPath = catalogPath
        self.locations = locations
        self.scheme = scheme
    }

    /// The embedded default: one location, one copy, no parity.
    public static func singleLocation(path: String) -> BlobStoreConfiguration {
        BlobStoreConfiguration(catalogPath: path + "/catalog",
                               locations: [BlobLocation(id: StorageLocationID("local"), path: path + "/shards", failureDomain: "local")],
                               scheme: .single)
    }

    public var effectiveWriteQuorum: Int {
        writeQuorum ?? min(scheme.dataShards + 1, scheme.totalShards)
    }

    func validate() throws(StalError) {
        guard (scheme.dataShards...scheme.totalShards).contains(effectiveWriteQuorum) else {
            throw StalError(.invalidArgument, "blob store: write quorum \(effectiveWriteQuorum) outside k...k+m for \(scheme)")
        }
        guard shardWritesInFlightPerLocationMax >= 1 else {
            throw StalError(.invalidArgument, "blob store: shardWritesInFlightPerLocationMax must be at least 1")
        }
        guard inlineBytesMax >= 0, inlineBytesMax <= BlobManifest.inlineBytesMax else {
            throw StalError(.invalidArgument, "blob store: inline limit \(inlineBytesMax) above \(BlobManifest.inlineBytesMax)")
        }
    }
}
