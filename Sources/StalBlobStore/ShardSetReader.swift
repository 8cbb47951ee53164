import StalCore
import StalErasure

/// Reads a range of an erasure-coded blob's stored bytes. Each stripe is served from the
/// data cells that hold the range; a cell that is missing or fails its checksum makes that
/// stripe degraded, and it is rebuilt from any k intact cells. Fewer than k intact cells is
/// an error naming the stripe, never guessed bytes.
struct ShardSetReader {
    let store: BlobStore
    let id: BlobID
    let layout: StripeLayout
    let placement: [StorageLocationID]
    private var opened: [Int: Result<OpenShard, ShardFault>] = [:]
    /// Plans by (sources, targets): a blob with one lost shard reuses one plan for all stripes.
    private var plans: [[Int]: DecodePlan] = [:]
    /// True once any shard or cell this reader touched was missing or damaged.
    private(set) var sawDamage = false

    init(store: BlobStore, id: BlobID, layout: StripeLayout, placement: [StorageLocationID]) {
        self.store = store
        self.id = id
        self.layout = layout
        self.placement = placement
    }

    mutating func read(_ range: Range<Int>) throws(StalError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        let slices = layout.slices(covering: range)
        var start = 0
        while start < slices.count {
            let stripe = slices[start].stripe
            var end = start
            while end < slices.count && slices[end].stripe == stripe { end += 1 }
            let wanted = Array(Set(slices[start..<end].map(\.dataIndex))).sorted()
            let cells = try dataCells(wanted, stripe: stripe)
            for slice in slices[start..<end] {
                output += cells[slice.dataIndex]![slice.rangeInCell]
            }
            start = end
        }
        return output
    }

    /// Cell `s` of shard `index` if it is intact.
    mutating func cell(shard index: Int, stripe s: Int) -> [UInt8]? {
        guard case .success(let shard) = open(index), let cell = shard.cell(stripe: s) else {
            sawDamage = true
            return nil
        }
        return cell
    }

    mutating func open(_ index: Int) -> Result<OpenShard, ShardFault> {
        if let known = opened[index] { return known }
        let result: Result<OpenShard, ShardFault>
        if let device = store.device(placement[index]) {
            result = OpenShard.open(device, blob: id, shard: index, layout: layout)
        } else {
            result = .failure(.missing)
        }
        opened[index] = result
        return result
    }

    private mutating func dataCells(_ wanted: [Int], stripe s: Int) throws(StalError) -> [Int: [UInt8]] {
        var cells: [Int: [UInt8]] = [:]
        var lost: [Int] = []
        for index in wanted {
            if let cell = cell(shard: index, stripe: s) { cells[index] = cell } else { lost.append(index) }
        }
        guard !lost.isEmpty else { return cells }
        let rebuilt = try rebuild(lost, stripe: s, known: cells)
        for (index, cell) in zip(lost, rebuilt) { cells[index] = cell }
        return cells
    }

    /// Rebuilds the cells of shards `targets` in stripe `s` from k intact cells, reading
    /// data shards before parity shards.
    mutating func rebuild(_ targets: [Int], stripe s: Int, known: [Int: [UInt8]]) throws(StalError) -> [[UInt8]] {
        let k = layout.scheme.dataShards
        var sources = known
        for index in 0..<layout.scheme.totalShards where sources.count < k && sources[index] == nil && !targets.contains(index) {
            if let cell = cell(shard: index, stripe: s) { sources[index] = cell }
        }
        guard sources.count >= k else {
            throw StalError(.corrupted, "blob \(id.hex) stripe \(s): \(sources.count) of \(layout.scheme.totalShards) shards intact, \(k) needed")
        }
        let available = Array(sources.keys).sorted()
        let key = available + [-1] + targets
        let plan: DecodePlan
        if let cached = plans[key] {
            plan = cached
        } else {
            plan = try store.decodePlan(available: available, targets: targets)
            plans[key] = plan
        }
        let length = layout.cellLength(stripe: s)
        let input = CellBuffer(cells: k, cellLength: length)
        for (i, index) in plan.sources.enumerated() { input.store(sources[index]!, at: i) }
        let output = CellBuffer(cells: targets.count, cellLength: length)
        plan.reconstruct(cellLength: length, sources: input.pointers, targets: output.pointers)
        return (0..<targets.count).map { output.bytes(at: $0) }
    }
}
