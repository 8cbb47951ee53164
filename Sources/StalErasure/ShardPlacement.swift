import StalCore

/// A place that holds shards (a directory on a node, later a remote device), with the failure
/// domain it shares fate with (a disk, a host, a rack).
public struct StorageLocation: Hashable, Sendable {
    public var id: StorageLocationID
    public var failureDomain: String

    public init(id: StorageLocationID, failureDomain: String) {
        self.id = id
        self.failureDomain = failureDomain
    }
}

public struct StorageLocationID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let lengthMax = 255
    public let name: String

    public init(_ name: String) {
        precondition(!name.isEmpty && name.utf8.count <= Self.lengthMax, "location id of 1...255 bytes")
        self.name = name
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.name < rhs.name }
    public var description: String { name }
}

/// Where each shard of a blob lives, as a pure function of the blob id and the location set,
/// so every replica computes the same answer. Rendezvous hashing ranks locations per blob
/// (spreading blobs evenly and moving few when locations change); shards go to distinct
/// failure domains first, then to distinct locations, and only share a location when there
/// are fewer locations than shards.
public enum ShardPlacement {
    public static func place(blob: BlobID, shardCount: Int, locations: [StorageLocation]) -> [StorageLocationID] {
        precondition(!locations.isEmpty && shardCount >= 0)
        let order = spreadOrder(blob: blob, locations: locations)
        return (0..<shardCount).map { order[$0 % order.count].id }
    }

    /// A location for shard `shardIndex` when its current home is lost or damaged: the best
    /// ranked location in a failure domain no other shard of the blob uses, else a location no
    /// other shard uses, else the least loaded one. `current[i]` is shard i's location, nil if
    /// unknown; `usable` excludes locations that cannot take writes.
    public static func replacement(blob: BlobID, shardIndex: Int, current: [StorageLocationID?],
                                   locations: [StorageLocation], usable: (StorageLocationID) -> Bool = { _ in true }) -> StorageLocationID? {
        let candidates = spreadOrder(blob: blob, locations: locations).filter { usable($0.id) }
        guard !candidates.isEmpty else { return nil }
        let domainOf = Dictionary(locations.map { ($0.id, $0.failureDomain) }, uniquingKeysWith: { a, _ in a })
        var locationUse: [StorageLocationID: Int] = [:]
        var domainUse: [String: Int] = [:]
        for (i, location) in current.enumerated() where i != shardIndex {
            guard let location else { continue }
            locationUse[location, default: 0] += 1
            if let domain = domainOf[location] { domainUse[domain, default: 0] += 1 }
        }
        // Candidates are in rank order, so the first minimum wins ties deterministically.
        return candidates.min { a, b in
            let ka = (domainUse[a.failureDomain] ?? 0, locationUse[a.id] ?? 0)
            let kb = (domainUse[b.failureDomain] ?? 0, locationUse[b.id] ?? 0)
            return ka < kb
        }?.id
    }

    /// All locations in the order shards take them: the best location of each domain (domains
    /// ranked by their best location), then the second best of each, and so on.
    static func spreadOrder(blob: BlobID, locations: [StorageLocation]) -> [StorageLocation] {
        let ranked = locations.map { ($0, score(blob: blob, location: $0.id)) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.id < $1.0.id }
            .map(\.0)
        var domains: [String] = []
        var byDomain: [String: [StorageLocation]] = [:]
        for location in ranked {
            if byDomain[location.failureDomain] == nil { domains.append(location.failureDomain) }
            byDomain[location.failureDomain, default: []].append(location)
        }
        var order: [StorageLocation] = []
        var round = 0
        while order.count < ranked.count {
            for domain in domains where round < byDomain[domain]!.count {
                order.append(byDomain[domain]![round])
            }
            round += 1
        }
        return order
    }

    /// Rendezvous weight of a location for a blob: stable across processes and versions.
    static func score(blob: BlobID, location: StorageLocationID) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in blob.digest.prefix(16) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        for byte in location.name.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        h ^= h >> 30; h &*= 0xBF58_476D_1CE4_E5B9
        h ^= h >> 27; h &*= 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }
}
