import StalCore
import StalDeterminism
import StalErasure

/// The reference counts the mail store drives: retain when a log command that references a
/// blob is applied, release when the last such reference goes. A blob whose count is zero
/// is collected after the grace period.
public protocol BlobReferenceCounting: Sendable {
    func retain(_ id: BlobID) throws(StalError)
    func release(_ id: BlobID) throws(StalError)
    func referenceCount(_ id: BlobID) throws(StalError) -> Int
}

/// Where manifests and reference records live: a directory of files (`FileBlobCatalog`),
/// memory (`MemoryBlobCatalog`), or in the node the mail shard's replicated state
/// (`StalNode.ShardLogBlobCatalog`), so every replica agrees on placement. Writes are durable
/// on return.
public protocol BlobCatalog: Sendable {
    func manifest(_ id: BlobID) throws(StalError) -> BlobManifest?
    /// Stores a manifest atomically: the blob becomes visible with it.
    func store(_ manifest: BlobManifest, at now: Timestamp) throws(StalError)
    func references(_ id: BlobID) throws(StalError) -> BlobReferenceRecord?
    func store(_ record: BlobReferenceRecord, for id: BlobID, at now: Timestamp) throws(StalError)
    /// Removes a blob's manifest and references (the blob disappears with the manifest).
    func remove(_ id: BlobID) throws(StalError)
    /// Every blob with a manifest, in id order.
    func allBlobIDs() -> [BlobID]
    /// Removes what interrupted writes left behind before `cutoff`; returns how many.
    func removeLeftovers(before cutoff: Timestamp) throws(StalError) -> Int
}

/// Per-blob bookkeeping beside the manifest: references and when the blob was last put
/// (a second put of the same bytes renews its grace period).
public struct BlobReferenceRecord: Hashable, Sendable {
    public var count: Int
    public var lastPutAt: Timestamp

    public init(count: Int, lastPutAt: Timestamp) {
        self.count = count
        self.lastPutAt = lastPutAt
    }

    public func encode() -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(count).littleEndian) { bytes += $0 }
        withUnsafeBytes(of: lastPutAt.millisecondsSinceEpoch.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: CRC32C.checksum(bytes).littleEndian) { bytes += $0 }
        return bytes
    }

    public init(decoding bytes: [UInt8]) throws(StalError) {
        guard bytes.count == 20 else { throw StalError(.corrupted, "reference record: \(bytes.count) bytes") }
        func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }
        guard load(16, UInt32.self) == CRC32C.checksum(Array(bytes[0..<16])) else {
            throw StalError(.corrupted, "reference record: checksum mismatch")
        }
        count = Int(load(0, UInt64.self))
        lastPutAt = Timestamp(millisecondsSinceEpoch: load(8, Int64.self))
    }
}

/// Manifests and reference records, one durable file each per blob, fanned out by the first
/// byte of the id: for a `BlobStore` used on its own, where no shard log carries them.
public final class FileBlobCatalog: BlobCatalog, @unchecked Sendable {
    static let manifestSuffix = ".manifest"
    static let referencesSuffix = ".refs"
    static let recordBytesMax = BlobManifest.inlineBytesMax + 64 * 1024

    public let root: String
    private let lock = Mutex()
    private var sequence: UInt64 = 0

    public init(root: String) throws(StalError) {
        self.root = root
        guard DurableFiles.makeDirectory(root) else { throw DurableFiles.failure("mkdir", root) }
        for byte in 0..<256 {
            let directory = root + "/" + Self.fanout(byte)
            guard DurableFiles.makeDirectory(directory) else { throw DurableFiles.failure("mkdir", directory) }
        }
        try DurableFiles.syncDirectory(root)
    }

    static func fanout(_ byte: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[byte >> 4], digits[byte & 15]])
    }

    func directory(_ id: BlobID) -> String { root + "/" + Self.fanout(Int(id.digest[0])) }

    private func temporaryName(_ name: String, at now: Timestamp) -> String {
        let token = lock.withLock { () -> String in
            sequence += 1
            return TemporaryToken.make(at: now, sequence: sequence)
        }
        return name + "." + token + ".tmp"
    }

    public func manifest(_ id: BlobID) throws(StalError) -> BlobManifest? {
        guard let bytes = try DurableFiles.read(directory(id) + "/" + id.hex + Self.manifestSuffix, limit: Self.recordBytesMax) else {
            return nil
        }
        let manifest = try BlobManifest(decoding: bytes)
        guard manifest.blobID == id else { throw StalError(.corrupted, "manifest \(id.hex) names \(manifest.blobID.hex)") }
        return manifest
    }

    public func store(_ manifest: BlobManifest, at now: Timestamp) throws(StalError) {
        let name = manifest.blobID.hex + Self.manifestSuffix
        try DurableFiles.write(manifest.encode(), directory: directory(manifest.blobID), name: name,
                               temporaryName: temporaryName(name, at: now))
    }

    public func references(_ id: BlobID) throws(StalError) -> BlobReferenceRecord? {
        guard let bytes = try DurableFiles.read(directory(id) + "/" + id.hex + Self.referencesSuffix, limit: 64) else { return nil }
        return try BlobReferenceRecord(decoding: bytes)
    }

    public func store(_ record: BlobReferenceRecord, for id: BlobID, at now: Timestamp) throws(StalError) {
        let name = id.hex + Self.referencesSuffix
        try DurableFiles.write(record.encode(), directory: directory(id), name: name,
                               temporaryName: temporaryName(name, at: now))
    }

    /// Removes the references first and the manifest last: the manifest is what makes a blob
    /// visible, so a crash in between leaves a blob that GC finds again.
    public func remove(_ id: BlobID) throws(StalError) {
        try DurableFiles.remove(directory(id) + "/" + id.hex + Self.referencesSuffix)
        try DurableFiles.remove(directory(id) + "/" + id.hex + Self.manifestSuffix)
        try DurableFiles.syncDirectory(directory(id))
    }

    public func allBlobIDs() -> [BlobID] {
        var ids: [BlobID] = []
        for byte in 0..<256 {
            for name in DurableFiles.list(root + "/" + Self.fanout(byte)) where name.hasSuffix(Self.manifestSuffix) {
                if let id = BlobID(hex: name.dropLast(Self.manifestSuffix.count)) { ids.append(id) }
            }
        }
        return ids.sorted()
    }

    public func removeLeftovers(before cutoff: Timestamp) throws(StalError) -> Int {
        var removed = 0
        for byte in 0..<256 {
            let directory = root + "/" + Self.fanout(byte)
            for name in DurableFiles.list(directory) where name.hasSuffix(".tmp") {
                guard let ms = TemporaryToken.timestamp(inTemporaryName: name), ms <= cutoff.millisecondsSinceEpoch else { continue }
                try DurableFiles.remove(directory + "/" + name)
                removed += 1
            }
        }
        return removed
    }
}

/// Temporary file names carry the writer's clock reading, so garbage collection can age
/// leftovers from a crash with the injected clock instead of file times.
enum TemporaryToken {
    static func make(at time: Timestamp, sequence: UInt64) -> String { "\(time.millisecondsSinceEpoch)-\(sequence)" }

    static func timestamp(inTemporaryName name: String) -> Int64? {
        let parts = name.split(separator: ".")
        guard parts.count >= 3, parts.last == "tmp" else { return nil }
        return parts[parts.count - 2].split(separator: "-").first.flatMap { Int64($0) }
    }
}
