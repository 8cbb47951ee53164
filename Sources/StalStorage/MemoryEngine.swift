import StalCore
import StalDeterminism

/// An in-memory engine with RocksDB's semantics (bytewise order, atomic batches,
/// snapshots), for unit tests and the simulator. `sync` is accepted and ignored; the
/// simulator models lost unsynced writes itself.
public final class MemoryEngine: KVEngine, @unchecked Sendable {
    private let lock = Mutex()
    private var tables: [ColumnFamily: SortedTable] = [:]

    public init() {}

    public func get(_ cf: ColumnFamily, _ key: [UInt8]) throws -> [UInt8]? {
        lock.withLock { tables[cf]?.get(key) }
    }

    public func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?,
                     _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        let table = lock.withLock { tables[cf] }
        try table?.scan(range, reverse: reverse, limit: limit, body)
    }

    public func write(_ batch: WriteBatch, sync: Bool) throws {
        lock.withLock {
            for op in batch.operations {
                switch op {
                case let .put(cf, key, value): tables[cf, default: SortedTable()].put(key, value)
                case let .delete(cf, key): tables[cf]?.delete(key)
                case let .deleteRange(cf, from, to): tables[cf]?.deleteRange(from: from, to: to)
                }
            }
        }
    }

    public func snapshot() throws -> any KVSnapshot {
        MemorySnapshot(tables: lock.withLock { tables })
    }
}

struct MemorySnapshot: KVSnapshot {
    let tables: [ColumnFamily: SortedTable]

    func get(_ cf: ColumnFamily, _ key: [UInt8]) throws -> [UInt8]? { tables[cf]?.get(key) }

    func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?,
              _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try tables[cf]?.scan(range, reverse: reverse, limit: limit, body)
    }
}
