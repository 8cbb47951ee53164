import Foundation

/// The load client of tools/bench/raft/run: blocking sockets, HTTP/1.1 keep-alive, one
/// thread per connection, so the client costs microseconds per request and the cluster is
/// what gets measured. Prints one JSON object per run on standard output.
///
///   bench-raft-load put  --target H:P [--target ...] --concurrency N --count N --value-bytes N --password P
///   bench-raft-load get  --target H:P --concurrency N --count N --password P
///   bench-raft-load failover --kill-pid PID --target H:P [--target ...] --password P
///
/// `--write domain` makes the writes `POST /api/v1/domains` (a directory command through
/// the metadata shard's Raft group) instead of probe PUTs.
///
/// `put` writes fresh keys with PUT /api/v1/cluster/probe/{key}; `get` reads one key
/// linearizably; `failover` sends SIGKILL to PID and then writes round-robin to the
/// targets until one write succeeds, reporting the milliseconds in between.

struct Endpoint {
    var host: String
    var port: UInt16
}

/// One keep-alive HTTP/1.1 connection.
final class Connection {
    let endpoint: Endpoint
    let authorization: String
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(_ endpoint: Endpoint, authorization: String) {
        self.endpoint = endpoint
        self.authorization = authorization
    }

    deinit { if fd >= 0 { close(fd) } }

    private func connect() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        inet_pton(AF_INET, endpoint.host, &address.sin_addr)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            fd = -1
            throw BenchError("connect \(endpoint.host):\(endpoint.port): errno \(errno)")
        }
        buffer = []
    }

    func reset() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Sends one request and returns the status code; the connection is dropped on any error.
    func send(method: String, path: String, body: [UInt8]) throws -> Int {
        do {
            if fd < 0 { try connect() }
            var request = Array("\(method) \(path) HTTP/1.1\r\nHost: \(endpoint.host)\r\nAuthorization: \(authorization)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
            request += body
            var sent = 0
            while sent < request.count {
                let n = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw BenchError("write: errno \(errno)") }
                sent += n
            }
            return try readResponse()
        } catch {
            reset()
            throw error
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw BenchError("read: \(n == 0 ? "closed" : "errno \(errno)")") }
        buffer += chunk[0..<n]
    }

    private func readResponse() throws -> Int {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4) where buffer[i] == 13 && Array(buffer[i..<i + 4]) == crlf2 {
                    headerEnd = i
                    break
                }
            }
            if headerEnd == nil { try fill() }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { throw BenchError("bad status line") }
        var length = 0
        var close = false
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
            if lower.hasPrefix("connection:") && lower.contains("close") { close = true }
        }
        let total = headerEnd! + 4 + length
        while buffer.count < total { try fill() }
        buffer.removeFirst(total)
        if close { reset() }
        return status
    }
}

/// What the worker threads share; every access holds `lock`.
final class Tally: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var latencies: [UInt64] = []
    var errors = 0
    var attempts = 0
    var firstSuccess: UInt64?

    func withLock<T>(_ body: (Tally) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }
}

