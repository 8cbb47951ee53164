import Testing
import StalCore
@testable import StalRaft

/// An ordered key-value store with atomic batches and an fsync barrier: what RocksDB
/// gives StalStorage, reduced to what the format relies on.
struct OrderedStore {
    var synced: [[UInt8]: [UInt8]] = [:]
    var batches: [[KVMutation]] = []

    mutating func write(_ batch: [KVMutation]) { batches.append(batch) }

    /// The store after a crash that kept the first `kept` unsynced batches.
    func afterCrash(keeping kept: Int) -> [[UInt8]: [UInt8]] {
        var s = synced
        for b in batches.prefix(kept) { Self.apply(b, to: &s) }
        return s
    }

    static func apply(_ batch: [KVMutation], to s: inout [[UInt8]: [UInt8]]) {
        for m in batch {
            switch m {
            case .put(let k, let v): s[k] = v
            case .deleteRange(let a, let b):
                for k in s.keys where !k.lexicographicallyPrecedes(a) && k.lexicographicallyPrecedes(b) { s[k] = nil }
            }
        }
    }

    static func scan(_ s: [[UInt8]: [UInt8]], group: UInt64) -> [(key: [UInt8], value: [UInt8])] {
        let r = RaftStorageFormat.groupRange(group: group)
        return s.keys.filter { !$0.lexicographicallyPrecedes(r.start) && $0.lexicographicallyPrecedes(r.end) }
            .sorted { $0.lexicographicallyPrecedes($1) }.map { ($0, s[$0]!) }
    }
}

@Suite struct StorageFormatTests {
    @Test func recordsRoundTrip() throws {
        let e = LogEntry(index: 42, term: 7, kind: .confChange, data: ConfChange(.addVoter, 9).encoded())
        #expect(try RaftStorageFormat.decodeEntry(RaftStorageFormat.encode(e)) == e)
        let h = HardState(term: 9, vote: 3, commit: 40)
        #expect(try RaftStorageFormat.decodeHardState(RaftStorageFormat.encode(h)) == h)
        let m = SnapshotMetadata(index: 30, term: 6, confState: ConfState(voters: [1, 2, 3], learners: [7]))
        #expect(try RaftStorageFormat.decodeSnapshotMetadata(RaftStorageFormat.encode(m)) == m)
    }

    @Test func corruptionIsReportedNotReplayed() {
        var v = RaftStorageFormat.encode(LogEntry(index: 1, term: 1, data: [1, 2, 3]))
        v[10] ^= 0x40
        #expect(throws: StalError.self) { try RaftStorageFormat.decodeEntry(v) }
        #expect(throws: StalError.self) { try RaftStorageFormat.decodeEntry(Array(v.prefix(4))) }
        #expect(throws: StalError.self) { try RaftStorageFormat.decodeHardState(RaftStorageFormat.encode(LogEntry(index: 1, term: 1))) }
    }

    @Test func keysSortNumericallyAndGroupsStayApart() {
        let a = RaftStorageFormat.entryKey(group: 1, index: 255)
        let b = RaftStorageFormat.entryKey(group: 1, index: 256)
        #expect(a.lexicographicallyPrecedes(b))
        let g1 = RaftStorageFormat.groupRange(group: 1)
        let other = RaftStorageFormat.entryKey(group: 2, index: 0)
        #expect(!other.lexicographicallyPrecedes(g1.end))
        #expect(RaftStorageFormat.hardStateKey(group: 1).lexicographicallyPrecedes(g1.end))
    }

    @Test func recoveryRejectsGapsAndImpossibleCommit() {
        var s: [[UInt8]: [UInt8]] = [:]
        for i: LogIndex in [1, 2, 4] {
            s[RaftStorageFormat.entryKey(group: 1, index: i)] = RaftStorageFormat.encode(LogEntry(index: i, term: 1))
        }
        #expect(throws: StalError.self) { try RaftWriteBatch.recover(group: 1, scan: OrderedStore.scan(s, group: 1)) }
        s[RaftStorageFormat.entryKey(group: 1, index: 4)] = nil
        s[RaftStorageFormat.hardStateKey(group: 1)] = RaftStorageFormat.encode(HardState(term: 1, commit: 5))
        #expect(throws: StalError.self) { try RaftWriteBatch.recover(group: 1, scan: OrderedStore.scan(s, group: 1)) }
    }

    /// Drives a three-replica group, records node 2's batches, and for EVERY point at which
    /// its unsynced writes could be lost checks that recovery yields exactly the state of
    /// the last batch that survived, and that the replica restarts from it cleanly.
    @Test func recoveryAfterLosingAnyUnsyncedSuffix() throws {
        var c = TestCluster(voters: [1, 2, 3]) { $0.maxEntriesPerAppend = 2 }
        var store = OrderedStore()
        var expected: [RaftPersistentState] = [RaftPersistentState.bootstrap(voters: [1, 2, 3])]
        OrderedStore.apply(RaftWriteBatch.initial(group: 1, state: expected[0]), to: &store.synced)

        c.manuallyDriven = [2]
        for round in 0..<30 {
            if round == 0 { c.nodes[1]!.campaign() }
            if round > 0 { _ = c.nodes[1]!.propose([UInt8(round)]) }
            if round == 10 { c.isolate(2) }
            if round == 14 { c.heal() }
            if round == 18 { c.isolate(2) }
            if round == 24 {
                // Node 2 is behind the compaction point and must take a snapshot.
                let applied = c.node(1).status.applied
                #expect(c.nodes[1]!.compact(through: applied, data: [9]) != nil)
            }
            if round == 26 { c.heal() }
            // Node 2's Readies are persisted through the format; everything else as usual.
            for _ in 0..<20 {
                if c.nodes[2]!.hasReady {
                    let r = c.nodes[2]!.ready()
                    store.write(RaftWriteBatch.mutations(group: 1, ready: r))
                    var next = expected.last!
                    if let snap = r.snapshot { next.snapshot = Snapshot(metadata: snap.metadata); next.entries = [] }
                    if let first = r.entries.first {
                        next.entries.removeAll { $0.index >= first.index }
                        next.entries += r.entries
                    }
                    if let hs = r.hardState { next.hardState = hs }
                    expected.append(next)
                    c.nodes[2]!.advance(r)
                    for m in r.messages where !c.cut.contains([m.from, m.to]) { c.nodes[m.to]!.step(m) }
                }
                c.settle()
            }
            for id: RaftNodeID in [1, 3] { c.tick(id) }
            c.tick(2)
        }
        #expect(store.batches.count > 20)
        #expect(expected.last!.snapshot.metadata.index > 0)
        for kept in 0...store.batches.count {
            let recovered = try RaftWriteBatch.recover(group: 1, scan: OrderedStore.scan(store.afterCrash(keeping: kept), group: 1))
            #expect(recovered == expected[kept])
            let restarted = RaftStateMachine(config: RaftConfig(id: 2), state: recovered, random: SeededRandomForTests.make())
            #expect(restarted.integrityFault == nil)
            #expect(restarted.term == expected[kept].hardState.term)
        }
    }
}

import StalDeterminism

enum SeededRandomForTests {
    static func make() -> SeededRandom { SeededRandom(seed: 11) }
}
