import Foundation
import StalCore
import StalDeterminism
import StalStorage
import Testing

/// One behaviour, two engines: every test runs against MemoryEngine and RocksDBEngine.
enum EngineKind: String, CaseIterable, Sendable {
    case memory, rocksdb
}

final class TempDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "stal-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func makeEngine(_ kind: EngineKind, _ dir: TempDirectory) throws -> any KVEngine {
    switch kind {
    case .memory: return MemoryEngine()
    case .rocksdb: return try RocksDBEngine(path: dir.path + "/db")
    }
}

func b(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct EngineTests {
    @Test(arguments: EngineKind.allCases)
    func batchIsAppliedAcrossFamilies(_ kind: EngineKind) throws {
        let dir = try TempDirectory()
        let e = try makeEngine(kind, dir)
        var batch = WriteBatch()
        batch.put(.state, b("a"), b("1"))
        batch.put(.blobs, b("a"), b("2"))
        batch.put(.state, b("b"), b("3"))
        batch.delete(.state, b("b"))
        try e.write(batch, sync: true)
        #expect(try e.get(.state, b("a")) == b("1"))
        #expect(try e.get(.blobs, b("a")) == b("2"))
        #expect(try e.get(.state, b("b")) == nil)
        #expect(try e.get(.log, b("a")) == nil)
    }

    @Test(arguments: EngineKind.allCases)
    func scansHonourPrefixDirectionAndLimit(_ kind: EngineKind) throws {
        let dir = try TempDirectory()
        let e = try makeEngine(kind, dir)
        var batch = WriteBatch()
        for k in ["p1", "p2", "p3", "p\u{FF}", "q1", "o9"] { batch.put(.state, b(k), b(k.uppercased())) }
        batch.put(.state, [0x70, 0xFF, 0xFF], [1])
        try e.write(batch, sync: false)
        let forward = try e.scan(.state, prefix: b("p")).map(\.key)
        #expect(forward == [b("p1"), b("p2"), b("p3"), b("p\u{FF}"), [0x70, 0xFF, 0xFF]].sorted { $0.lexicographicallyPrecedes($1) })
        let reverse = try e.scan(.state, prefix: b("p"), reverse: true, limit: 2).map(\.key)
        #expect(reverse == Array(forward.reversed().prefix(2)))
        let range = try e.scan(.state, KeyRange(lower: b("p2"), upper: b("q")), reverse: false, limit: nil).map(\.key)
        #expect(range == Array(forward.dropFirst()))
        var visited = 0
        try e.scan(.state, .all, reverse: false, limit: nil) { _, _ in
            visited += 1
            return visited < 3
        }
        #expect(visited == 3)
    }

    @Test(arguments: EngineKind.allCases)
    func deleteRangeRemovesHalfOpenRange(_ kind: EngineKind) throws {
        let dir = try TempDirectory()
        let e = try makeEngine(kind, dir)
        var batch = WriteBatch()
        for i in 0..<10 { batch.put(.log, KeyCoding.key(1, UInt64(i)), [UInt8(i)]) }
        try e.write(batch, sync: true)
        var del = WriteBatch()
        del.deleteRange(.log, from: KeyCoding.key(1, 2), to: KeyCoding.key(1, 7))
        try e.write(del, sync: true)
        #expect(try e.scan(.log, .all).map { $0.value[0] } == [0, 1, 7, 8, 9])
    }

    @Test(arguments: EngineKind.allCases)
    func snapshotDoesNotSeeLaterWrites(_ kind: EngineKind) throws {
        let dir = try TempDirectory()
        let e = try makeEngine(kind, dir)
        var batch = WriteBatch()
        batch.put(.state, b("k"), b("old"))
        try e.write(batch, sync: false)
        let snap = try e.snapshot()
        var later = WriteBatch()
        later.put(.state, b("k"), b("new"))
        later.put(.state, b("k2"), b("x"))
        try e.write(later, sync: false)
        #expect(try snap.get(.state, b("k")) == b("old"))
        #expect(try snap.scan(.state, .all).count == 1)
        #expect(try e.get(.state, b("k")) == b("new"))
    }

    @Test func rocksDBCreatesMissingParentDirectories() throws {
        let dir = try TempDirectory()
        let e = try RocksDBEngine(path: dir.path + "/a/b/db")
        var batch = WriteBatch()
        batch.put(.state, [1], [2])
        try e.write(batch, sync: true)
        #expect(try e.get(.state, [1]) == [2])
        e.close()
        #expect(try Directories.create(dir.path + "/a/b/c") == [dir.path + "/a/b/c"])
        #expect(Directories.parent(of: "/x") == "/" && Directories.parent(of: "/x/y") == "/x" && Directories.parent(of: "y") == ".")
    }

    @Test func rocksDBReopensToSyncedState() throws {
        let dir = try TempDirectory()
        do {
            let e = try RocksDBEngine(path: dir.path + "/db")
            for i in 0..<100 {
                var batch = WriteBatch()
                batch.put(.state, KeyCoding.key(7, UInt64(i)), [UInt8(i)])
                try e.write(batch, sync: true)
            }
            e.close()
        }
        let e = try RocksDBEngine(path: dir.path + "/db")
        #expect(try e.scan(.state, prefix: [7]).count == 100)
        #expect(try e.get(.state, KeyCoding.key(7, 99)) == [99])
        e.close()
        #expect(throws: StalError.self) { try e.get(.state, [1]) }
    }
}

@Suite struct MemoryEngineDurabilityTests {
    @Test func crashKeepsOnlyWritesCoveredByASync() throws {
        let e = MemoryEngine(tracksDurability: true)
        func put(_ k: UInt8, sync: Bool) throws {
            var batch = WriteBatch()
            batch.put(.state, [k], [k])
            try e.write(batch, sync: sync)
        }
        try put(1, sync: false)
        try put(2, sync: true)
        try put(3, sync: false)
        #expect(try e.scan(.state, .all).map(\.key) == [[1], [2], [3]])
        e.crash()
        #expect(try e.scan(.state, .all).map(\.key) == [[1], [2]])
        try put(4, sync: true)
        e.crash()
        #expect(try e.scan(.state, .all).map(\.key) == [[1], [2], [4]])
    }
}
