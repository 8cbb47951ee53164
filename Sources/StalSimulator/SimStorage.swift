import StalCore
import StalRaft

/// A replica's disk. Every write is one atomic batch in the real storage format
/// (`RaftWriteBatch`) applied to an ordered key-value map; a crash keeps a prefix of the
/// batches not yet fsynced, like a write-ahead log whose tail was lost. A structural copy
/// (`durable`) is kept beside it so every restart can check that recovery from the bytes
/// gives back exactly what was made durable.
public struct SimStorage: Sendable {
    public enum Write: Sendable {
        /// The persist step of one Ready.
        case ready(snapshot: Snapshot?, entries: [LogEntry], hardState: HardState?)
        /// Local compaction behind `snapshot`.
        case compact(Snapshot)
    }

    static let group: UInt64 = 1
    /// Where the application keeps the state-machine image of the latest snapshot.
    static let imageKey: [UInt8] = [0x41, 0x49, 0x4D, 0x47]

    public private(set) var durable: RaftPersistentState
    public private(set) var pending: [Write] = []
    private var bytes: [[UInt8]: [UInt8]] = [:]

    public init(_ initial: RaftPersistentState) {
        durable = initial
        apply(RaftWriteBatch.initial(group: Self.group, state: initial))
        if initial.snapshot.metadata.index > 0 { bytes[Self.imageKey] = initial.snapshot.data }
    }

    public mutating func write(_ w: Write) {
        pending.append(w)
    }

    public mutating func sync() {
        for w in pending { commit(w) }
        pending = []
    }

    /// Loses every pending write after the first `kept`.
    public mutating func crash(keeping kept: Int) {
        for w in pending.prefix(kept) { commit(w) }
        pending = []
    }

    /// Reads the state back from the stored bytes, as a restarting process would.
    public func recovered() throws(StalError) -> RaftPersistentState {
        let range = RaftStorageFormat.groupRange(group: Self.group)
        let scan = bytes.keys
            .filter { !$0.lexicographicallyPrecedes(range.start) && $0.lexicographicallyPrecedes(range.end) }
            .sorted { $0.lexicographicallyPrecedes($1) }
            .map { (key: $0, value: bytes[$0]!) }
        var state = try RaftWriteBatch.recover(group: Self.group, scan: scan)
        if state.snapshot.metadata.index > 0 { state.snapshot.data = bytes[Self.imageKey] ?? [] }
        return state
    }

    private mutating func commit(_ w: Write) {
        switch w {
        case .ready(let snapshot, let entries, let hardState):
            var r = Ready()
            r.snapshot = snapshot
            r.entries = entries
            r.hardState = hardState
            // The image goes in the same atomic batch as, and ahead of, its metadata.
            if let snapshot { bytes[Self.imageKey] = snapshot.data }
            apply(RaftWriteBatch.mutations(group: Self.group, ready: r))
        case .compact(let snapshot):
            guard snapshot.metadata.index > durable.snapshot.metadata.index else { return }
            bytes[Self.imageKey] = snapshot.data
            apply(RaftWriteBatch.compaction(group: Self.group, snapshot: snapshot))
        }
        Self.apply(w, to: &durable)
    }

    private mutating func apply(_ mutations: [KVMutation]) {
        for m in mutations {
            switch m {
            case .put(let key, let value):
                bytes[key] = value
            case .deleteRange(let start, let end):
                for key in bytes.keys where !key.lexicographicallyPrecedes(start) && key.lexicographicallyPrecedes(end) {
                    bytes[key] = nil
                }
            }
        }
    }

    static func apply(_ w: Write, to s: inout RaftPersistentState) {
        switch w {
        case .ready(let snapshot, let entries, let hardState):
            if let snap = snapshot {
                s.snapshot = snap
                s.entries = []
            }
            if let first = entries.first {
                let base = s.snapshot.metadata.index
                let keep = Int(first.index - base - 1)
                if keep < s.entries.count { s.entries.removeLast(s.entries.count - keep) }
                s.entries.append(contentsOf: entries)
            }
            if let hs = hardState { s.hardState = hs }
        case .compact(let snap):
            guard snap.metadata.index > s.snapshot.metadata.index else { return }
            s.snapshot = snap
            s.entries.removeAll { $0.index <= snap.metadata.index }
        }
    }
}
