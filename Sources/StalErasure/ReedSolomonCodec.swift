import CISAL
import StalCore

/// Reed–Solomon over GF(2^8) with ISA-L's SIMD kernels. The generator is ISA-L's Cauchy
/// matrix (identity on top), whose every k×k submatrix is invertible, so any k surviving
/// shards rebuild the rest for every k ≤ 16, m ≤ 8.
///
/// The pointer-level entry points encode one stripe in place and do no allocation, so a
/// caller that keeps its buffers pays only ISA-L's own cost.
public struct ReedSolomonCodec: Sendable {
    public let scheme: ErasureScheme
    /// (k+m) × k, row-major; row i says how shard i combines the k data shards.
    private let generator: [UInt8]
    /// ISA-L's expanded multiplication tables for the m parity rows (32·k·m bytes).
    private let parityTables: [UInt8]

    public init(scheme: ErasureScheme) {
        self.scheme = scheme
        let k = scheme.dataShards, n = scheme.totalShards
        var generator = [UInt8](repeating: 0, count: n * k)
        generator.withUnsafeMutableBufferPointer { gf_gen_cauchy1_matrix($0.baseAddress, Int32(n), Int32(k)) }
        self.generator = generator
        var tables = [UInt8](repeating: 0, count: max(1, 32 * k * scheme.parityShards))
        if scheme.parityShards > 0 {
            generator.withUnsafeBufferPointer { g in
                tables.withUnsafeMutableBufferPointer { t in
                    ec_init_tables(Int32(k), Int32(scheme.parityShards),
                                   UnsafeMutablePointer(mutating: g.baseAddress! + k * k), t.baseAddress)
                }
            }
        }
        self.parityTables = tables
    }

    /// Computes the m parity cells of one stripe from its k data cells, all `cellLength` bytes.
    public func encode(cellLength: Int,
                       data: UnsafePointer<UnsafeMutablePointer<UInt8>?>,
                       parity: UnsafePointer<UnsafeMutablePointer<UInt8>?>) {
        guard scheme.parityShards > 0, cellLength > 0 else { return }
        parityTables.withUnsafeBufferPointer { t in
            ec_encode_data(Int32(cellLength), Int32(scheme.dataShards), Int32(scheme.parityShards),
                           UnsafeMutablePointer(mutating: t.baseAddress),
                           UnsafeMutablePointer(mutating: data), UnsafeMutablePointer(mutating: parity))
        }
    }

    /// Array form of `encode`: k equal-length data cells in, m parity cells out.
    public func encode(_ dataCells: [[UInt8]]) throws(StalError) -> [[UInt8]] {
        guard dataCells.count == scheme.dataShards else {
            throw StalError(.invalidArgument, "encode: \(dataCells.count) data cells for \(scheme)")
        }
        let length = dataCells.first?.count ?? 0
        guard dataCells.allSatisfy({ $0.count == length }) else {
            throw StalError(.invalidArgument, "encode: data cells differ in length")
        }
        let data = CellBuffer(cells: dataCells.count, cellLength: length)
        for (i, cell) in dataCells.enumerated() { data.store(cell, at: i) }
        let parity = CellBuffer(cells: scheme.parityShards, cellLength: length)
        encode(cellLength: length, data: data.pointers, parity: parity.pointers)
        return (0..<scheme.parityShards).map { parity.bytes(at: $0) }
    }

