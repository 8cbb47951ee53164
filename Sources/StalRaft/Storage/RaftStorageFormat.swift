import StalCore

/// How Raft state of many groups is laid out in one ordered key-value store (RocksDB
/// behind StalStorage). Pure: it produces and reads bytes, the store does the I/O.
///
/// Keys (big-endian so that byte order is numeric order):
///   `R` group:8 `h`             -> HardState
///   `R` group:8 `s`             -> SnapshotMetadata (the image itself is the application's)
///   `R` group:8 `e` index:8     -> LogEntry
/// Values: version:1, fields little-endian, CRC-32C:4 of everything before it.
public enum RaftStorageFormat {
    static let keyPrefix: UInt8 = 0x52
    static let hardStateTag: UInt8 = 0x68
    static let snapshotTag: UInt8 = 0x73
    static let entryTag: UInt8 = 0x65
    static let version: UInt8 = 1

    public static func hardStateKey(group: UInt64) -> [UInt8] { groupPrefix(group) + [hardStateTag] }
    public static func snapshotKey(group: UInt64) -> [UInt8] { groupPrefix(group) + [snapshotTag] }

    public static func entryKey(group: UInt64, index: LogIndex) -> [UInt8] {
        groupPrefix(group) + [entryTag] + bigEndian(index)
    }

    /// [first, end) covering entries with index >= `from`.
    public static func entryRange(group: UInt64, from: LogIndex) -> (start: [UInt8], end: [UInt8]) {
        (entryKey(group: group, index: from), groupPrefix(group) + [entryTag + 1])
    }

    /// [start, end) covering every key of the group.
    public static func groupRange(group: UInt64) -> (start: [UInt8], end: [UInt8]) {
        (groupPrefix(group), group == UInt64.max ? [keyPrefix + 1] : groupPrefix(group + 1))
    }

    // MARK: Values

    public static func encode(_ e: LogEntry) -> [UInt8] {
        var w = Writer()
        w.u64(e.index); w.u64(e.term); w.u8(e.kind.rawValue); w.bytes(e.data)
        return w.sealed()
    }

    public static func decodeEntry(_ value: [UInt8]) throws(StalError) -> LogEntry {
        var r = try Reader(value)
        let index = try r.u64(), term = try r.u64()
        guard let kind = LogEntry.Kind(rawValue: try r.u8()) else { throw StalError(.corrupted, "raft entry kind") }
        let entry = LogEntry(index: index, term: term, kind: kind, data: try r.bytes())
        try r.finish()
        return entry
    }

    public static func encode(_ h: HardState) -> [UInt8] {
        var w = Writer()
        w.u64(h.term); w.u64(h.vote); w.u64(h.commit)
        return w.sealed()
    }

    public static func decodeHardState(_ value: [UInt8]) throws(StalError) -> HardState {
        var r = try Reader(value)
        let h = HardState(term: try r.u64(), vote: try r.u64(), commit: try r.u64())
        try r.finish()
        return h
    }

    public static func encode(_ m: SnapshotMetadata) -> [UInt8] {
        var w = Writer()
        w.u64(m.index); w.u64(m.term)
        w.ids(m.confState.voters); w.ids(m.confState.learners)
        return w.sealed()
    }

    public static func decodeSnapshotMetadata(_ value: [UInt8]) throws(StalError) -> SnapshotMetadata {
        var r = try Reader(value)
        let index = try r.u64(), term = try r.u64()
        let conf = ConfState(voters: try r.ids(), learners: try r.ids())
        try r.finish()
        return SnapshotMetadata(index: index, term: term, confState: conf)
    }

    private static func groupPrefix(_ group: UInt64) -> [UInt8] { [keyPrefix] + bigEndian(group) }

    static func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }

    private struct Writer {
        var out: [UInt8] = [RaftStorageFormat.version]
        mutating func u8(_ v: UInt8) { out.append(v) }
        mutating func u64(_ v: UInt64) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        mutating func bytes(_ b: [UInt8]) { u64(UInt64(b.count)); out.append(contentsOf: b) }
        mutating func ids(_ ids: [RaftNodeID]) { u64(UInt64(ids.count)); for id in ids { u64(id) } }
        func sealed() -> [UInt8] {
            let crc = CRC32C.checksum(out[...])
            return out + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) }
        }
    }

    private struct Reader {
        let data: [UInt8]
        var offset = 1
        let end: Int

        init(_ value: [UInt8]) throws(StalError) {
            guard value.count >= 5 else { throw StalError(.corrupted, "raft record too short") }
            guard value[0] == RaftStorageFormat.version else { throw StalError(.corrupted, "raft record version \(value[0])") }
            let bodyEnd = value.count - 4
            let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(value[bodyEnd + $1]) << (8 * UInt32($1)) }
            guard CRC32C.checksum(value[..<bodyEnd]) == stored else { throw StalError(.corrupted, "raft record checksum") }
            end = bodyEnd
            data = value
        }

        mutating func u8() throws(StalError) -> UInt8 {
            guard offset < end else { throw StalError(.corrupted, "raft record truncated") }
            offset += 1
            return data[offset - 1]
        }

        mutating func u64() throws(StalError) -> UInt64 {
            guard end - offset >= 8 else { throw StalError(.corrupted, "raft record truncated") }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(data[offset + i]) << (8 * UInt64(i)) }
            offset += 8
            return v
        }

        mutating func bytes() throws(StalError) -> [UInt8] {
            let n = try u64()
            guard n <= UInt64(end - offset) else { throw StalError(.corrupted, "raft record length") }
            offset += Int(n)
            return Array(data[(offset - Int(n))..<offset])
        }

        mutating func ids() throws(StalError) -> [RaftNodeID] {
            let n = try u64()
            guard n <= UInt64(end - offset) / 8 else { throw StalError(.corrupted, "raft record id count") }
            var out: [RaftNodeID] = []
            for _ in 0..<n { out.append(try u64()) }
            return out
        }

        func finish() throws(StalError) {
            guard offset == end else { throw StalError(.corrupted, "raft record has trailing bytes") }
        }
    }
}
