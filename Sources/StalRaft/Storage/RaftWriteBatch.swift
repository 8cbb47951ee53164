import StalCore

/// One key-value change. A store applies a whole `[KVMutation]` atomically (a RocksDB
/// WriteBatch), in order.
public enum KVMutation: Hashable, Sendable {
    case put(key: [UInt8], value: [UInt8])
    /// Deletes every key in [start, end).
    case deleteRange(start: [UInt8], end: [UInt8])
}

/// Turns the persist step of a Ready into storage mutations, and reads them back.
///
/// Crash safety rests on three rules: (1) everything one Ready persists for one group goes
/// into ONE atomic batch, so a crash never leaves entries without the hard state that
/// voted for them or vice versa; (2) a node driver may put many groups' batches into one
/// write and one fsync (group commit), but sends no message of any of those Readies before
/// that fsync returns; (3) a snapshot's image is made durable by the application before
/// the batch carrying its metadata, so metadata never points at a missing image.
public enum RaftWriteBatch {
    public static func mutations(group: UInt64, ready: Ready) -> [KVMutation] {
        var out: [KVMutation] = []
        if let snap = ready.snapshot {
            let all = RaftStorageFormat.entryRange(group: group, from: 0)
            out.append(.deleteRange(start: all.start, end: all.end))
            out.append(.put(key: RaftStorageFormat.snapshotKey(group: group), value: RaftStorageFormat.encode(snap.metadata)))
        }
        if let first = ready.entries.first {
            // Entries from `first.index` on are replaced, including a longer stale tail.
            let tail = RaftStorageFormat.entryRange(group: group, from: first.index)
            out.append(.deleteRange(start: tail.start, end: tail.end))
            for e in ready.entries {
                out.append(.put(key: RaftStorageFormat.entryKey(group: group, index: e.index), value: RaftStorageFormat.encode(e)))
            }
        }
        if let hs = ready.hardState {
            out.append(.put(key: RaftStorageFormat.hardStateKey(group: group), value: RaftStorageFormat.encode(hs)))
        }
        return out
    }

    /// Writes a group's starting state (bootstrap or joining) before its replica first runs.
    public static func initial(group: UInt64, state: RaftPersistentState) -> [KVMutation] {
        var r = Ready()
        r.entries = state.entries
        r.hardState = state.hardState
        if state.snapshot.metadata.index > 0 { r.snapshot = state.snapshot }
        return mutations(group: group, ready: r)
    }

    /// Records a local compaction: the snapshot metadata, then the entries it covers go.
    public static func compaction(group: UInt64, snapshot: Snapshot) -> [KVMutation] {
        let start = RaftStorageFormat.entryKey(group: group, index: 0)
        let end = RaftStorageFormat.entryKey(group: group, index: snapshot.metadata.index + 1)
        return [
            .put(key: RaftStorageFormat.snapshotKey(group: group), value: RaftStorageFormat.encode(snapshot.metadata)),
            .deleteRange(start: start, end: end),
        ]
    }

    /// Rebuilds a group's persistent state from an ordered scan of its key range. The
    /// snapshot's `data` is left empty: the application supplies the image.
    public static func recover(group: UInt64, scan: [(key: [UInt8], value: [UInt8])]) throws(StalError) -> RaftPersistentState {
        var state = RaftPersistentState()
        var entries: [LogEntry] = []
        let hsKey = RaftStorageFormat.hardStateKey(group: group)
        let snapKey = RaftStorageFormat.snapshotKey(group: group)
        let entryPrefix = RaftStorageFormat.entryRange(group: group, from: 0).start.prefix(10)
        for (key, value) in scan {
            if key == hsKey {
                state.hardState = try RaftStorageFormat.decodeHardState(value)
            } else if key == snapKey {
                state.snapshot = Snapshot(metadata: try RaftStorageFormat.decodeSnapshotMetadata(value))
            } else if key.count == 18 && key.starts(with: entryPrefix) {
                let e = try RaftStorageFormat.decodeEntry(value)
                guard RaftStorageFormat.entryKey(group: group, index: e.index) == key else {
                    throw StalError(.corrupted, "raft group \(group): entry stored under the wrong index")
                }
                entries.append(e)
            } else {
                throw StalError(.corrupted, "raft group \(group): unexpected key")
            }
        }
        let base = state.snapshot.metadata.index
        entries.removeAll { $0.index <= base }
        for (i, e) in entries.enumerated() where e.index != base + 1 + LogIndex(i) {
            throw StalError(.corrupted, "raft group \(group): log has a gap before index \(e.index)")
        }
        state.entries = entries
        let last = base + LogIndex(entries.count)
        guard state.hardState.commit <= last else {
            throw StalError(.corrupted, "raft group \(group): commit \(state.hardState.commit) beyond last index \(last)")
        }
        return state
    }
}
