import Dispatch
import StalCore
import StalDeterminism
import StalStorage
#if canImport(Glibc)
import Glibc
#endif

/// Where blobs too large to ride inline in a log command live. Writes are durable when
/// they return.
public protocol MailBlobStore: Sendable {
    /// Writes a blob durably. Returns what the shard log must record for the blob to be
    /// readable (`BlobReference.placement`: the delivering command carries it, so the write
    /// costs no log entry of its own), or nil when the store needs no record (the blob is
    /// found by its id alone, or its record exists already).
    @discardableResult
    func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws -> [UInt8]?
    func read(tenant: TenantID, id: BlobID) async throws -> [UInt8]
    /// Removes a collected blob; blocking, called from the shard log's writer thread.
    /// A missing blob is not an error.
    func delete(tenant: TenantID, id: BlobID) throws
}

/// One file per blob under `root/<tenant>/<2 hex>/<64 hex>`, written to a temporary name,
/// fsynced, renamed, and the directory fsynced, all on a Dispatch thread so the fsync never
/// blocks a Swift concurrency thread.
public final class LocalBlobDirectory: MailBlobStore {
    public let root: String
    private let queue = DispatchQueue(label: "stal.blobs", attributes: .concurrent)

    public init(root: String) throws {
        self.root = root
        for created in try Directories.create(root) { try Directories.sync(Directories.parent(of: created)) }
    }

    /// Returns true when the directory was created (its parent then needs an fsync).
    @discardableResult
    private static func makeDirectory(_ path: String) throws -> Bool {
        if mkdir(path, 0o750) == 0 { return true }
        if errno == EEXIST { return false }
        throw StalError(.storage, "mkdir \(path): errno \(errno)")
    }



    /// The directories from the root down to the blob's, and the blob's file.
    private func paths(_ tenant: TenantID, _ id: BlobID) -> (dirs: [String], file: String) {
        let hex = id.hex
        let t = "\(root)/\(tenant.rawValue)"
        let d = "\(t)/\(hex.prefix(2))"
        return ([root, t, d], "\(d)/\(hex)")
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// A blob is found by its path, so there is no placement to record.
    @discardableResult
    public func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws -> [UInt8]? {
        let (dirs, file) = paths(tenant, id)
        try await run {
            // The file's directory entry must be durable, and so must the entry of every
            // directory created on the way. An existing file may come from a writer that died
            // before its directory fsync, so its directory is synced too.
            var toSync = [dirs[2]]
            for i in 1..<dirs.count where try Self.makeDirectory(dirs[i]) { toSync.append(dirs[i - 1]) }
            if access(file, F_OK) != 0 {
                try Self.writeFile(file, compressed)
            }
            for d in toSync { try Directories.sync(d) }
        }
        return nil
    }

    private static func writeFile(_ file: String, _ bytes: [UInt8]) throws {
        let tmp = "\(file).tmp\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw StalError(.storage, "open \(tmp): errno \(errno)") }
        var renamed = false
        defer {
            if !renamed { unlink(tmp) }
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd)
                throw StalError(.storage, "write \(tmp): errno \(e)")
            }
            offset += n
        }
        guard fsync(fd) == 0 else {
            let e = errno
            close(fd)
            throw StalError(.storage, "fsync \(tmp): errno \(e)")
        }
        close(fd)
        guard rename(tmp, file) == 0 else { throw StalError(.storage, "rename \(file): errno \(errno)") }
        renamed = true
    }

    public func delete(tenant: TenantID, id: BlobID) throws {
        let (dirs, file) = paths(tenant, id)
        if unlink(file) != 0 {
            if errno == ENOENT { return }
            throw StalError(.storage, "unlink \(file): errno \(errno)")
        }
        try Directories.sync(dirs[2])
    }

    public func read(tenant: TenantID, id: BlobID) async throws -> [UInt8] {
        let file = paths(tenant, id).file
        return try await run {
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw StalError(errno == ENOENT ? .notFound : .storage, "open \(file): errno \(errno)")
            }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw StalError(.storage, "stat \(file): errno \(errno)") }
            let size = Int(st.st_size)
            var out = [UInt8](repeating: 0, count: size)
            var offset = 0
            while offset < size {
                let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, size - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StalError(.storage, "read \(file): errno \(errno)")
                }
                if n == 0 { throw StalError(.corrupted, "blob file \(file) shorter than its size") }
                offset += n
            }
            return out
        }
    }
}

/// Blobs in memory, for tests and the simulator.
public final class MemoryBlobStore: MailBlobStore {
    private let lock = Mutex()
    private nonisolated(unsafe) var blobs: [String: [UInt8]] = [:]

    public init() {}

    @discardableResult
    public func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws -> [UInt8]? {
        lock.withLock { blobs["\(tenant.rawValue)/\(id.hex)"] = compressed }
        return nil
    }

    public func read(tenant: TenantID, id: BlobID) async throws -> [UInt8] {
        guard let b = lock.withLock({ blobs["\(tenant.rawValue)/\(id.hex)"] }) else {
            throw StalError(.notFound, "blob \(id)")
        }
        return b
    }

    public func delete(tenant: TenantID, id: BlobID) throws {
        lock.withLock { blobs["\(tenant.rawValue)/\(id.hex)"] = nil }
    }

    public var count: Int { lock.withLock { blobs.count } }
}
