import Glibc
import StalCore
import StalErasure

/// One location's shard files: `<path>/<first id byte>/<id hex>.<shard index>.shard`.
struct ShardDirectory: Sendable {
    static let suffix = ".shard"

    let location: BlobLocation

    /// Creates the fan-out directories; false when the location's root is missing or
    /// unwritable (a lost disk), which makes the location unusable until it returns.
    func prepare() -> Bool {
        guard DurableFiles.isDirectory(location.path) else { return false }
        for byte in 0..<256 where !DurableFiles.makeDirectory(location.path + "/" + FileBlobCatalog.fanout(byte)) {
            return false
        }
        return (try? DurableFiles.syncDirectory(location.path)) != nil
    }

    var isUsable: Bool { DurableFiles.isDirectory(location.path) }

    func directory(_ id: BlobID) -> String { location.path + "/" + FileBlobCatalog.fanout(Int(id.digest[0])) }

    static func name(_ id: BlobID, shard: Int) -> String { "\(id.hex).\(shard)\(suffix)" }

    func path(_ id: BlobID, shard: Int) -> String { directory(id) + "/" + Self.name(id, shard: shard) }

    /// Writes a shard. A new blob's shards (`replacing: false`) go straight to their names,
    /// since nothing reads them before the manifest commits; a healed shard replaces the old
    /// file atomically, because readers may be using it.
    func write(_ file: UnsafeRawBufferPointer, id: BlobID, shard: Int, replacing: Bool, token: String) throws(StalError) {
        let directory = directory(id)
        if !DurableFiles.isDirectory(directory) {
            guard isUsable, DurableFiles.makeDirectory(directory) else {
                throw StalError(.unavailable, "location \(location.id) is unavailable")
            }
            try DurableFiles.syncDirectory(location.path)
        }
        let name = Self.name(id, shard: shard)
        if replacing {
            try DurableFiles.write(file, directory: directory, name: name, temporaryName: name + "." + token + ".tmp")
        } else {
            try DurableFiles.writeUnpublished(file, directory: directory, name: name)
        }
    }

    func write(_ file: [UInt8], id: BlobID, shard: Int, replacing: Bool, token: String) throws(StalError) {
        let result: Result<Void, StalError> = file.withUnsafeBytes { raw in
            do throws(StalError) {
                try write(raw, id: id, shard: shard, replacing: replacing, token: token)
                return .success(())
            } catch { return .failure(error) }
        }
        try result.get()
    }

    func remove(_ id: BlobID, shard: Int) throws(StalError) {
        try DurableFiles.remove(path(id, shard: shard))
    }

    /// The header of a shard file whatever its layout, or nil when missing or damaged.
    func header(_ id: BlobID, shard: Int) -> ShardHeader? {
        let path = path(id, shard: shard)
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let fixed = try? DurableFiles.readExactly(fd: fd, offset: 0, count: ShardHeader.fixedBytes, path: path),
              let stripes = try? ShardHeader.declaredStripeCount(fixedPart: fixed),
              stripes <= (1 << 24),
              let bytes = try? DurableFiles.readExactly(fd: fd, offset: 0, count: ShardHeader.encodedLength(stripeCount: stripes), path: path)
        else { return nil }
        return try? ShardHeader.decode(bytes)
    }

    /// Every shard file here, and every temporary file with the time in its name.
    func inventory() -> (shards: [(id: BlobID, shard: Int)], temporaries: [(path: String, writtenAtMs: Int64)]) {
        var shards: [(BlobID, Int)] = []
        var temporaries: [(String, Int64)] = []
        for byte in 0..<256 {
            let directory = location.path + "/" + FileBlobCatalog.fanout(byte)
            for name in DurableFiles.list(directory) {
                if name.hasSuffix(".tmp") {
                    if let ms = TemporaryToken.timestamp(inTemporaryName: name) { temporaries.append((directory + "/" + name, ms)) }
                } else if name.hasSuffix(Self.suffix) {
                    let parts = name.dropLast(Self.suffix.count).split(separator: ".")
                    if parts.count == 2, let id = BlobID(hex: parts[0]), let shard = Int(parts[1]) { shards.append((id, shard)) }
                }
            }
        }
        return (shards, temporaries)
    }
}

/// An open shard file being read: its header, checked against what the manifest expects,
/// and cell reads verified against the header's checksums.
final class OpenShard {
    let fd: Int32
    let path: String
    let header: ShardHeader

    /// Opens and validates shard `shard` of the blob, or says why it cannot be used.
    static func open(_ directory: ShardDirectory, id: BlobID, shard: Int, layout: StripeLayout) -> Result<OpenShard, ShardFault> {
        let path = directory.path(id, shard: shard)
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(errno == ENOENT ? .missing : .unreadable) }
        let headerBytes = ShardHeader.encodedLength(stripeCount: layout.stripeCount)
        guard let bytes = try? DurableFiles.readExactly(fd: fd, offset: 0, count: headerBytes, path: path) else {
            close(fd)
            return .failure(.unreadable)
        }
        guard let header = try? ShardHeader.decode(bytes), header.blobID == id, header.shardIndex == shard, header.layout == layout else {
            close(fd)
            return .failure(.corrupt)
        }
        return .success(OpenShard(fd: fd, path: path, header: header))
    }

    private init(fd: Int32, path: String, header: ShardHeader) {
        self.fd = fd
        self.path = path
        self.header = header
    }

    deinit { close(fd) }

    /// Stripe `s`'s cell, or nil when it is short or fails its checksum.
    func cell(stripe s: Int) -> [UInt8]? {
        let length = header.layout.cellLength(stripe: s)
        guard let bytes = try? DurableFiles.readExactly(fd: fd, offset: header.fileOffset(stripe: s), count: length, path: path),
              bytes.count == length,
              bytes.withUnsafeBytes({ header.verify(cell: $0, stripe: s) }) else { return nil }
        return bytes
    }

    /// Whether the file has exactly the header's length (no truncation, no trailing bytes).
    var hasExpectedLength: Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && Int(info.st_size) == header.fileLength
    }
}

public enum ShardFault: String, Error, Hashable, Sendable {
    case missing
    case unreadable
    case corrupt
}
