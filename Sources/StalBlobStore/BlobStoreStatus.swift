import StalCore
import StalErasure

/// Health of the blob store, as `stalctl blob status` shows it.
public struct BlobStoreStatus: Hashable, Sendable, CustomStringConvertible {
    public struct Location: Hashable, Sendable {
        public var id: StorageLocationID
        public var failureDomain: String
        public var usable: Bool
        /// Shards the manifests place here.
        public var shards: Int
    }

    public var scheme = ErasureScheme.single
    public var blobs = 0
    public var inlineBlobs = 0
    public var erasureCodedBlobs = 0
    public var referencedBlobs = 0
    public var unreadableManifests = 0
    public var logicalBytes = 0
    public var storedBytes = 0
    public var locations: [Location] = []
    public var lastScrub: ScrubReport?
    /// Blobs that reads found damaged and the next scrub step will heal.
    public var blobsAwaitingHeal = 0

    public var description: String {
        var lines = [
            "scheme \(scheme)  blobs \(blobs) (inline \(inlineBlobs), coded \(erasureCodedBlobs), referenced \(referencedBlobs))",
            "bytes logical \(logicalBytes) stored \(storedBytes)" + (unreadableManifests > 0 ? "  unreadable manifests \(unreadableManifests)" : ""),
        ]
        for location in locations {
            lines.append("location \(location.id) domain \(location.failureDomain) \(location.usable ? "up" : "DOWN") shards \(location.shards)")
        }
        if blobsAwaitingHeal > 0 { lines.append("blobs awaiting heal \(blobsAwaitingHeal)") }
        if let scrub = lastScrub {
            lines.append("last scrub: checked \(scrub.blobsChecked) read \(scrub.bytesRead) missing \(scrub.shardsMissing) corrupt \(scrub.shardsCorrupt) healed \(scrub.shardsHealed) unrecoverable \(scrub.unrecoverable.count)")
        }
        return lines.joined(separator: "\n")
    }
}
