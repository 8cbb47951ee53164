import StalCore
import StalDeterminism
import Testing
@testable import StalErasure

@Suite struct ReedSolomonCodecTests {
    static let schemes: [(Int, Int)] = [(1, 0), (1, 1), (2, 1), (4, 2), (6, 3), (10, 4), (16, 8), (16, 0), (3, 8)]

    func randomCells(_ count: Int, length: Int, seed: UInt64) -> [[UInt8]] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in random.bytes(length) }
    }

    @Test(arguments: schemes)
    func rebuildsAnyMissingSetUpToM(k: Int, m: Int) throws {
        let codec = ReedSolomonCodec(scheme: try ErasureScheme(dataShards: k, parityShards: m))
        let data = randomCells(k, length: 1000, seed: UInt64(k * 31 + m))
        let all = data + (try codec.encode(data))
        #expect(all.count == k + m)
        var random = SeededRandom(seed: 7)
        for _ in 0..<40 {
            let lost = Int(random.next(below: UInt64(m + 1)))
            var shards: [[UInt8]?] = all
            var indices = Array(0..<(k + m))
            for _ in 0..<lost {
                let pick = Int(random.next(below: UInt64(indices.count)))
                shards[indices.remove(at: pick)] = nil
            }
            #expect(try codec.reconstruct(shards) == all)
        }
    }

    @Test func everyLossPatternOf4Plus2() throws {
        let codec = ReedSolomonCodec(scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        let data = randomCells(4, length: 333, seed: 1)
        let all = data + (try codec.encode(data))
        for a in 0..<6 {
            for b in a..<6 {
                var shards: [[UInt8]?] = all
                shards[a] = nil
                shards[b] = nil
                #expect(try codec.reconstruct(shards) == all, "lost \(a), \(b)")
            }
        }
    }

    @Test func parityIsLinear() throws {
        // RS is linear: parity of the xor of two stripes is the xor of their parities.
        let codec = ReedSolomonCodec(scheme: try ErasureScheme(dataShards: 6, parityShards: 3))
        let a = randomCells(6, length: 64, seed: 2), b = randomCells(6, length: 64, seed: 3)
        let sum = zip(a, b).map { zip($0, $1).map { $0 ^ $1 } }
        let pa = try codec.encode(a), pb = try codec.encode(b), ps = try codec.encode(sum)
        #expect(ps == zip(pa, pb).map { zip($0, $1).map { $0 ^ $1 } })
        #expect(pa != pb)
    }

    @Test func moreThanMMissingIsAClearError() throws {
        let codec = ReedSolomonCodec(scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        let data = randomCells(4, length: 100, seed: 4)
        var shards: [[UInt8]?] = data + (try codec.encode(data))
        shards[0] = nil; shards[3] = nil; shards[5] = nil
        #expect(throws: StalError.self) { try codec.reconstruct(shards) }
        do {
            _ = try codec.reconstruct(shards)
        } catch {
            #expect(error.kind == .corrupted)
        }
    }

    @Test func decodePlanPrefersDataShards() throws {
        let codec = ReedSolomonCodec(scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        let plan = try codec.decodePlan(available: [5, 4, 3, 1, 0], targets: [2])
        #expect(plan.sources == [0, 1, 3, 4])
        #expect(plan.targets == [2])
    }

    @Test func schemeBounds() {
        #expect(throws: StalError.self) { try ErasureScheme(dataShards: 17, parityShards: 1) }
        #expect(throws: StalError.self) { try ErasureScheme(dataShards: 4, parityShards: 9) }
        #expect(throws: StalError.self) { try ErasureScheme(dataShards: 0, parityShards: 1) }
        #expect(ErasureScheme.single.totalShards == 1)
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        let a = Array("hello, ".utf8), b = Array("world".utf8)
        let continued = b.withUnsafeBytes { CRC32C.update(CRC32C.checksum(a), $0) }
        #expect(continued == CRC32C.checksum(a + b))
    }
}
