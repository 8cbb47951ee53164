import StalCore

public struct KVPair: Hashable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]

    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// A half-open key range `[lower, upper)` in bytewise order; `upper == nil` means unbounded.
public struct KeyRange: Hashable, Sendable {
    public var lower: [UInt8]
    public var upper: [UInt8]?

    public init(lower: [UInt8], upper: [UInt8]?) {
        self.lower = lower
        self.upper = upper
    }

    /// Every key that starts with `prefix`.
    public static func prefix(_ prefix: [UInt8]) -> KeyRange {
        KeyRange(lower: prefix, upper: successor(ofPrefix: prefix))
    }

    public static let all = KeyRange(lower: [], upper: nil)

    public func contains(_ key: [UInt8]) -> Bool {
        if key.lexicographicallyPrecedes(lower) { return false }
        if let upper, !key.lexicographicallyPrecedes(upper) { return false }
        return true
    }

    /// The smallest key greater than every key starting with `prefix`; nil when none exists
    /// (the prefix is empty or all 0xFF).
    public static func successor(ofPrefix prefix: [UInt8]) -> [UInt8]? {
        var p = prefix
        while let last = p.last {
            if last == 0xFF {
                p.removeLast()
            } else {
                p[p.count - 1] = last + 1
                return p
            }
        }
        return nil
    }
}

public enum WriteOperation: Hashable, Sendable {
    case put(ColumnFamily, key: [UInt8], value: [UInt8])
    case delete(ColumnFamily, key: [UInt8])
    /// Deletes `[from, to)`.
    case deleteRange(ColumnFamily, from: [UInt8], to: [UInt8])
}

/// An atomic group of writes across column families, applied in order.
public struct WriteBatch: Hashable, Sendable {
    public private(set) var operations: [WriteOperation] = []

    public init() {}

    public var isEmpty: Bool { operations.isEmpty }
    public var count: Int { operations.count }

    public mutating func put(_ cf: ColumnFamily, _ key: [UInt8], _ value: [UInt8]) {
        operations.append(.put(cf, key: key, value: value))
    }

    public mutating func delete(_ cf: ColumnFamily, _ key: [UInt8]) {
        operations.append(.delete(cf, key: key))
    }

    public mutating func deleteRange(_ cf: ColumnFamily, from: [UInt8], to: [UInt8]) {
        operations.append(.deleteRange(cf, from: from, to: to))
    }

    public mutating func append(_ op: WriteOperation) {
        operations.append(op)
    }

    public mutating func append(contentsOf other: WriteBatch) {
        operations.append(contentsOf: other.operations)
    }
}

/// Read access to a consistent or live view of the key space.
public protocol KVReader {
    func get(_ cf: ColumnFamily, _ key: [UInt8]) throws -> [UInt8]?
    /// Visits keys in `range` in order (descending when `reverse`), at most `limit` of them,
    /// until `body` returns false.
    func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?,
              _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Bool) throws
}

extension KVReader {
    public func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool = false, limit: Int? = nil) throws -> [KVPair] {
        var out: [KVPair] = []
        try scan(cf, range, reverse: reverse, limit: limit) { k, v in
            out.append(KVPair(key: k, value: v))
            return true
        }
        return out
    }

    public func scan(_ cf: ColumnFamily, prefix: [UInt8], reverse: Bool = false, limit: Int? = nil) throws -> [KVPair] {
        try scan(cf, .prefix(prefix), reverse: reverse, limit: limit)
    }

    public func scan(_ cf: ColumnFamily, prefix: [UInt8], reverse: Bool = false, limit: Int? = nil,
                     _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Bool) throws {
        try scan(cf, .prefix(prefix), reverse: reverse, limit: limit, body)
    }

    /// Every key/value of the given families, for determinism checks and debugging.
    public func dump(_ families: [ColumnFamily]) throws -> [ColumnFamily: [KVPair]] {
        var out: [ColumnFamily: [KVPair]] = [:]
        for cf in families { out[cf] = try scan(cf, .all) }
        return out
    }
}

/// A point-in-time view; reads through it never see later writes.
public protocol KVSnapshot: KVReader, Sendable {}

/// The storage engine behind every replica: RocksDB in production, `MemoryEngine` in tests
/// and the simulator. Both are bytewise-ordered and apply a batch atomically.
public protocol KVEngine: KVReader, Sendable {
    /// Applies `batch` atomically; with `sync` the write is on stable storage when this returns.
    func write(_ batch: WriteBatch, sync: Bool) throws
    func snapshot() throws -> any KVSnapshot
}