/// Runs `body(i)` for i in 0..<count, each on its own thread (DispatchQueue.concurrentPerform
/// would cap the parallelism at the core count), and returns when all have finished.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    for i in 0..<count {
        let thread = Thread {
            body(i)
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    for _ in 0..<count { done.wait() }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func arguments() -> [String: [String]] {
    var out: [String: [String]] = [:]
    var args = CommandLine.arguments.dropFirst(2).makeIterator()
    while let key = args.next() {
        guard key.hasPrefix("--"), let value = args.next() else { fatalError("usage: see tools/bench/raft/load/main.swift") }
        out[String(key.dropFirst(2)), default: []].append(value)
    }
    return out
}

func endpoint(_ text: String) -> Endpoint {
    let parts = text.split(separator: ":")
    return Endpoint(host: String(parts[0]), port: UInt16(parts[1])!)
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1e6
}

let mode = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ""
let args = arguments()
let targets = (args["target"] ?? []).map(endpoint)
let password = args["password"]?.first ?? ""
let authorization = "Basic " + Data("admin:\(password)".utf8).base64EncodedString()
let concurrency = Int(args["concurrency"]?.first ?? "1")!
let count = Int(args["count"]?.first ?? "1000")!
let valueBytes = Int(args["value-bytes"]?.first ?? "256")!
let runID = args["run"]?.first ?? String(getpid())
let writesDomains = args["write"]?.first == "domain"

/// One replicated write named `name`.
func write(_ c: Connection, _ name: String, _ value: [UInt8]) throws -> Int {
    if writesDomains {
        return try c.send(method: "POST", path: "/api/v1/domains", body: Array(#"{"name":"\#(name).bench.test"}"#.utf8))
    }
    return try c.send(method: "PUT", path: "/api/v1/cluster/probe/\(name)", body: value)
}

switch mode {
case "put", "get":
    let isPut = mode == "put"
    let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueBytes)
    if !isPut {
        let c = Connection(targets[0], authorization: authorization)
        guard (try? c.send(method: "PUT", path: "/api/v1/cluster/probe/bench-read-\(runID)", body: value)).map({ $0 / 100 == 2 }) == true else {
            fatalError("could not write the key to read")
        }
    }
    let tally = Tally()
    let started = monotonicNanoseconds()
    onThreads(concurrency) { worker in
        let c = Connection(targets[worker % targets.count], authorization: authorization)
        var mine: [UInt64] = []
        var myErrors = 0
        while true {
            let i = tally.withLock { t in
                defer { t.next += 1 }
                return t.next
            }
            guard i < count else { break }
            let t0 = monotonicNanoseconds()
            let status = isPut
                ? try? write(c, "bench-\(runID)-\(i)", value)
                : try? c.send(method: "GET", path: "/api/v1/cluster/probe/bench-read-\(runID)", body: [])
            if let status, status / 100 == 2 {
                mine.append(monotonicNanoseconds() - t0)
            } else {
                myErrors += 1
            }
        }
        tally.withLock {
            $0.latencies += mine
            $0.errors += myErrors
        }
    }
    let elapsed = Double(monotonicNanoseconds() - started) / 1e9
    let latencies = tally.latencies.sorted()
    let errors = tally.errors
    print(#"{"mode":"\#(mode)","concurrency":\#(concurrency),"ok":\#(latencies.count),"errors":\#(errors),"#
        + #""seconds":\#(String(format: "%.3f", elapsed)),"opsPerSecond":\#(String(format: "%.0f", Double(latencies.count) / elapsed)),"#
        + #""p50Ms":\#(String(format: "%.2f", percentile(latencies, 0.5))),"p99Ms":\#(String(format: "%.2f", percentile(latencies, 0.99)))}"#)
case "failover":
    guard let pid = args["kill-pid"]?.first.flatMap({ Int32($0) }) else { fatalError("--kill-pid required") }
    let value = [UInt8](repeating: UInt8(ascii: "f"), count: valueBytes)
    let tally = Tally()
    let started = monotonicNanoseconds()
    kill(pid, SIGKILL)
    // One writer per surviving node, so a request stuck on one node does not hide another's success.
    onThreads(targets.count) { worker in
        let c = Connection(targets[worker], authorization: authorization)
        var attempt = 0
        while tally.withLock({ $0.firstSuccess == nil }) {
            attempt += 1
            let status = try? write(c, "failover-\(runID)-\(worker)-\(attempt)", value)
            if let status, status / 100 == 2 {
                let now = monotonicNanoseconds()
                tally.withLock { if $0.firstSuccess == nil { $0.firstSuccess = now } }
            } else {
                usleep(2000)
            }
        }
        tally.withLock { $0.attempts += attempt }
    }
    print(#"{"mode":"failover","ms":\#(String(format: "%.1f", Double(tally.firstSuccess! - started) / 1e6)),"attempts":\#(tally.attempts)}"#)
default:
    FileHandle.standardError.write(Data("usage: bench-raft-load put|get|failover ...\n".utf8))
    exit(2)
}
