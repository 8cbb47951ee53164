/// Writes staged over a base reader: reads see the staged puts and deletes first, and the
/// staged state becomes one `WriteBatch`. The shard log applies each command into a
/// child over the group's staging so a failed command leaves no trace, and the group's
/// commands see each other's effects before their shared batch is written.
public final class StagedWrites: KVReader {
    private let base: any KVReader
    /// Final value per key; nil marks a staged delete.
    private var staged: [ColumnFamily: [[UInt8]: [UInt8]?]] = [:]
    private var unread = WriteBatch()

    public init(over base: any KVReader) {
        self.base = base
    }

    public func put(_ cf: ColumnFamily, _ key: [UInt8], _ value: [UInt8]) {
        staged[cf, default: [:]][key] = .some(value)
    }

    public func delete(_ cf: ColumnFamily, _ key: [UInt8]) {
        staged[cf, default: [:]][key] = .some(nil)
    }

    /// Moves a child's staged writes into this one.
    public func absorb(_ child: StagedWrites) {
        for (cf, entries) in child.staged {
            for (key, value) in entries { staged[cf, default: [:]][key] = value }
        }
        unread.append(contentsOf: child.unread)
    }

    /// Adds an operation that reads through this staging will not see; for writes the
    /// state machine never reads back, such as log entries and log truncation. These come
    /// first in `batch`.
    public func appendUnread(_ op: WriteOperation) {
        unread.append(op)
    }

    /// The unread operations, then one put or delete per staged key with its final value,
    /// in family and key order: a key rewritten by many commands of a group costs one write,
    /// and equal staging gives an equal batch.
    public var batch: WriteBatch {
        var out = unread
        for cf in staged.keys.sorted() {
            let entries = staged[cf]!
            for key in entries.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                if let value = entries[key]! { out.put(cf, key, value) } else { out.delete(cf, key) }
            }
        }
        return out
    }

    public func get(_ cf: ColumnFamily, _ key: [UInt8]) throws -> [UInt8]? {
        if let entry = staged[cf]?[key] { return entry }
        return try base.get(cf, key)
    }

    public func scan(_ cf: ColumnFamily, _ range: KeyRange, reverse: Bool, limit: Int?,
                     _ body: ([UInt8], [UInt8]) throws -> Bool) throws {
        let overlay = (staged[cf] ?? [:]).filter { range.contains($0.key) }
        guard !overlay.isEmpty else {
            try base.scan(cf, range, reverse: reverse, limit: limit, body)
            return
        }
        var pending = overlay.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        if reverse { pending.reverse() }
        // `before(a, b)`: a comes first in iteration order.
        func before(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            reverse ? b.lexicographicallyPrecedes(a) : a.lexicographicallyPrecedes(b)
        }
        var next = 0
        var emitted = 0
        var stopped = false
        func emit(_ k: [UInt8], _ v: [UInt8]) throws -> Bool {
            if let limit, emitted >= limit { stopped = true; return false }
            guard try body(k, v) else { stopped = true; return false }
            emitted += 1
            return true
        }
        try base.scan(cf, range, reverse: reverse, limit: nil) { k, v in
            while next < pending.count, before(pending[next].key, k) {
                if let value = pending[next].value, !(try emit(pending[next].key, value)) { return false }
                next += 1
            }
            if next < pending.count, pending[next].key == k {
                let value = pending[next].value
                next += 1
                if let value { return try emit(k, value) }
                return true
            }
            return try emit(k, v)
        }
        while !stopped, next < pending.count {
            if let value = pending[next].value, !(try emit(pending[next].key, value)) { return }
            next += 1
        }
    }
}
