/// The replica's log since its last snapshot, held in memory. Entries above `stableIndex`
/// have not been persisted yet; entries up to `applied` have been handed to the
/// application. The driver bounds memory by compacting after applying.
struct RaftLog: Sendable {
    private(set) var snapshotMetadata: SnapshotMetadata
    private(set) var entries: [LogEntry]
    private(set) var committed: LogIndex
    private(set) var applied: LogIndex
    private(set) var stableIndex: LogIndex
    /// A snapshot received from the leader and not yet persisted.
    private(set) var unstableSnapshot: Snapshot?
    /// The newest snapshot this replica can send to lagging followers.
    private(set) var latestSnapshot: Snapshot?

    init(state: RaftPersistentState, applied: LogIndex?) {
        let snap = state.snapshot.metadata
        snapshotMetadata = snap
        entries = state.entries.filter { $0.index > snap.index }
        let last = snap.index + LogIndex(entries.count)
        committed = min(max(state.hardState.commit, snap.index), last)
        self.applied = min(max(applied ?? snap.index, snap.index), committed)
        stableIndex = last
        latestSnapshot = snap.index > 0 ? state.snapshot : nil
    }

    var snapshotIndex: LogIndex { snapshotMetadata.index }
    var firstIndex: LogIndex { snapshotMetadata.index + 1 }
    var lastIndex: LogIndex { snapshotMetadata.index + LogIndex(entries.count) }
    var lastTerm: RaftTerm { term(at: lastIndex) ?? 0 }

    /// nil when `index` is compacted away or beyond the log.
    func term(at index: LogIndex) -> RaftTerm? {
        if index == snapshotMetadata.index { return snapshotMetadata.term }
        guard index > snapshotMetadata.index, index <= lastIndex else { return nil }
        return entries[Int(index - firstIndex)].term
    }

    func entry(at index: LogIndex) -> LogEntry? {
        guard index >= firstIndex, index <= lastIndex else { return nil }
        return entries[Int(index - firstIndex)]
    }

    func matchTerm(_ index: LogIndex, _ term: RaftTerm) -> Bool { self.term(at: index) == term }

    /// Raft §5.4.1: a candidate's log is at least as up-to-date as ours.
    func isUpToDate(lastIndex candidateIndex: LogIndex, term candidateTerm: RaftTerm) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Entries in [from, lastIndex] within the count and byte limits (at least one entry
    /// when any exists); nil when `from` is compacted.
    func slice(from: LogIndex, maxCount: Int, maxBytes: Int) -> [LogEntry]? {
        guard from >= firstIndex else { return nil }
        guard from <= lastIndex else { return [] }
        let start = Int(from - firstIndex)
        var end = start
        var bytes = 0
        while end < entries.count && end - start < maxCount {
            bytes += entries[end].data.count
            if end > start && bytes > maxBytes { break }
            end += 1
        }
        return Array(entries[start..<end])
    }

    var unstableEntries: ArraySlice<LogEntry> {
        let start = Int(stableIndex >= snapshotIndex ? stableIndex - snapshotIndex : 0)
        return entries[min(start, entries.count)...]
    }

    func entriesToApply() -> ArraySlice<LogEntry> {
        let from = max(applied + 1, firstIndex)
        guard committed >= from else { return [] }
        return entries[Int(from - firstIndex)...Int(committed - firstIndex)]
    }

    var hasEntriesToApply: Bool { committed > max(applied, snapshotIndex) }

    /// Appends `newEntries`, replacing any entries from `newEntries[0].index` on. Returns
    /// false (changing nothing) if that would replace a committed entry.
    mutating func append(_ newEntries: [LogEntry]) -> Bool {
        guard let first = newEntries.first else { return true }
        guard first.index > committed, first.index >= firstIndex, first.index <= lastIndex + 1 else { return false }
        if first.index <= lastIndex {
            entries.removeLast(Int(lastIndex - first.index + 1))
            stableIndex = min(stableIndex, first.index - 1)
        }
        entries.append(contentsOf: newEntries)
        return true
    }

    /// The first index of `newEntries` whose term differs from ours or that we lack; nil
    /// when we hold all of them.
    func findConflict(_ newEntries: [LogEntry]) -> LogIndex? {
        for e in newEntries where !matchTerm(e.index, e.term) {
            if e.index <= snapshotIndex { continue }
            return e.index
        }
        return nil
    }

    /// The largest index <= `index` whose term is <= `term`, with that term (0 when
    /// unknown): the leader can skip every entry between it and `index` in one round trip.
    func findConflictByTerm(index: LogIndex, term: RaftTerm) -> (LogIndex, RaftTerm) {
        var i = min(index, lastIndex)
        while i > 0 {
            guard let t = self.term(at: i) else { return (i, 0) }
            if t <= term { return (i, t) }
            i -= 1
        }
        return (0, 0)
    }

    mutating func commit(to index: LogIndex) {
        if index > committed { committed = min(index, lastIndex) }
    }

    mutating func stable(to index: LogIndex, term: RaftTerm) {
        if index > stableIndex && matchTerm(index, term) { stableIndex = index }
    }

    mutating func stableSnapshot(_ index: LogIndex) {
        if unstableSnapshot?.metadata.index == index { unstableSnapshot = nil }
    }

    mutating func applied(to index: LogIndex) {
        if index > applied { applied = min(index, committed) }
    }

    /// Replaces the whole log by `snapshot`.
    mutating func restore(_ snapshot: Snapshot) {
        snapshotMetadata = snapshot.metadata
        entries = []
        committed = snapshot.metadata.index
        applied = snapshot.metadata.index
        stableIndex = snapshot.metadata.index
        unstableSnapshot = snapshot
        latestSnapshot = snapshot
    }

    /// Drops entries up to `snapshot.metadata.index`, which the caller guarantees is
    /// applied and persisted.
    mutating func compact(_ snapshot: Snapshot) {
        let index = snapshot.metadata.index
        guard index > snapshotIndex, index <= applied, index <= stableIndex else { return }
        entries.removeFirst(Int(index - snapshotIndex))
        snapshotMetadata = snapshot.metadata
        latestSnapshot = snapshot
    }
}
