import StalCore
import StalDeterminism

/// An in-memory engine with RocksDB's semantics (bytewise order, atomic batches,
/// snapshots), for unit tests and the simulator. With `tracksDurability`, it also keeps the
/// state a crash would leave: a synced write makes it and every earlier write durable (as
/// RocksDB's sequential WAL does), and `crash()` drops everything written since.
public final class MemoryEngine: KVEngine, @unchecked Sendable {
    private let lock = Mutex()
    private var tables: [ColumnFamily: SortedTable] = [:]
    private let tracksDurability: Bool
    private var durable: [ColumnFamily: SortedTable] = [:]
    private var unsynced: [WriteBatch] = []

    public init(tracksDurability: Bool = false) {
        self.tracksDurability = tracksDurability
    }

    public func get(_ cf: ColumnFamily, _ key: [UInt8]) throws -> [UInt8]? {
        lock.withLock { tables[cf]?.get(key) }
    }

    public func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?,
                     _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        let table = lock.withLock { tables[cf] }
        try table?.scan(range, reverse: reverse, limit: limit, body)
    }

    private static func apply(_ batch: WriteBatch, to tables: inout [ColumnFamily: SortedTable]) {
        for op in batch.operations {
            switch op {
            case let .put(cf, key, value): tables[cf, default: SortedTable()].put(key, value)
            case let .delete(cf, key): tables[cf]?.delete(key)
            case let .deleteRange(cf, from, to): tables[cf]?.deleteRange(from: from, to: to)
            }
        }
    }

    public func write(_ batch: WriteBatch, sync: Bool) throws {
        lock.withLock {
            Self.apply(batch, to: &tables)
            guard tracksDurability else { return }
            unsynced.append(batch)
            if sync {
                for b in unsynced { Self.apply(b, to: &durable) }
                unsynced.removeAll()
            }
        }
    }

    /// Loses every write not covered by a later synced write, like a power cut.
    public func crash() {
        crash(keepingUnsynced: 0)
    }

    /// A power cut after the first `kept` unsynced writes reached the disk: RocksDB's WAL is
    /// sequential, so what survives is always a prefix of the writes in order.
    public func crash(keepingUnsynced kept: Int) {
        lock.withLock {
            precondition(tracksDurability, "crash() needs MemoryEngine(tracksDurability: true)")
            for b in unsynced.prefix(kept) { Self.apply(b, to: &durable) }
            tables = durable
            unsynced.removeAll()
        }
    }

    /// Writes since the last synced one, which a crash may lose.
    public var unsyncedWrites: Int { lock.withLock { unsynced.count } }

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
