import CISAL
import Glibc
import StalErasure

/// Codec throughput against raw ISA-L and memcpy on the same buffers, one core, stripes in
/// cache. Runs of the three are interleaved so neighbours' load hits them alike; each figure
/// is the median of the runs.
struct CodecBenchmark {
    let runs = 7
    let secondsPerRun = 0.15

    func run(k: Int, m: Int, stripeBytes requested: Int) throws -> [Report] {
        let scheme = try ErasureScheme(dataShards: k, parityShards: m)
        let stripeBytes = StripeLayout.alignedStripeBytes(requested, scheme: scheme)
        let cellLength = stripeBytes / k
        let codec = ReedSolomonCodec(scheme: scheme)
        let shards = CellBuffer(cells: k + m, cellLength: cellLength)
        for i in 0..<k {
            let cell = shards.cell(i)
            for j in 0..<cellLength { cell[j] = UInt8(truncatingIfNeeded: j &* 31 &+ i &* 7) }
        }
        let parity = shards.pointers + k

        // Raw ISA-L: the same generator and tables built by hand, called directly.
        var generator = [UInt8](repeating: 0, count: (k + m) * k)
        gf_gen_cauchy1_matrix(&generator, Int32(k + m), Int32(k))
        var rawTables = [UInt8](repeating: 0, count: 32 * k * m)
        generator.withUnsafeMutableBufferPointer { g in ec_init_tables(Int32(k), Int32(m), g.baseAddress! + k * k, &rawTables) }

        // Decode with data shard 0 lost: sources 1..<k+1, target 0.
        let plan = try codec.decodePlan(available: Array(1...k), targets: [0])
        let sources = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: k)
        defer { sources.deallocate() }
        for i in 0..<k { sources[i] = shards.pointers[i + 1] }
        let rebuilt = CellBuffer(cells: 1, cellLength: cellLength)
        var rawDecodeTables = rawDecodeTablesForLostShard0(generator: generator, k: k)

        let copySource = UnsafeMutableRawPointer.allocate(byteCount: stripeBytes, alignment: 64)
        let copyTarget = UnsafeMutableRawPointer.allocate(byteCount: stripeBytes, alignment: 64)
        defer { copySource.deallocate(); copyTarget.deallocate() }
        copySource.initializeMemory(as: UInt8.self, repeating: 1, count: stripeBytes)

        var codecEncode: [Double] = [], rawEncode: [Double] = []
        var codecDecode: [Double] = [], rawDecode: [Double] = [], copy: [Double] = []
        for _ in 0..<runs {
            codecEncode.append(rate(bytes: stripeBytes) { codec.encode(cellLength: cellLength, data: shards.pointers, parity: parity) })
            rawEncode.append(rate(bytes: stripeBytes) {
                ec_encode_data(Int32(cellLength), Int32(k), Int32(m), &rawTables, shards.pointers, parity)
            })
            codecDecode.append(rate(bytes: stripeBytes) { plan.reconstruct(cellLength: cellLength, sources: sources, targets: rebuilt.pointers) })
            rawDecode.append(rate(bytes: stripeBytes) {
                ec_encode_data(Int32(cellLength), Int32(k), 1, &rawDecodeTables, sources, rebuilt.pointers)
            })
            copy.append(rate(bytes: stripeBytes) { opaqueCopy(copyTarget, copySource, stripeBytes) })
        }
        precondition(memcmp(rebuilt.pointers[0]!, shards.pointers[0]!, cellLength) == 0, "decode rebuilt wrong bytes")
        let memcpyGbps = median(copy)
        return [
            Report(k: k, m: m, op: "encode", stripeBytes: stripeBytes, gbps: median(codecEncode), isalGbps: median(rawEncode), memcpyGbps: memcpyGbps),
            Report(k: k, m: m, op: "decode_1_lost", stripeBytes: stripeBytes, gbps: median(codecDecode), isalGbps: median(rawDecode), memcpyGbps: memcpyGbps),
        ]
    }

    /// What ISA-L's own examples do for a lost data shard: invert the surviving rows, take
    /// the lost shard's row of the inverse.
    private func rawDecodeTablesForLostShard0(generator: [UInt8], k: Int) -> [UInt8] {
        var submatrix: [UInt8] = []
        for row in 1...k { submatrix += generator[(row * k)..<(row * k + k)] }
        var inverse = [UInt8](repeating: 0, count: k * k)
        precondition(gf_invert_matrix(&submatrix, &inverse, Int32(k)) == 0)
        var row = Array(inverse[0..<k])
        var tables = [UInt8](repeating: 0, count: 32 * k)
        ec_init_tables(Int32(k), 1, &row, &tables)
        return tables
    }

    /// Bytes per second of `body` over about `secondsPerRun`, in GB/s (10^9).
    private func rate(bytes: Int, _ body: () -> Void) -> Double {
        body()
        var iterations = 0
        let start = monotonicSeconds()
        var elapsed = 0.0
        repeat {
            for _ in 0..<16 { body() }
            iterations += 16
            elapsed = monotonicSeconds() - start
        } while elapsed < secondsPerRun
        return Double(bytes) * Double(iterations) / elapsed / 1e9
    }

    struct Report {
        var k: Int, m: Int, op: String, stripeBytes: Int
        var gbps: Double, isalGbps: Double, memcpyGbps: Double

        var json: String {
            "{\"name\":\"erasure_codec\",\"k\":\(k),\"m\":\(m),\"op\":\"\(op)\",\"stripe_bytes\":\(stripeBytes),"
                + "\"gbps\":\(fixed(gbps)),\"isal_gbps\":\(fixed(isalGbps)),\"ratio_vs_isal\":\(fixed(gbps / isalGbps, 3)),"
                + "\"memcpy_gbps\":\(fixed(memcpyGbps)),\"result\":\(fixed(gbps)),\"unit\":\"GB/s\",\"cores\":1}"
        }
    }
}

/// memcpy the optimiser cannot drop as a dead store.
@_optimize(none)
func opaqueCopy(_ target: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) {
    memcpy(target, source, count)
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func fixed(_ value: Double, _ digits: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}
