import StalCore
import StalDeterminism
import StalErasure

/// A shard device in memory for tests and the simulator, with the faults a disk has:
/// lost shards, flipped bits, truncation, and the whole device going away and coming back.
public final class MemoryShardDevice: ShardDevice, @unchecked Sendable {
    public let id: StorageLocationID
    public let failureDomain: String
    private let lock = Mutex()
    private var files: [ShardAddress: [UInt8]] = [:]
    private var usable = true
    private var writes = 0

    public init(id: StorageLocationID, failureDomain: String) {
        self.id = id
        self.failureDomain = failureDomain
    }

    public var isUsable: Bool { lock.withLock { usable } }

    /// Every successful write so far (new and replacement shards).
    public var writeCount: Int { lock.withLock { writes } }

    public func writeNew(_ file: UnsafeRawBufferPointer, blob: BlobID, shard: Int, at now: Timestamp) throws(StalError) {
        try store(Array(file), at: ShardAddress(blob: blob, shard: shard))
    }

    public func replace(_ file: [UInt8], blob: BlobID, shard: Int, at now: Timestamp) throws(StalError) {
        try store(file, at: ShardAddress(blob: blob, shard: shard))
    }

    private func store(_ file: [UInt8], at address: ShardAddress) throws(StalError) {
        let stored = lock.withLock { () -> Bool in
            guard usable else { return false }
            files[address] = file
            writes += 1
            return true
        }
        guard stored else { throw StalError(.unavailable, "location \(id) is unavailable") }
    }

    public func read(blob: BlobID, shard: Int, offset: Int, count: Int) throws(StalError) -> [UInt8]? {
        let result = lock.withLock { () -> [UInt8]?? in
            guard usable else { return .some(nil) }
            guard let file = files[ShardAddress(blob: blob, shard: shard)] else { return nil }
            let start = min(offset, file.count)
            return .some(Array(file[start..<min(file.count, offset + count)]))
        }
        switch result {
        case .none: return nil
        case .some(nil): throw StalError(.unavailable, "location \(id) is unavailable")
        case .some(let bytes?): return bytes
        }
    }

    public func length(blob: BlobID, shard: Int) -> Int? {
        lock.withLock { usable ? files[ShardAddress(blob: blob, shard: shard)]?.count : nil }
    }

    public func remove(blob: BlobID, shard: Int) throws(StalError) {
        _ = lock.withLock { files.removeValue(forKey: ShardAddress(blob: blob, shard: shard)) }
    }

    public func inventory() -> [ShardAddress] {
        lock.withLock { usable ? Array(files.keys) : [] }
    }

    public func removeLeftovers(before cutoff: Timestamp) throws(StalError) -> Int { 0 }

    // Faults.

    /// Takes the device away (reads and writes fail) and, with `losingData`, wipes it.
    public func fail(losingData: Bool) {
        lock.withLock {
            usable = false
            if losingData { files.removeAll() }
        }
    }

    public func recover() { lock.withLock { usable = true } }

    public func dropShard(blob: BlobID, shard: Int) {
        _ = lock.withLock { files.removeValue(forKey: ShardAddress(blob: blob, shard: shard)) }
    }

    /// Flips bits of the byte at `offset` (taken modulo the shard's length).
    public func corrupt(blob: BlobID, shard: Int, offset: Int, mask: UInt8 = 0x20) {
        lock.withLock {
            let address = ShardAddress(blob: blob, shard: shard)
            guard var file = files[address], !file.isEmpty else { return }
            file[offset % file.count] ^= mask == 0 ? 1 : mask
            files[address] = file
        }
    }

    public func truncate(blob: BlobID, shard: Int, to length: Int) {
        lock.withLock {
            let address = ShardAddress(blob: blob, shard: shard)
            guard let file = files[address] else { return }
            files[address] = Array(file.prefix(length))
        }
    }
}

/// Manifests and references in memory, for tests and the simulator.
public final class MemoryBlobCatalog: BlobCatalog, @unchecked Sendable {
    private let lock = Mutex()
    private var manifests: [BlobID: [UInt8]] = [:]
    private var records: [BlobID: BlobReferenceRecord] = [:]

    public init() {}

    public func manifest(_ id: BlobID) throws(StalError) -> BlobManifest? {
        guard let bytes = lock.withLock({ manifests[id] }) else { return nil }
        return try BlobManifest(decoding: bytes)
    }

    public func store(_ manifest: BlobManifest, at now: Timestamp) throws(StalError) {
        lock.withLock { manifests[manifest.blobID] = manifest.encode() }
    }

    public func references(_ id: BlobID) throws(StalError) -> BlobReferenceRecord? {
        lock.withLock { records[id] }
    }

    public func store(_ record: BlobReferenceRecord, for id: BlobID, at now: Timestamp) throws(StalError) {
        lock.withLock { records[id] = record }
    }

    public func remove(_ id: BlobID) throws(StalError) {
        lock.withLock {
            records[id] = nil
            manifests[id] = nil
        }
    }

    public func allBlobIDs() -> [BlobID] { lock.withLock { manifests.keys.sorted() } }

    public func removeLeftovers(before cutoff: Timestamp) throws(StalError) -> Int { 0 }
}
