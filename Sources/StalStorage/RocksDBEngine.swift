import CRocksDB
import StalCore
import StalDeterminism
#if canImport(Glibc)
import Glibc
#endif

/// RocksDB behind `KVEngine`. Every C handle stays private to this file; callers only see
/// byte arrays. The handle is thread-safe, so reads run concurrently with the shard-log
/// writer; `write(sync: true)` returns after the WAL is fsynced, and concurrent synced
/// writers share one fsync through RocksDB's own write-group leader.
public final class RocksDBEngine: KVEngine, @unchecked Sendable {
    public struct Options: Sendable {
        public var columnFamilies: [ColumnFamily] = ColumnFamily.all
        /// Background flush/compaction threads.
        public var backgroundThreads: Int32 = 2
        public var writeBufferBytes: Int = 64 * 1024 * 1024

        public init() {}
    }

    public let path: String
    private let lock = Mutex()
    private var db: OpaquePointer?
    private var handles: [ColumnFamily: OpaquePointer] = [:]
    private let options: OpaquePointer
    /// For `blobs`: its values are already zstd frames, so block compression would only burn CPU.
    private let uncompressedOptions: OpaquePointer
    private let readOptions: OpaquePointer
    private let syncWrite: OpaquePointer
    private let asyncWrite: OpaquePointer

    /// Opens (creating if needed, with missing parent directories) the database at `path`.
    public init(path: String, options config: Options = Options()) throws {
        self.path = path
        for created in try Directories.create(Directories.parent(of: path)) { try Directories.sync(Directories.parent(of: created)) }
        options = rocksdb_options_create()
        rocksdb_options_set_create_if_missing(options, 1)
        rocksdb_options_set_create_missing_column_families(options, 1)
        rocksdb_options_increase_parallelism(options, config.backgroundThreads)
        rocksdb_options_set_write_buffer_size(options, config.writeBufferBytes)
        uncompressedOptions = rocksdb_options_create_copy(options)
        rocksdb_options_set_compression(uncompressedOptions, Int32(rocksdb_no_compression))
        readOptions = rocksdb_readoptions_create()
        syncWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(syncWrite, 1)
        asyncWrite = rocksdb_writeoptions_create()

        var names = config.columnFamilies.map(\.name)
        var listError: UnsafeMutablePointer<CChar>?
        var existingCount = 0
        if let existing = rocksdb_list_column_families(options, path, &existingCount, &listError) {
            for i in 0..<existingCount {
                if let c = existing[i] {
                    let name = String(cString: c)
                    if !names.contains(name) { names.append(name) }
                }
            }
            rocksdb_list_column_families_destroy(existing, existingCount)
        }
        if let listError { rocksdb_free(listError) }

        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        let cfOptions: [OpaquePointer?] = names.map { $0 == ColumnFamily.blobs.name ? uncompressedOptions : options }
        var cfHandles = [OpaquePointer?](repeating: nil, count: names.count)
        var error: UnsafeMutablePointer<CChar>?
        let opened = cNames.map { UnsafePointer<CChar>($0) }.withUnsafeBufferPointer { namePtrs in
            cfOptions.withUnsafeBufferPointer { optPtrs in
                rocksdb_open_column_families(options, path, Int32(names.count), namePtrs.baseAddress,
                                             optPtrs.baseAddress, &cfHandles, &error)
            }
        }
        if let error {
            let message = String(cString: error)
            rocksdb_free(error)
            rocksdb_options_destroy(options)
            rocksdb_options_destroy(uncompressedOptions)
            rocksdb_readoptions_destroy(readOptions)
            rocksdb_writeoptions_destroy(syncWrite)
            rocksdb_writeoptions_destroy(asyncWrite)
            throw StalError(.storage, "open \(path): \(message)")
        }
        db = opened
        for (i, name) in names.enumerated() {
            if let h = cfHandles[i] { handles[ColumnFamily(name)] = h }
        }
    }

    deinit { close() }

    /// Closes the database. Memtables are not flushed: the synced WAL is what reopening
    /// replays, exactly as after a crash.
    public func close() {
        lock.withLock {
            guard let db else { return }
            for h in handles.values { rocksdb_column_family_handle_destroy(h) }
            handles = [:]
            rocksdb_close(db)
            self.db = nil
            rocksdb_options_destroy(options)
            rocksdb_options_destroy(uncompressedOptions)
            rocksdb_readoptions_destroy(readOptions)
            rocksdb_writeoptions_destroy(syncWrite)
            rocksdb_writeoptions_destroy(asyncWrite)
        }
    }

    private func open() throws -> OpaquePointer {
        guard let db = lock.withLock({ db }) else { throw StalError(.unavailable, "RocksDB \(path) is closed") }
        return db
    }

    private func handle(_ cf: ColumnFamily) throws -> OpaquePointer {
        guard let h = lock.withLock({ handles[cf] }) else {
            throw StalError(.storage, "unknown column family \(cf)")
        }
        return h
    }

    private static func check(_ error: UnsafeMutablePointer<CChar>?, _ what: String) throws {
        guard let error else { return }
        let message = String(cString: error)
        rocksdb_free(error)
        throw StalError(.storage, "\(what): \(message)")
    }

    public func get(_ cf: ColumnFamily, _ key: [UInt8]) throws -> [UInt8]? {
        try get(cf, key, readOptions: readOptions)
    }

