import StalRaft

/// A replica's disk: what survives a crash (`durable`) and writes still in the page cache
/// (`pending`). A crash keeps a prefix of the pending writes, like a write-ahead log whose
/// tail was not fsynced.
public struct SimStorage: Sendable {
    public enum Write: Sendable {
        /// A snapshot received from the leader: replaces the whole log.
        case restore(Snapshot)
        /// Local compaction: the snapshot replaces entries up to its index.
        case compact(Snapshot)
        /// Entries replacing everything from the first one's index on.
        case entries([LogEntry])
        case hardState(HardState)
    }

    public private(set) var durable: RaftPersistentState
    public private(set) var pending: [Write] = []

    public init(_ initial: RaftPersistentState) {
        durable = initial
    }

    public mutating func write(_ w: Write) {
        pending.append(w)
    }

    public mutating func sync() {
        for w in pending { Self.apply(w, to: &durable) }
        pending = []
    }

    /// Loses every pending write after the first `kept`.
    public mutating func crash(keeping kept: Int) {
        for w in pending.prefix(kept) { Self.apply(w, to: &durable) }
        pending = []
    }

    static func apply(_ w: Write, to s: inout RaftPersistentState) {
        switch w {
        case .restore(let snap):
            s.snapshot = snap
            s.entries = []
            s.hardState.commit = max(s.hardState.commit, snap.metadata.index)
        case .compact(let snap):
            guard snap.metadata.index > s.snapshot.metadata.index else { return }
            s.snapshot = snap
            s.entries.removeAll { $0.index <= snap.metadata.index }
        case .entries(let es):
            guard let first = es.first else { return }
            let base = s.snapshot.metadata.index
            guard first.index > base else { return }
            let keep = Int(first.index - base - 1)
            if keep < s.entries.count { s.entries.removeLast(s.entries.count - keep) }
            guard keep == s.entries.count else { return }
            s.entries.append(contentsOf: es)
        case .hardState(let hs):
            s.hardState = hs
        }
    }
}
