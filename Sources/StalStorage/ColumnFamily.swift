/// A RocksDB column family. Each kind of data sits in its own family so that compaction,
/// bloom filters and scans of one kind never wade through another.
public struct ColumnFamily: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }

    /// RocksDB always has this family; Stal keeps it empty.
    public static let `default` = ColumnFamily("default")
    /// Raft: every group's log entries, hard state and snapshot metadata, and each shard's
    /// applied index.
    public static let log = ColumnFamily("log")
    /// Mail-store metadata: accounts, mailboxes, emails, UID index, change log.
    public static let state = ColumnFamily("state")
    /// Blob reference counts and small (inline) compressed blobs.
    public static let blobs = ColumnFamily("blobs")
    /// Directory: domains, accounts, aliases, password hashes.
    public static let directory = ColumnFamily("directory")

    public static let all: [ColumnFamily] = [.default, .log, .state, .blobs, .directory]

    public var description: String { name }

    public static func < (lhs: ColumnFamily, rhs: ColumnFamily) -> Bool { lhs.name < rhs.name }
}
