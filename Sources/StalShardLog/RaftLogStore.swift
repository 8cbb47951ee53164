import StalCore
import StalRaft
import StalStorage

/// Where Raft state lives in the engine: every group's log, hard state and snapshot
/// metadata (`RaftStorageFormat` keys, all starting with `R`) and each shard's applied
/// index (`A shard`) share `ColumnFamily.log`, so one `WriteBatch` can carry the persist
/// step of many groups (group commit) next to the effects of applying them.
enum RaftLogStore {
    static func appliedKey(_ shard: UInt64) -> [UInt8] { KeyCoding.key(UInt8(ascii: "A"), shard) }

    static func operations(_ mutations: [KVMutation]) -> WriteBatch {
        var batch = WriteBatch()
        for m in mutations {
            switch m {
            case let .put(key, value): batch.put(.log, key, value)
            case let .deleteRange(start, end): batch.deleteRange(.log, from: start, to: end)
            }
        }
        return batch
    }

    static func appliedIndex(_ engine: any KVReader, shard: UInt64) throws -> UInt64 {
        try engine.get(.log, appliedKey(shard)).map { KeyCoding.u64($0, at: 0) } ?? 0
    }

    static func putApplied(_ index: UInt64, shard: UInt64, into batch: inout WriteBatch) {
        var w = ByteWriter(capacity: 8)
        w.u64(index)
        batch.put(.log, appliedKey(shard), w.bytes)
    }

    /// The group's persisted state; nil when the group was never written.
    static func recover(_ engine: any KVReader, group: UInt64) throws -> RaftPersistentState? {
        let range = RaftStorageFormat.groupRange(group: group)
        let pairs = try engine.scan(.log, KeyRange(lower: range.start, upper: range.end))
        guard !pairs.isEmpty else { return nil }
        return try RaftWriteBatch.recover(group: group, scan: pairs.map { ($0.key, $0.value) })
    }
}

/// A shard's replicated key-value state, as a snapshot image. A shard owns whole column
/// families on its node (`ShardStateMachine.stateFamilies`): the image is every pair of
/// those families at one applied index, and installing it replaces them.
enum ShardStateImage {
    static let version: UInt8 = 1

    static func capture(_ reader: any KVReader, families: [ColumnFamily]) throws -> [UInt8] {
        var w = ByteWriter(capacity: 4096)
        w.u8(version)
        for (i, cf) in families.enumerated() {
            try reader.scan(cf, KeyRange.all, reverse: false, limit: nil) { key, value in
                w.u8(1)
                w.u8(UInt8(i))
                w.lengthPrefixed(key)
                w.lengthPrefixed(value)
                return true
            }
        }
        w.u8(0)
        return w.bytes
    }

    /// Deletes what the families hold now and writes the image, into `batch`.
    static func install(_ image: [UInt8], families: [ColumnFamily], current: any KVReader, into batch: inout WriteBatch) throws {
        for cf in families {
            try current.scan(cf, KeyRange.all, reverse: false, limit: nil) { key, _ in
                batch.delete(cf, key)
                return true
            }
        }
        var r = ByteReader(image)
        guard try r.u8() == version else { throw StalError(.corrupted, "snapshot image version") }
        while try r.u8() == 1 {
            let i = Int(try r.u8())
            guard i < families.count else { throw StalError(.corrupted, "snapshot image family \(i)") }
            let key = try r.lengthPrefixed()
            batch.put(families[i], key, try r.lengthPrefixed())
        }
        try r.expectEnd()
    }
}
