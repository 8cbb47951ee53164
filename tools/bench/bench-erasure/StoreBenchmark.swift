import Foundation
import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure

/// Blob store put/get over 6 local locations (one failure domain each) with 4+2, and the
/// measurement behind the inline threshold: an erasure-coded put (k+m fsynced files) against
/// an inline put (one fsynced manifest) for growing sizes.
struct StoreBenchmark {
    let root: String

    init() throws {
        let base = ProcessInfo.processInfo.environment["BENCH_ERASURE_DIR"] ?? NSTemporaryDirectory()
        root = base + "/stal-bench-erasure-" + String(getpid())
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: root) }

    func makeStore(_ name: String, inlineBytesMax: Int) throws -> BlobStore {
        let locations = try (0..<6).map { i in
            let path = "\(root)/\(name)/loc\(i)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return BlobLocation(id: StorageLocationID("loc\(i)"), path: path, failureDomain: "domain\(i)")
        }
        var configuration = BlobStoreConfiguration(catalogPath: "\(root)/\(name)/catalog", locations: locations,
                                                   scheme: try ErasureScheme(dataShards: 4, parityShards: 2))
        configuration.inlineBytesMax = inlineBytesMax
        return try BlobStore(configuration: configuration, clock: SystemClock())
    }

    /// Distinct incompressible blobs, so neither dedup nor zstd hides the write cost.
    func blobs(size: Int, count: Int, seed: UInt64) -> [[UInt8]] {
        var random = SeededRandom(seed: seed)
        let base = random.bytes(size)
        return (0..<count).map { i in
            var blob = base
            withUnsafeBytes(of: UInt64(i) ^ seed << 32) { counter in
                for (j, byte) in counter.enumerated() where j < size { blob[j] = byte }
            }
            return blob
        }
    }

    func runPutGet(isalEncodeGbps: Double) throws -> [String] {
        var lines: [String] = []
        let store = try makeStore("putget", inlineBytesMax: BlobStoreConfiguration(catalogPath: "", locations: [], scheme: .single).inlineBytesMax)
        for (size, count) in [(4096, 400), (100 * 1024, 200), (10 << 20, 12)] {
            let inputs = blobs(size: size, count: count, seed: UInt64(size))
            var ids: [BlobID] = []
            let put = try measure(count: count) { i in ids.append(try store.put(inputs[i])) }
            lines.append(line(op: "put", size: size, count: count, measured: put, isal: isalEncodeGbps))
            let get = try measure(count: count) { i in
                guard try store.get(ids[i]).count == size else { throw StalError(.internal, "short read") }
            }
            lines.append(line(op: "get", size: size, count: count, measured: get, isal: isalEncodeGbps))
            guard size > store.configuration.inlineBytesMax else { continue }
            store.drain()
            for id in ids { try removeFirstShard(of: id, store: store) }
            let degraded = try measure(count: count) { i in
                guard try store.get(ids[i]).count == size else { throw StalError(.internal, "short read") }
            }
            lines.append(line(op: "get_1_shard_lost", size: size, count: count, measured: degraded, isal: isalEncodeGbps))
        }
        return lines
    }

    private func removeFirstShard(of id: BlobID, store: BlobStore) throws {
        guard case .erasureCoded(_, let placement)? = try store.manifest(id)?.body,
              let location = store.configuration.locations.first(where: { $0.id == placement[0] }) else { return }
        try FileManager.default.removeItem(atPath: "\(location.path)/\(id.hex.prefix(2))/\(id.hex).0.shard")
    }

    /// Latency of one put, coded versus inline, per size; the inline threshold comes from here.
    func runThreshold() throws -> [String] {
        var lines: [String] = []
        let coded = try makeStore("coded", inlineBytesMax: 0)
        let inline = try makeStore("inline", inlineBytesMax: 8 << 20)
        for size in [4096, 16 * 1024, 64 * 1024, 128 * 1024, 256 * 1024, 1 << 20] {
            let count = 60
            let inputs = blobs(size: size, count: 2 * count, seed: UInt64(size) &* 7)
            var codedMs: [Double] = [], inlineMs: [Double] = []
            for i in 0..<count {
                // Interleaved so both see the same disk conditions.
                codedMs.append(try timeMs { try coded.put(inputs[2 * i]) })
                inlineMs.append(try timeMs { try inline.put(inputs[2 * i + 1]) })
            }
            for (mode, values) in [("coded_4+2", codedMs), ("inline", inlineMs)] {
                let sorted = values.sorted()
                lines.append("{\"name\":\"erasure_put_latency\",\"k\":4,\"m\":2,\"op\":\"put_\(mode)\",\"blob_bytes\":\(size),"
                    + "\"p50_ms\":\(fixed(sorted[count / 2], 3)),\"p90_ms\":\(fixed(sorted[count * 9 / 10], 3)),"
                    + "\"result\":\(fixed(sorted[count / 2], 3)),\"unit\":\"ms\"}")
            }
        }
        return lines
    }

    /// The two file-system costs a put is made of, 4 KiB each: appending to an open file with
    /// fdatasync (what a log pays) and creating a new durable file (what each shard pays).
    func runPrimitives() throws -> [String] {
        let directory = root + "/primitives"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let block = [UInt8](repeating: 0x42, count: 4096)
        let log = open(directory + "/log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let dir = open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(log); close(dir) }
        var append: [Double] = [], create: [Double] = []
        for i in 0..<60 {
            append.append(try timeMs { _ = block.withUnsafeBytes { write(log, $0.baseAddress, 4096) }; fdatasync(log) })
            create.append(try timeMs {
                let fd = open(directory + "/f\(i)", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                _ = block.withUnsafeBytes { write(fd, $0.baseAddress, 4096) }
                fdatasync(fd)
                close(fd)
                fsync(dir)
            })
        }
        return [("append_fdatasync", append), ("create_fdatasync_dirfsync", create)].map { op, values in
            let sorted = values.sorted()
            return "{\"name\":\"erasure_fs_primitive\",\"k\":0,\"m\":0,\"op\":\"\(op)\",\"blob_bytes\":4096,"
                + "\"p50_ms\":\(fixed(sorted[30], 3)),\"p90_ms\":\(fixed(sorted[54], 3)),\"result\":\(fixed(sorted[30], 3)),\"unit\":\"ms\"}"
        }
    }

    /// The embedded default (one location, k=1, m=0) against writing the same bytes as one
    /// plain durable file (temp, fdatasync, rename, fsync directory): `put` with its manifest
    /// in the file catalog, and `stage`, the node's write, whose manifest rides the delivery's
    /// log entry (an entry the delivery writes whatever the blob storage). Blobs at or under
    /// the inline threshold never reach the blob store in the node, so `stage` is timed only
    /// above it.
    func runSingleLocation() throws -> [String] {
        let base = root + "/single"
        try FileManager.default.createDirectory(atPath: base + "/shards", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/plain", withIntermediateDirectories: true)
        let store = try BlobStore(configuration: .singleLocation(path: base), clock: SystemClock())
        var lines: [String] = []
        for size in [4096, 100 * 1024, 1 << 20, 8 << 20] {
            let count = 40
            let staged = size > store.configuration.inlineBytesMax
            let inputs = blobs(size: size, count: 3 * count, seed: UInt64(size) &* 13)
            var blobMs: [Double] = [], stageMs: [Double] = [], plainMs: [Double] = []
            for i in 0..<count {
                blobMs.append(try timeMs { try store.put(inputs[3 * i]) })
                if staged {
                    let id = Self.callerID(size: size, index: i)
                    stageMs.append(try timeMs { _ = try store.stage(inputs[3 * i + 1], as: id) })
                }
                plainMs.append(try timeMs { try plainDurableWrite(inputs[3 * i + 2], directory: base + "/plain", name: "f\(i)") })
            }
            var cases = [("put_single_location", blobMs), ("plain_durable_file", plainMs)]
            if staged { cases.append(("stage_single_location", stageMs)) }
            for (op, values) in cases {
                let sorted = values.sorted()
                lines.append("{\"name\":\"erasure_put_latency\",\"k\":1,\"m\":0,\"op\":\"\(op)\",\"blob_bytes\":\(size),"
                    + "\"p50_ms\":\(fixed(sorted[count / 2], 3)),\"p90_ms\":\(fixed(sorted[count * 9 / 10], 3)),"
                    + "\"result\":\(fixed(sorted[count / 2], 3)),\"unit\":\"ms\"}")
            }
        }
        return lines
    }

    /// A distinct caller-chosen id per staged blob.
    private static func callerID(size: Int, index: Int) -> BlobID {
        var digest = [UInt8](repeating: 0x5E, count: 32)
        withUnsafeBytes(of: UInt64(size).littleEndian) { digest.replaceSubrange(0..<8, with: $0) }
        withUnsafeBytes(of: UInt64(index).littleEndian) { digest.replaceSubrange(8..<16, with: $0) }
        return BlobID(digest: digest)!
    }

    private func plainDurableWrite(_ bytes: [UInt8], directory: String, name: String) throws {
        let temporary = directory + "/" + name + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw StalError(.storage, "open \(temporary)") }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fdatasync(fd)
        close(fd)
        rename(temporary, directory + "/" + name)
        let dir = open(directory, O_RDONLY | O_DIRECTORY)
        fsync(dir)
        close(dir)
    }

    struct Measured {
        var seconds: Double
        var cpuSeconds: Double
        var count: Int
    }

    private func measure(count: Int, _ body: (Int) throws -> Void) throws -> Measured {
        let cpuStart = cpuSeconds(), start = monotonicSeconds()
        for i in 0..<count { try body(i) }
        return Measured(seconds: monotonicSeconds() - start, cpuSeconds: cpuSeconds() - cpuStart, count: count)
    }

    private func timeMs(_ body: () throws -> Void) throws -> Double {
        let start = monotonicSeconds()
        try body()
        return (monotonicSeconds() - start) * 1000
    }

    private func line(op: String, size: Int, count: Int, measured: Measured, isal: Double) -> String {
        let gbps = Double(size * count) / measured.seconds / 1e9
        return "{\"name\":\"erasure_blob_store\",\"k\":4,\"m\":2,\"op\":\"\(op)\",\"blob_bytes\":\(size),\"locations\":6,"
            + "\"gbps\":\(fixed(gbps, 4)),\"isal_gbps\":\(fixed(isal)),\"ratio_vs_isal\":\(fixed(gbps / isal, 4)),"
            + "\"ops_per_s\":\(fixed(Double(count) / measured.seconds, 1)),\"ms_per_op\":\(fixed(measured.seconds * 1000 / Double(count), 3)),"
            + "\"cpu_ms_per_op\":\(fixed(measured.cpuSeconds * 1000 / Double(count), 3)),"
            + "\"result\":\(fixed(Double(count) / measured.seconds, 1)),\"unit\":\"ops/s\"}"
    }
}

/// User plus system CPU time of the whole process (all threads).
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