    /// Prepares the arithmetic that rebuilds `targets` from the shards in `available`. Plans
    /// depend only on which shards are present, so callers cache them per loss pattern.
    public func decodePlan(available: [Int], targets: [Int]) throws(StalError) -> DecodePlan {
        let k = scheme.dataShards, n = scheme.totalShards
        let present = Array(Set(available.filter { (0..<n).contains($0) })).sorted()
        guard present.count >= k else {
            throw StalError(.corrupted, "\(scheme): only \(present.count) of \(n) shards readable, \(k) needed")
        }
        guard targets.allSatisfy({ (0..<n).contains($0) }) else {
            throw StalError(.invalidArgument, "decode: target outside 0..<\(n)")
        }
        // Prefer data shards as sources: when they are all present the inverse is the identity.
        let sources = Array(present.prefix(k))
        var submatrix = [UInt8](repeating: 0, count: k * k)
        for (row, shard) in sources.enumerated() {
            for column in 0..<k { submatrix[row * k + column] = generator[shard * k + column] }
        }
        var inverse = [UInt8](repeating: 0, count: k * k)
        let status = submatrix.withUnsafeMutableBufferPointer { s in
            inverse.withUnsafeMutableBufferPointer { i in gf_invert_matrix(s.baseAddress, i.baseAddress, Int32(k)) }
        }
        guard status == 0 else {
            throw StalError(.internal, "decode: singular submatrix for sources \(sources)")
        }
        var rows = [UInt8](repeating: 0, count: max(1, targets.count * k))
        for (r, target) in targets.enumerated() {
            if target < k {
                for column in 0..<k { rows[r * k + column] = inverse[target * k + column] }
            } else {
                // parity = G[target] · data = G[target] · inverse · sources
                for column in 0..<k {
                    var sum: UInt8 = 0
                    for i in 0..<k { sum ^= gf_mul(generator[target * k + i], inverse[i * k + column]) }
                    rows[r * k + column] = sum
                }
            }
        }
        var tables = [UInt8](repeating: 0, count: max(1, 32 * k * targets.count))
        if !targets.isEmpty {
            rows.withUnsafeMutableBufferPointer { r in
                tables.withUnsafeMutableBufferPointer { t in
                    ec_init_tables(Int32(k), Int32(targets.count), r.baseAddress, t.baseAddress)
                }
            }
        }
        return DecodePlan(dataShards: k, sources: sources, targets: targets, tables: tables)
    }

    /// Array form of decoding: `shards` has k+m entries, nil where lost; returns all k+m
    /// cells with the lost ones rebuilt.
    public func reconstruct(_ shards: [[UInt8]?]) throws(StalError) -> [[UInt8]] {
        guard shards.count == scheme.totalShards else {
            throw StalError(.invalidArgument, "reconstruct: \(shards.count) shards for \(scheme)")
        }
        let available = shards.indices.filter { shards[$0] != nil }
        let missing = shards.indices.filter { shards[$0] == nil }
        let plan = try decodePlan(available: available, targets: missing)
        let length = shards.compactMap { $0?.count }.first ?? 0
        guard shards.allSatisfy({ $0 == nil || $0!.count == length }) else {
            throw StalError(.invalidArgument, "reconstruct: shards differ in length")
        }
        let inputs = CellBuffer(cells: plan.sources.count, cellLength: length)
        for (i, shard) in plan.sources.enumerated() { inputs.store(shards[shard]!, at: i) }
        let outputs = CellBuffer(cells: missing.count, cellLength: length)
        plan.reconstruct(cellLength: length, sources: inputs.pointers, targets: outputs.pointers)
        var result = shards.map { $0 ?? [] }
        for (i, shard) in missing.enumerated() { result[shard] = outputs.bytes(at: i) }
        return result
    }
}

/// The arithmetic for one loss pattern: which k shards to read and how to combine them into
/// each target shard.
public struct DecodePlan: Sendable, Hashable {
    public let dataShards: Int
    /// The k shard indices read, ascending.
    public let sources: [Int]
    /// The shard indices produced, in the order the caller passes their buffers.
    public let targets: [Int]
    private let tables: [UInt8]

    init(dataShards: Int, sources: [Int], targets: [Int], tables: [UInt8]) {
        self.dataShards = dataShards
        self.sources = sources
        self.targets = targets
        self.tables = tables
    }

    /// Rebuilds the target cells of one stripe; `sources` point at the cells of `self.sources`.
    public func reconstruct(cellLength: Int,
                            sources: UnsafePointer<UnsafeMutablePointer<UInt8>?>,
                            targets: UnsafePointer<UnsafeMutablePointer<UInt8>?>) {
        guard !self.targets.isEmpty, cellLength > 0 else { return }
        tables.withUnsafeBufferPointer { t in
            ec_encode_data(Int32(cellLength), Int32(dataShards), Int32(self.targets.count),
                           UnsafeMutablePointer(mutating: t.baseAddress),
                           UnsafeMutablePointer(mutating: sources), UnsafeMutablePointer(mutating: targets))
        }
    }
}
