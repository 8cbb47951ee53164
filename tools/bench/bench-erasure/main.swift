// bench-erasure: codec throughput beside raw ISA-L and memcpy, then blob store put/get.
// One JSON line per case. Usage: bench-erasure [codec|store|threshold]... (default: codec store)

let arguments = Array(CommandLine.arguments.dropFirst())
let parts = arguments.isEmpty ? ["codec", "store"] : arguments

for part in parts {
    switch part {
    case "codec":
        for (k, m) in [(4, 2), (6, 3), (10, 4)] {
            for report in try CodecBenchmark().run(k: k, m: m, stripeBytes: 1 << 20) { print(report.json) }
        }
    default:
        print("unknown part \(part); use codec, store or threshold")
    }
}
