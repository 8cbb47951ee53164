import StalCore
import StalErasure

/// The reference counts the mail store drives: retain when a log command that references a
/// blob is applied, release when the last such reference goes. A blob whose count is zero
/// is collected after the grace period.
public protocol BlobReferenceCounting: Sendable {
    func retain(_ id: BlobID) throws(StalError)
    func release(_ id: BlobID) throws(StalError)
    func referenceCount(_ id: BlobID) throws(StalError) -> Int
}

/// Per-blob bookkeeping beside the manifest: references and when the blob was last put
/// (a second put of the same bytes renews its grace period).
struct BlobReferenceRecord: Hashable, Sendable {
    var count: Int
    var lastPutAt: Timestamp

    func encode() -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(count).littleEndian) { bytes += $0 }
        withUnsafeBytes(of: lastPutAt.millisecondsSinceEpoch.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: CRC32C.checksum(bytes).littleEndian) { bytes += $0 }
        return bytes
    }

    init(count: Int, lastPutAt: Timestamp) {
        self.count = count
        self.lastPutAt = lastPutAt
    }

    init(decoding bytes: [UInt8]) throws(StalError) {
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
/// byte of the id. This stands in for the shard log, which will carry the same
/// `BlobManifest` values so every replica agrees on placement.
struct FileBlobCatalog: Sendable {
    static let manifestSuffix = ".manifest"
    static let referencesSuffix = ".refs"
    static let recordBytesMax = BlobManifest.inlineBytesMax + 64 * 1024

    let root: String

    init(root: String) throws(StalError) {
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

    func manifest(_ id: BlobID) throws(StalError) -> BlobManifest? {
        guard let bytes = try DurableFiles.read(directory(id) + "/" + id.hex + Self.manifestSuffix, limit: Self.recordBytesMax) else {
            return nil
        }
        let manifest = try BlobManifest(decoding: bytes)
        guard manifest.blobID == id else { throw StalError(.corrupted, "manifest \(id.hex) names \(manifest.blobID.hex)") }
        return manifest
    }

    func store(_ manifest: BlobManifest, temporaryToken: String) throws(StalError) {
        let name = manifest.blobID.hex + Self.manifestSuffix
        try DurableFiles.write(manifest.encode(), directory: directory(manifest.blobID), name: name,
                               temporaryName: name + "." + temporaryToken + ".tmp")
    }

    func references(_ id: BlobID) throws(StalError) -> BlobReferenceRecord? {
        guard let bytes = try DurableFiles.read(directory(id) + "/" + id.hex + Self.referencesSuffix, limit: 64) else { return nil }
        return try BlobReferenceRecord(decoding: bytes)
    }

    func store(_ record: BlobReferenceRecord, for id: BlobID, temporaryToken: String) throws(StalError) {
        let name = id.hex + Self.referencesSuffix
        try DurableFiles.write(record.encode(), directory: directory(id), name: name,
                               temporaryName: name + "." + temporaryToken + ".tmp")
    }

    /// Removes the references first and the manifest last: the manifest is what makes a blob
    /// visible, so a crash in between leaves a blob that GC finds again.
    func remove(_ id: BlobID) throws(StalError) {
        try DurableFiles.remove(directory(id) + "/" + id.hex + Self.referencesSuffix)
        try DurableFiles.remove(directory(id) + "/" + id.hex + Self.manifestSuffix)
        try DurableFiles.syncDirectory(directory(id))
    }

    /// Every blob with a manifest, in id order.
    func allBlobIDs() -> [BlobID] {
        var ids: [BlobID] = []
        for byte in 0..<256 {
            for name in DurableFiles.list(root + "/" + Self.fanout(byte)) where name.hasSuffix(Self.manifestSuffix) {
                if let id = BlobID(hex: name.dropLast(Self.manifestSuffix.count)) { ids.append(id) }
            }
        }
        return ids.sorted()
    }

    /// Temporary files left by a crash, with the time encoded in their token.
    func staleTemporaryFiles() -> [(path: String, writtenAtMs: Int64)] {
        var result: [(String, Int64)] = []
        for byte in 0..<256 {
            let directory = root + "/" + Self.fanout(byte)
            for name in DurableFiles.list(directory) where name.hasSuffix(".tmp") {
                if let ms = TemporaryToken.timestamp(inTemporaryName: name) { result.append((directory + "/" + name, ms)) }
            }
        }
        return result
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
