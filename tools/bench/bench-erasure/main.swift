// bench-erasure: codec throughput beside raw ISA-L and memcpy, then blob store put/get, and
// the put-latency measurement behind the inline threshold. One JSON line per case.
// Usage: bench-erasure [codec|store|threshold]...   (default: codec store)

let arguments = Array(CommandLine.arguments.dropFirst())
let parts = arguments.isEmpty ? ["codec", "store"] : arguments
var isalEncode42Gbps: Double?

for part in parts {
    switch part {
    case "codec":
        for (k, m) in [(4, 2), (6, 3), (10, 4)] {
            let reports = try CodecBenchmark().run(k: k, m: m, stripeBytes: 1 << 20)
            if k == 4 { isalEncode42Gbps = reports.first { $0.op == "encode" }?.isalGbps }
            for report in reports { print(report.json) }
        }
    case "store":
        let isal = try isalEncode42Gbps ?? CodecBenchmark().run(k: 4, m: 2, stripeBytes: 1 << 20)[0].isalGbps
        let bench = try StoreBenchmark()
        defer { bench.cleanUp() }
        for line in try bench.runPutGet(isalEncodeGbps: isal) { print(line) }
    case "threshold":
        let bench = try StoreBenchmark()
        defer { bench.cleanUp() }
        for line in try bench.runPrimitives() + bench.runThreshold() + bench.runSingleLocation() { print(line) }
    default:
        print("unknown part \(part); use codec, store or threshold")
    }
}
