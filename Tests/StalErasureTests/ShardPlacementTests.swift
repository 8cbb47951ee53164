import StalCore
import StalDeterminism
import Testing
@testable import StalErasure

@Suite struct ShardPlacementTests {
    func blob(_ seed: UInt64) -> BlobID {
        var random = SeededRandom(seed: seed)
        return BlobID(digest: random.bytes(32))!
    }

    func locations(_ domains: [String]) -> [StorageLocation] {
        domains.enumerated().map { StorageLocation(id: StorageLocationID("loc\($0.offset)"), failureDomain: $0.element) }
    }

    @Test func distinctFailureDomainsWhenThereAreEnough() {
        let locs = locations(["a", "a", "b", "b", "c", "c", "d", "e", "f", "f"])
        let domain = Dictionary(uniqueKeysWithValues: locs.map { ($0.id, $0.failureDomain) })
        for seed in 0..<200 as Range<UInt64> {
            let placed = ShardPlacement.place(blob: blob(seed), shardCount: 6, locations: locs)
            #expect(Set(placed.map { domain[$0]! }).count == 6)
            #expect(placed == ShardPlacement.place(blob: blob(seed), shardCount: 6, locations: locs.reversed()))
        }
    }

    @Test func distinctLocationsWhenDomainsRunOut() {
        let locs = locations(["a", "a", "a", "b", "b", "b"])
        let domain = Dictionary(uniqueKeysWithValues: locs.map { ($0.id, $0.failureDomain) })
        for seed in 0..<50 as Range<UInt64> {
            let placed = ShardPlacement.place(blob: blob(seed), shardCount: 6, locations: locs)
            #expect(Set(placed).count == 6)
            let perDomain = Dictionary(grouping: placed, by: { domain[$0]! }).mapValues(\.count)
            #expect(perDomain == ["a": 3, "b": 3])
        }
    }

    @Test func singleLocationTakesEveryShard() {
        let locs = locations(["only"])
        #expect(ShardPlacement.place(blob: blob(1), shardCount: 3, locations: locs) == Array(repeating: StorageLocationID("loc0"), count: 3))
    }

    @Test func placementSpreadsBlobsEvenly() {
        let locs = locations((0..<6).map { "d\($0)" })
        var firstShardCounts: [StorageLocationID: Int] = [:]
        for seed in 0..<600 as Range<UInt64> {
            firstShardCounts[ShardPlacement.place(blob: blob(seed), shardCount: 1, locations: locs)[0], default: 0] += 1
        }
        #expect(firstShardCounts.count == 6)
        #expect(firstShardCounts.values.allSatisfy { (60...140).contains($0) })
    }

    @Test func replacementAvoidsDomainsInUse() {
        let locs = locations(["a", "b", "c", "d", "e", "f", "g"])
        let id = blob(3)
        let placed = ShardPlacement.place(blob: id, shardCount: 6, locations: locs)
        let unused = Set(locs.map(\.id)).subtracting(placed)
        #expect(unused.count == 1)
        var current: [StorageLocationID?] = placed
        current[2] = nil
        let replacement = ShardPlacement.replacement(blob: id, shardIndex: 2, current: current, locations: locs,
                                                     usable: { $0 != placed[2] })
        #expect(replacement == unused.first)
        let none = ShardPlacement.replacement(blob: id, shardIndex: 2, current: current, locations: locs, usable: { _ in false })
        #expect(none == nil)
    }
}
