import Dispatch
import StalCore
import StalDeterminism
#if canImport(Glibc)
import Glibc
#endif

/// Where blobs too large to ride inline in a log command live. Writes are durable when
/// they return; the erasure-coding issue replaces this with sharded placement.
public protocol BlobStore: Sendable {
    func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws
    func read(tenant: TenantID, id: BlobID) async throws -> [UInt8]
}

/// One file per blob under `root/<tenant>/<2 hex>/<64 hex>`, written to a temporary name,
/// fsynced, renamed, and the directory fsynced, all on a Dispatch thread so the fsync never
/// blocks a Swift concurrency thread.
public final class LocalBlobDirectory: BlobStore {
    public let root: String
    private let queue = DispatchQueue(label: "stal.blobs", attributes: .concurrent)

    public init(root: String) throws {
        self.root = root
        try Self.makeDirectory(root)
    }

    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw StalError(.storage, "mkdir \(path): errno \(errno)")
        }
    }

    private func paths(_ tenant: TenantID, _ id: BlobID) -> (dirs: [String], file: String) {
        let hex = id.hex
        let t = "\(root)/\(tenant.rawValue)"
        let d = "\(t)/\(hex.prefix(2))"
        return ([t, d], "\(d)/\(hex)")
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    public func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws {
        let (dirs, file) = paths(tenant, id)
        try await run {
            for d in dirs { try Self.makeDirectory(d) }
            if access(file, F_OK) == 0 { return }
            let tmp = "\(file).tmp\(UInt64.random(in: 0...UInt64.max))"
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw StalError(.storage, "open \(tmp): errno \(errno)") }
            var ok = false
            defer {
                if !ok { unlink(tmp) }
            }
            var offset = 0
            while offset < compressed.count {
                let n = compressed.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, compressed.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    close(fd)
                    throw StalError(.storage, "write \(tmp): errno \(errno)")
                }
                offset += n
            }
            guard fsync(fd) == 0 else {
                close(fd)
                throw StalError(.storage, "fsync \(tmp): errno \(errno)")
            }
            close(fd)
            guard rename(tmp, file) == 0 else { throw StalError(.storage, "rename \(file): errno \(errno)") }
            ok = true
            for d in dirs.reversed() {
                let dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if dfd >= 0 {
                    fsync(dfd)
                    close(dfd)
                }
            }
        }
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
public final class MemoryBlobStore: BlobStore {
    private let lock = Mutex()
    private nonisolated(unsafe) var blobs: [String: [UInt8]] = [:]

    public init() {}

    public func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws {
        lock.withLock { blobs["\(tenant.rawValue)/\(id.hex)"] = compressed }
    }

    public func read(tenant: TenantID, id: BlobID) async throws -> [UInt8] {
        guard let b = lock.withLock({ blobs["\(tenant.rawValue)/\(id.hex)"] }) else {
            throw StalError(.notFound, "blob \(id)")
        }
        return b
    }

    public var count: Int { lock.withLock { blobs.count } }
}
