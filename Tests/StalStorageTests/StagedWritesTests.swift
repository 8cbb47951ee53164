import StalCore
import StalDeterminism
import StalStorage
import Testing

@Suite struct StagedWritesTests {
    @Test func readsSeeStagedPutsAndDeletes() throws {
        let base = MemoryEngine()
        var batch = WriteBatch()
        batch.put(.state, [1], [10])
        batch.put(.state, [2], [20])
        try base.write(batch, sync: false)
        let staged = StagedWrites(over: base)
        staged.delete(.state, [1])
        staged.put(.state, [3], [30])
        #expect(try staged.get(.state, [1]) == nil)
        #expect(try staged.get(.state, [2]) == [20])
        #expect(try staged.get(.state, [3]) == [30])
        #expect(try base.get(.state, [3]) == nil)
        let child = StagedWrites(over: staged)
        child.put(.state, [2], [21])
        #expect(try staged.get(.state, [2]) == [20])
        staged.absorb(child)
        #expect(try staged.get(.state, [2]) == [21])
        #expect(staged.batch.count == 3)
    }

    /// Random staged operations over a random base: every scan through the staging must
    /// equal the same scan of an engine that had the staged batch applied.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func mergedScanEqualsAppliedBatch(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let base = MemoryEngine()
        let expected = MemoryEngine()
        var initial = WriteBatch()
        for _ in 0..<40 {
            initial.put(.state, [UInt8(rng.next(below: 4)), UInt8(rng.next(below: 16))], [UInt8(rng.next(below: 256))])
        }
        try base.write(initial, sync: false)
        try expected.write(initial, sync: false)
        let staged = StagedWrites(over: base)
        for _ in 0..<30 {
            let key = [UInt8(rng.next(below: 4)), UInt8(rng.next(below: 16))]
            if rng.chance(1, in: 3) {
                staged.delete(.state, key)
            } else {
                staged.put(.state, key, [UInt8(rng.next(below: 256))])
            }
        }
        try expected.write(staged.batch, sync: false)
        for prefix in [[], [0], [1], [2], [3]] as [[UInt8]] {
            for reverse in [false, true] {
                for limit in [nil, 1, 5] as [Int?] {
                    let got = try staged.scan(.state, prefix: prefix, reverse: reverse, limit: limit)
                    let want = try expected.scan(.state, prefix: prefix, reverse: reverse, limit: limit)
                    #expect(got == want, "prefix \(prefix) reverse \(reverse) limit \(String(describing: limit))")
                }
            }
        }
    }
}
