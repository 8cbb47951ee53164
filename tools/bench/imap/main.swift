import Foundation
import NIOCore
import NIOPosix
import StalCore
import StalDeterminism
import StalDirectory
import StalIMAP
import StalMailStore
import StalShardLog
import StalStorage

/// IMAP server benchmarks over real TCP on 127.0.0.1, against MailStore on RocksDB with
/// synced commits (the same durability as production), printing one JSON line per case:
///   imap_append_serial   N serial APPENDs of 4 KiB messages (synchronising literal, as imaplib)
///   imap_fetch_all       FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE) over those N messages, warm
///   imap_idle_memory     resident memory per session with S sessions logged in, INBOX selected, idling
/// Usage: bench-imap [messages] [sessions]

let messages = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 10_000 : 10_000
let sessions = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 1_000 : 1_000
let password = "bench password 1"

func message(_ i: Int, random: inout SeededRandom) -> [UInt8] {
    var text = "From: Bench <bench@example.org>\r\nTo: user@example.com\r\nSubject: message \(i)\r\n"
        + "Date: Mon, 2 Mar 2026 10:00:00 +0000\r\nMessage-ID: <\(i)@bench>\r\n\r\n"
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    while text.utf8.count < 4096 - 64 {
        text += words[Int(random.next(below: UInt64(words.count)))] + (random.chance(1, in: 12) ? "\r\n" : " ")
    }
    text += "\r\n-- \(i)\r\n"
    return Array(text.utf8)
}

func residentKiB() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

func emit(_ name: String, _ parameters: [String: Any], _ result: Double, _ unit: String) {
    let object: [String: Any] = ["name": name, "parameters": parameters, "result": (result * 1000).rounded() / 1000, "unit": unit]
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// A blocking IMAP client on a POSIX socket; runs on its own thread so it never blocks
/// the cooperative pool the server's sessions run on.
final class BlockingClient {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(rc == 0, "connect failed")
        _ = readLine()
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            precondition(n > 0, "send failed")
            offset += n
        }
    }

    func readLine() -> String {
        while true {
            if let lf = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<lf], as: UTF8.self)
                pending.removeSubrange(...lf)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 256 * 1024)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            precondition(n > 0, "connection closed")
            pending += chunk[..<n]
        }
    }

    /// Reads until the tagged reply; returns the octets received.
    @discardableResult
    func command(_ text: String) -> Int {
        write(Array((text + "\r\n").utf8))
        let tag = String(text.prefix { $0 != " " }) + " "
        var octets = 0
        while true {
            let line = readLine()
            octets += line.utf8.count + 1
            if line.hasPrefix(tag) {
                precondition(line.hasPrefix(tag + "OK"), line)
                return octets
            }
        }
    }

    func append(tag: String, _ body: [UInt8]) {
        write(Array("\(tag) APPEND INBOX {\(body.count)}\r\n".utf8))
        precondition(readLine().hasPrefix("+"))
        write(body + Array("\r\n".utf8))
        let reply = readLine()
        precondition(reply.hasPrefix(tag + " OK"), reply)
    }
}

func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

let dir = NSTemporaryDirectory() + "stal-bench-imap-\(getpid())"
try? FileManager.default.removeItem(atPath: dir)
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }

let engine = try RocksDBEngine(path: dir + "/db")
let notifier = ChangeNotifier(engine: engine)
let driver = try RaftNodeDriver(engine: engine, nodeID: 1, transport: nil)
let log = try driver.addGroup(shard: 0, stateMachine: MailStateMachine(notifier: notifier))
let store = MailStore(engine: engine, log: log, blobs: try LocalBlobDirectory(root: dir + "/blobs"), notifier: notifier,
                      clock: SystemClock(), random: SystemRandom())
// The fast hasher keeps 1,000 logins from dominating the run; login cost is not measured here.
let directory = try Directory.local(engine: try RocksDBEngine(path: dir + "/directory"), mailStore: store, clock: SystemClock(),
                                    random: SystemRandom(), hasher: .fastForTests)
try await directory.addDomain("example.com")
try await directory.addAccount(address: EmailAddress("user@example.com")!, password: password)

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let services = IMAPServices(mailStore: store, directory: directory)
let configuration = IMAPServerConfiguration()
let server = try await ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        IMAPChannelInitializer.configure(channel: channel, configuration: configuration, services: services)
    }
    .bind(host: "127.0.0.1", port: 0).get()
let port = server.localAddress!.port!

var random = SeededRandom(seed: 7)
let bodies = (0..<messages).map { message($0, random: &random) }
let login = "l LOGIN user@example.com \"\(password)\""

let appendSeconds = await onThread {
    let client = BlockingClient(port: port)
    client.command(login)
    let start = DispatchTime.now().uptimeNanoseconds
    for (i, body) in bodies.enumerated() { client.append(tag: "a\(i)", body) }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
emit("imap_append_serial", ["messages": messages, "octets": 4096, "literal": "synchronising", "durability": "fsync"],
     Double(messages) / appendSeconds, "messages/s")

let (fetchSeconds, fetchOctets) = await onThread {
    let client = BlockingClient(port: port)
    client.command(login)
    client.command("s SELECT INBOX")
    client.command("w FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)")
    let start = DispatchTime.now().uptimeNanoseconds
    let octets = client.command("f FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)")
    return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, octets)
}
emit("imap_fetch_all", ["messages": messages, "items": "FLAGS ENVELOPE BODYSTRUCTURE", "responseOctets": fetchOctets],
     fetchSeconds, "s")

let perSessionKiB = await onThread {
    let before = residentKiB()
    var clients: [BlockingClient] = []
    for i in 0..<sessions {
        let client = BlockingClient(port: port)
        client.command(login)
        client.command("s SELECT INBOX")
        client.write(Array("i\(i) IDLE\r\n".utf8))
        precondition(client.readLine().hasPrefix("+"))
        clients.append(client)
    }
    let after = residentKiB()
    withExtendedLifetime(clients) {}
    return Double(after - before) / Double(sessions)
}
emit("imap_idle_memory", ["sessions": sessions, "selected": "INBOX", "mailboxMessages": messages, "includesClientSockets": true],
     perSessionKiB, "KiB/session")

try await server.close().get()
try await group.shutdownGracefully()
store.shutdown()
directory.shutdown()
