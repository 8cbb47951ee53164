import Glibc
import StalCore

/// The few file operations the blob store needs, on POSIX calls so durability is explicit:
/// a file is durable once its bytes are fsynced and the directory entry that names it is
/// fsynced too.
enum DurableFiles {
    /// Writes `bytes` to `directory/name` so that after return the file exists with exactly
    /// these bytes across a crash, and before return no reader sees a partial file: write a
    /// temp file, fsync it, rename over the name, fsync the directory.
    static func write(_ bytes: UnsafeRawBufferPointer, directory: String, name: String, temporaryName: String) throws(StalError) {
        let temporary = directory + "/" + temporaryName
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("create", temporary) }
        var closed = false
        defer { if !closed { close(fd) } }
        do {
            try writeAll(fd: fd, bytes, path: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        guard fdatasync(fd) == 0 else {
            let error = failure("fdatasync", temporary)
            unlink(temporary)
            throw error
        }
        closed = true
        guard close(fd) == 0 else { throw failure("close", temporary) }
        guard rename(temporary, directory + "/" + name) == 0 else {
            let error = failure("rename", temporary)
            unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
    }

    /// Writes a file that no reader relies on until something durable points at it (a new
    /// shard before its manifest commits): straight to its name, fdatasync, fsync the
    /// directory. A crash can leave it partial, which checksums catch and collection removes;
    /// skipping the temp file and rename saves a journal commit per file. Returns false,
    /// writing nothing, when the name exists: that file may be one readers rely on, which
    /// only an atomic `write` may replace.
    static func writeUnpublished(_ bytes: UnsafeRawBufferPointer, directory: String, name: String) throws(StalError) -> Bool {
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            if errno == EEXIST { return false }
            throw failure("create", path)
        }
        defer { close(fd) }
        try writeAll(fd: fd, bytes, path: path)
        guard fdatasync(fd) == 0 else { throw failure("fdatasync", path) }
        try syncDirectory(directory)
        return true
    }

    private static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StalError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write", path)
            }
            offset += n
        }
    }

    static func write(_ bytes: [UInt8], directory: String, name: String, temporaryName: String) throws(StalError) {
        let result: Result<Void, StalError> = bytes.withUnsafeBytes { raw in
            do throws(StalError) {
                try write(raw, directory: directory, name: name, temporaryName: temporaryName)
                return .success(())
            } catch { return .failure(error) }
        }
        try result.get()
    }

    static func syncDirectory(_ path: String) throws(StalError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open directory", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync directory", path) }
    }

    /// Creates `path` if missing; true when it exists as a directory afterwards.
    @discardableResult
    static func makeDirectory(_ path: String) -> Bool {
        if mkdir(path, 0o755) == 0 || errno == EEXIST { return isDirectory(path) }
        return false
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The whole file, or nil when it does not exist. Refuses files over `limit` bytes.
    static func read(_ path: String, limit: Int) throws(StalError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw failure("open", path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("stat", path) }
        let size = Int(info.st_size)
        guard size <= limit else { throw StalError(.limitExceeded, "\(path): \(size) bytes exceeds \(limit)") }
        return try readExactly(fd: fd, offset: 0, count: size, path: path)
    }

    /// `count` bytes at `offset`, or fewer when the file is shorter.
    static func readExactly(fd: Int32, offset: Int, count: Int, path: String) throws(StalError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        let failed: Bool = buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let n = pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 { if errno == EINTR { continue }; return true }
                if n == 0 { break }
                done += n
            }
            return false
        }
        if failed { throw failure("read", path) }
        if done < count { buffer.removeLast(count - done) }
        return buffer
    }

    /// Names in a directory, without "." and "..". Empty when the directory is missing.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes a file; a missing file is not an error.
    static func remove(_ path: String) throws(StalError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink", path) }
    }

    static func failure(_ operation: String, _ path: String) -> StalError {
        StalError(.storage, "\(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
