import Glibc
import StalCore
import StalDeterminism
import StalErasure

/// Shard files in a local directory: `<path>/<first id byte>/<id hex>.<shard index>.shard`.
/// The device counts as unusable while its root directory is missing (a lost disk).
public final class FileShardDevice: ShardDevice, @unchecked Sendable {
    static let suffix = ".shard"

    public let id: StorageLocationID
    public let failureDomain: String
    public let path: String
    private let lock = Mutex()
    private var sequence: UInt64 = 0

    public init(location: BlobLocation) {
        id = location.id
        failureDomain = location.failureDomain
        path = location.path
        if DurableFiles.isDirectory(path) {
            for byte in 0..<256 { DurableFiles.makeDirectory(path + "/" + FileBlobCatalog.fanout(byte)) }
            try? DurableFiles.syncDirectory(path)
        }
    }

    public var isUsable: Bool { DurableFiles.isDirectory(path) }

    func directory(_ blob: BlobID) -> String { path + "/" + FileBlobCatalog.fanout(Int(blob.digest[0])) }

    static func name(_ blob: BlobID, shard: Int) -> String { "\(blob.hex).\(shard)\(suffix)" }

    func filePath(_ blob: BlobID, shard: Int) -> String { directory(blob) + "/" + Self.name(blob, shard: shard) }

    /// The fan-out directory, created (durably) if a returning disk lacks it.
    private func preparedDirectory(_ blob: BlobID) throws(StalError) -> String {
        let directory = directory(blob)
        if !DurableFiles.isDirectory(directory) {
            guard isUsable, DurableFiles.makeDirectory(directory) else {
                throw StalError(.unavailable, "location \(id) is unavailable")
            }
            try DurableFiles.syncDirectory(path)
        }
        return directory
    }

    public func writeNew(_ file: UnsafeRawBufferPointer, blob: BlobID, shard: Int, at now: Timestamp) throws(StalError) {
        let directory = try preparedDirectory(blob)
        let name = Self.name(blob, shard: shard)
        guard try !DurableFiles.writeUnpublished(file, directory: directory, name: name) else { return }
        try DurableFiles.write(file, directory: directory, name: name, temporaryName: temporaryName(name, at: now))
    }

    public func replace(_ file: [UInt8], blob: BlobID, shard: Int, at now: Timestamp) throws(StalError) {
        let name = Self.name(blob, shard: shard)
        try DurableFiles.write(file, directory: preparedDirectory(blob), name: name, temporaryName: temporaryName(name, at: now))
    }

    /// Unique per write; carries `now` so `removeLeftovers` can age an interrupted one.
    private func temporaryName(_ name: String, at now: Timestamp) -> String {
        let token = lock.withLock { () -> String in
            sequence += 1
            return TemporaryToken.make(at: now, sequence: sequence)
        }
        return name + "." + token + ".tmp"
    }

    public func read(blob: BlobID, shard: Int, offset: Int, count: Int) throws(StalError) -> [UInt8]? {
        let path = filePath(blob, shard: shard)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw DurableFiles.failure("open", path)
        }
        defer { close(fd) }
        return try DurableFiles.readExactly(fd: fd, offset: offset, count: count, path: path)
    }

    public func length(blob: BlobID, shard: Int) -> Int? {
        var info = stat()
        guard stat(filePath(blob, shard: shard), &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    public func remove(blob: BlobID, shard: Int) throws(StalError) {
        try DurableFiles.remove(filePath(blob, shard: shard))
    }

    public func inventory() -> [ShardAddress] {
        var shards: [ShardAddress] = []
        for byte in 0..<256 {
            for name in DurableFiles.list(path + "/" + FileBlobCatalog.fanout(byte)) where name.hasSuffix(Self.suffix) {
                let parts = name.dropLast(Self.suffix.count).split(separator: ".")
                if parts.count == 2, let blob = BlobID(hex: parts[0]), let shard = Int(parts[1]) {
                    shards.append(ShardAddress(blob: blob, shard: shard))
                }
            }
        }
        return shards
    }

    public func removeLeftovers(before cutoff: Timestamp) throws(StalError) -> Int {
        var removed = 0
        for byte in 0..<256 {
            let directory = path + "/" + FileBlobCatalog.fanout(byte)
            for name in DurableFiles.list(directory) where name.hasSuffix(".tmp") {
                guard let ms = TemporaryToken.timestamp(inTemporaryName: name), ms <= cutoff.millisecondsSinceEpoch else { continue }
                try DurableFiles.remove(directory + "/" + name)
                removed += 1
            }
        }
        return removed
    }
}
