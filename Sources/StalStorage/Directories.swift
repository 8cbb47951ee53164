import StalCore
#if canImport(Glibc)
import Glibc
#endif

/// Creating data directories on first start.
public enum Directories {
    /// `mkdir -p`; returns the directories it created, outermost first, so a caller that
    /// needs their entries durable knows which parents to fsync.
    @discardableResult
    public static func create(_ path: String, mode: mode_t = 0o750) throws -> [String] {
        var created: [String] = []
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, mode) == 0 {
                created.append(prefix)
            } else if errno != EEXIST {
                throw StalError(.storage, "mkdir \(prefix): errno \(errno)")
            }
        }
        return created
    }

    /// fsyncs a directory so entries created or removed in it survive a power cut.
    public static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StalError(.storage, "open \(path): errno \(errno)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StalError(.storage, "fsync \(path): errno \(errno)") }
    }

    /// The parent of `path` ("/" for top-level paths, "." for a bare name).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
