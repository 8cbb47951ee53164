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
    /// When the last scrub step finished (the store's clock).
    public var lastScrubAt: Timestamp?
    /// Blobs that reads found damaged and the next scrub step will heal.
    public var blobsAwaitingHeal = 0

    public enum Health: String, Sendable {
        /// Every location up, nothing awaiting heal, and the last scrub left no damage behind.
        case healthy
        /// Data is intact but redundancy is reduced: a location down, shards awaiting heal,
        /// or damage the last scrub could not rewrite.
        case degraded
        /// The last scrub found a blob with fewer than k intact shards in some stripe.
        case unrecoverable
    }

    /// Health as of the last scrub step and the locations' current state.
    public var health: Health {
        if let scrub = lastScrub, !scrub.unrecoverable.isEmpty { return .unrecoverable }
        if locations.contains(where: { !$0.usable }) || blobsAwaitingHeal > 0 || (lastScrub?.healFailures ?? 0) > 0 {
            return .degraded
        }
        return .healthy
    }

    public var description: String {
        var lines = [
            "health \(health.rawValue)",
            "scheme \(scheme)  blobs \(blobs) (inline \(inlineBlobs), coded \(erasureCodedBlobs), referenced \(referencedBlobs))",
            "bytes logical \(logicalBytes) stored \(storedBytes)" + (unreadableManifests > 0 ? "  unreadable manifests \(unreadableManifests)" : ""),
        ]
        for location in locations {
            lines.append("location \(location.id) domain \(location.failureDomain) \(location.usable ? "up" : "DOWN") shards \(location.shards)")
        }
        if blobsAwaitingHeal > 0 { lines.append("blobs awaiting heal \(blobsAwaitingHeal)") }
        if let scrub = lastScrub {
            lines.append("last scrub\(lastScrubAt.map { " at \($0)" } ?? ""): checked \(scrub.blobsChecked) read \(scrub.bytesRead) missing \(scrub.shardsMissing) corrupt \(scrub.shardsCorrupt) healed \(scrub.shardsHealed) unrecoverable \(scrub.unrecoverable.count)")
        }
        return lines.joined(separator: "\n")
    }
}

extension BlobStoreStatus {
    /// One JSON object, for the management API behind `stalctl blob status`.
    public var json: String {
        let locationObjects = locations.map {
            "{\"id\":\(JSONText.quoted($0.id.name)),\"failure_domain\":\(JSONText.quoted($0.failureDomain)),\"usable\":\($0.usable),\"shards\":\($0.shards)}"
        }
        return "{\"health\":\"\(health.rawValue)\",\"scheme\":{\"k\":\(scheme.dataShards),\"m\":\(scheme.parityShards)},\"blobs\":\(blobs),\"inline_blobs\":\(inlineBlobs),"
            + "\"erasure_coded_blobs\":\(erasureCodedBlobs),\"referenced_blobs\":\(referencedBlobs),"
            + "\"unreadable_manifests\":\(unreadableManifests),\"logical_bytes\":\(logicalBytes),\"stored_bytes\":\(storedBytes),"
            + "\"blobs_awaiting_heal\":\(blobsAwaitingHeal),\"locations\":[\(locationObjects.joined(separator: ","))],"
            + "\"last_scrub\":\(lastScrub?.json ?? "null"),\"last_scrub_at_ms\":\(lastScrubAt.map { String($0.millisecondsSinceEpoch) } ?? "null")}"
    }
}

extension ScrubReport {
    /// One JSON object, for the management API behind `stalctl blob scrub`.
    public var json: String {
        "{\"blobs_checked\":\(blobsChecked),\"bytes_read\":\(bytesRead),\"shards_missing\":\(shardsMissing),"
            + "\"shards_corrupt\":\(shardsCorrupt),\"shards_healed\":\(shardsHealed),\"heal_failures\":\(healFailures),"
            + "\"unrecoverable\":[\(unrecoverable.map { "\"\($0.hex)\"" }.joined(separator: ","))],\"pass_completed\":\(passCompleted)}"
    }
}

enum JSONText {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