    fileprivate func get(_ cf: ColumnFamily, _ key: [UInt8], readOptions: OpaquePointer) throws -> [UInt8]? {
        let db = try open()
        let h = try handle(cf)
        var length = 0
        var error: UnsafeMutablePointer<CChar>?
        let value = key.withUnsafeBufferPointer { k in
            k.withMemoryRebound(to: CChar.self) { kc in
                rocksdb_get_cf(db, readOptions, h, kc.baseAddress, kc.count, &length, &error)
            }
        }
        try Self.check(error, "get")
        guard let value else { return nil }
        defer { rocksdb_free(value) }
        return value.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    public func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?,
                     _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try scan(cf, range, reverse: reverse, limit: limit, snapshot: nil, body)
    }

    fileprivate func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?, snapshot: OpaquePointer?,
                          _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        let db = try open()
        let h = try handle(cf)
        let ro = rocksdb_readoptions_create()!
        defer { rocksdb_readoptions_destroy(ro) }
        if let snapshot { rocksdb_readoptions_set_snapshot(ro, snapshot) }
        // RocksDB keeps the bound pointers, so they must outlive the iterator.
        let lower = UnsafeMutablePointer<CChar>.allocate(capacity: max(range.lower.count, 1))
        defer { lower.deallocate() }
        range.lower.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { lower.update(from: $0.baseAddress!, count: b.count) }
        }
        rocksdb_readoptions_set_iterate_lower_bound(ro, lower, range.lower.count)
        var upper: UnsafeMutablePointer<CChar>?
        if let u = range.upper {
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(u.count, 1))
            u.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { p.update(from: $0.baseAddress!, count: b.count) }
            }
            rocksdb_readoptions_set_iterate_upper_bound(ro, p, u.count)
            upper = p
        }
        defer { upper?.deallocate() }
        let it = rocksdb_create_iterator_cf(db, ro, h)!
        defer { rocksdb_iter_destroy(it) }
        if reverse { rocksdb_iter_seek_to_last(it) } else { rocksdb_iter_seek_to_first(it) }
        var n = 0
        while rocksdb_iter_valid(it) != 0 {
            if let limit, n >= limit { break }
            var kl = 0, vl = 0
            let kp = rocksdb_iter_key(it, &kl)!
            let vp = rocksdb_iter_value(it, &vl)
            let key = kp.withMemoryRebound(to: UInt8.self, capacity: kl) { Array(UnsafeBufferPointer(start: $0, count: kl)) }
            let value: [UInt8] = vl == 0 ? [] : vp!.withMemoryRebound(to: UInt8.self, capacity: vl) {
                Array(UnsafeBufferPointer(start: $0, count: vl))
            }
            guard try body(key, value) else { break }
            n += 1
            if reverse { rocksdb_iter_prev(it) } else { rocksdb_iter_next(it) }
        }
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_iter_get_error(it, &error)
        try Self.check(error, "iterate")
    }

    public func write(_ batch: WriteBatch, sync: Bool) throws {
        let db = try open()
        let wb = rocksdb_writebatch_create()!
        defer { rocksdb_writebatch_destroy(wb) }
        for op in batch.operations {
            switch op {
            case let .put(cf, key, value):
                let h = try handle(cf)
                key.withUnsafeBufferPointer { k in
                    value.withUnsafeBufferPointer { v in
                        k.withMemoryRebound(to: CChar.self) { kc in
                            v.withMemoryRebound(to: CChar.self) { vc in
                                rocksdb_writebatch_put_cf(wb, h, kc.baseAddress, kc.count, vc.baseAddress, vc.count)
                            }
                        }
                    }
                }
            case let .delete(cf, key):
                let h = try handle(cf)
                key.withUnsafeBufferPointer { k in
                    k.withMemoryRebound(to: CChar.self) { kc in
                        rocksdb_writebatch_delete_cf(wb, h, kc.baseAddress, kc.count)
                    }
                }
            case let .deleteRange(cf, from, to):
                let h = try handle(cf)
                from.withUnsafeBufferPointer { f in
                    to.withUnsafeBufferPointer { t in
                        f.withMemoryRebound(to: CChar.self) { fc in
                            t.withMemoryRebound(to: CChar.self) { tc in
                                rocksdb_writebatch_delete_range_cf(wb, h, fc.baseAddress, fc.count, tc.baseAddress, tc.count)
                            }
                        }
                    }
                }
            }
        }
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_write(db, sync ? syncWrite : asyncWrite, wb, &error)
        try Self.check(error, "write")
    }

    public func snapshot() throws -> any KVSnapshot {
        let db = try open()
        return RocksDBSnapshot(engine: self, snapshot: rocksdb_create_snapshot(db))
    }

    fileprivate func release(_ snapshot: OpaquePointer) {
        lock.withLock {
            if let db { rocksdb_release_snapshot(db, snapshot) }
        }
    }
}

final class RocksDBSnapshot: KVSnapshot, @unchecked Sendable {
    private let engine: RocksDBEngine
    private let snapshot: OpaquePointer
    private let readOptions: OpaquePointer

    init(engine: RocksDBEngine, snapshot: OpaquePointer) {
        self.engine = engine
        self.snapshot = snapshot
        readOptions = rocksdb_readoptions_create()
        rocksdb_readoptions_set_snapshot(readOptions, snapshot)
    }

    deinit {
        rocksdb_readoptions_destroy(readOptions)
        engine.release(snapshot)
    }

    func get(_ cf: ColumnFamily, _ key: [UInt8]) throws -> [UInt8]? {
        try engine.get(cf, key, readOptions: readOptions)
    }

    func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?,
              _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        try engine.scan(cf, range, reverse: reverse, limit: limit, snapshot: snapshot, body)
    }
}
