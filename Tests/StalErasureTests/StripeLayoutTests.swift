import StalCore
import StalDeterminism
import Testing
@testable import StalErasure

@Suite struct StripeLayoutTests {
    @Test(arguments: [0, 1, 255, 4096, 4097, 8191, 12_288, 100_000])
    func dataCellsPartitionTheContent(length: Int) throws {
        let layout = try StripeLayout(scheme: try ErasureScheme(dataShards: 4, parityShards: 2), stripeBytes: 4096, contentLength: length)
        var next = 0
        for s in 0..<layout.stripeCount {
            for i in 0..<4 {
                let range = layout.contentRange(stripe: s, dataIndex: i)
                #expect(range.lowerBound == next || range.isEmpty)
                #expect(range.count <= layout.cellLength(stripe: s))
                next = max(next, range.upperBound)
            }
        }
        #expect(next == length)
        #expect(layout.stripeCount == (length + 4095) / 4096)
    }

    @Test func slicesCoverExactlyTheRange() throws {
        let layout = try StripeLayout(scheme: try ErasureScheme(dataShards: 3, parityShards: 1), stripeBytes: 3 * 64 * 22, contentLength: 10_000)
        var random = SeededRandom(seed: 9)
        for _ in 0..<200 {
            let a = Int(random.next(below: 10_001)), b = Int(random.next(below: 10_001))
            let range = min(a, b)..<max(a, b)
            let slices = layout.slices(covering: range)
            #expect(slices.reduce(0) { $0 + $1.rangeInContent.count } == range.count)
            var position = range.lowerBound
            for slice in slices {
                #expect(slice.rangeInContent.lowerBound == position)
                let cellStart = layout.contentRange(stripe: slice.stripe, dataIndex: slice.dataIndex).lowerBound
                #expect(slice.rangeInContent.lowerBound - cellStart == slice.rangeInCell.lowerBound)
                position = slice.rangeInContent.upperBound
            }
        }
        #expect(layout.slices(covering: 20_000..<30_000).isEmpty)
    }

    @Test func stripeSizeMustSuitTheScheme() throws {
        let scheme = try ErasureScheme(dataShards: 6, parityShards: 3)
        #expect(throws: StalError.self) { try StripeLayout(scheme: scheme, stripeBytes: 1 << 20, contentLength: 1) }
        let aligned = StripeLayout.alignedStripeBytes(1 << 20, scheme: scheme)
        #expect(aligned % (64 * 6) == 0)
        #expect(abs(aligned - (1 << 20)) <= 64 * 6)
        _ = try StripeLayout(scheme: scheme, stripeBytes: aligned, contentLength: 1)
    }
}
