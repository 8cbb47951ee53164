import Foundation
import StalCore
import StalDeterminism
import StalMailStore
import StalShardLog
import StalStorage

/// Appends 4 KiB messages through MailStore on RocksDB with synced group commit, serially
/// and from concurrent writers, printing one JSON line per case. A baseline case does bare
/// synced 4 KiB RocksDB puts in the same run, so results can be quoted as ratios on a
/// machine whose fsync latency moves with its neighbours' load.
/// Usage: bench-store [messages] [concurrentWriters]

let messages = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 10_000 : 10_000
let writers = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 16 : 16

func message(_ i: Int, random: inout SeededRandom) -> [UInt8] {
    var text = "From: bench@example.org\r\nTo: user@example.org\r\nSubject: message \(i)\r\nMessage-ID: <\(i)@bench>\r\n\r\n"
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    while text.utf8.count < 4096 - 64 {
        text += words[Int(random.next(below: UInt64(words.count)))] + (random.chance(1, in: 12) ? "\r\n" : " ")
    }
    text += "\r\n-- \(i)\r\n"
    return Array(text.utf8)
}

func run(name: String, concurrency: Int) async throws {
    let dir = NSTemporaryDirectory() + "stal-bench-store-\(getpid())-\(name)"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let engine = try RocksDBEngine(path: dir + "/db")
    let notifier = ChangeNotifier(engine: engine)
    let blobs = try LocalBlobDirectory(root: dir + "/blobs")
    let driver = try RaftNodeDriver(engine: engine, nodeID: 1, transport: nil)
    let log = try driver.addGroup(shard: 0, stateMachine: MailStateMachine(notifier: notifier, blobs: blobs))
    let store = MailStore(engine: engine, log: log, blobs: blobs, notifier: notifier,
                          clock: SystemClock(), random: SeededRandom(seed: 1))
    let account = AccountID(rawValue: 42)
    let boxes = try await store.createAccount(account, tenant: TenantID(rawValue: 1))
    let inbox = boxes.first { $0.role == .inbox }!.id
    var random = SeededRandom(seed: 7)
    let bodies = (0..<messages).map { message($0, random: &random) }
    let wall = SystemClock()
    let start = wall.monotonicNanoseconds()
    let cpuStart = clock_t(clock())
    if concurrency == 1 {
        for b in bodies { _ = try await store.append(account, mailbox: inbox, bytes: b) }
    } else {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<concurrency {
                group.addTask {
                    var i = w
                    while i < bodies.count {
                        _ = try await store.append(account, mailbox: inbox, bytes: bodies[i])
                        i += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    let seconds = Double(wall.monotonicNanoseconds() - start) / 1e9
    let cpuMs = Double(clock_t(clock()) - cpuStart) / Double(CLOCKS_PER_SEC) * 1000
    let listRepeats = ProcessInfo.processInfo.environment["STAL_BENCH_LIST_REPEATS"].flatMap { Int($0) } ?? 1
    for _ in 1..<max(listRepeats, 1) { _ = try store.messages(account, mailbox: inbox) }
    let listStart = wall.monotonicNanoseconds()
    let count = try store.messages(account, mailbox: inbox).count
    let listMs = Double(wall.monotonicNanoseconds() - listStart) / 1e6
    precondition(count == messages, "stored \(count) of \(messages)")
    if concurrency == 1 {
        print("{\"name\":\"store-list-mailbox\",\"parameters\":{\"messages\":\(messages)},\"result\":\(String(format: "%.1f", listMs)),\"unit\":\"ms\"}")
    }
    let stats = driver.statistics
    driver.shutdown()
    engine.close()
    let commandsPerSync = Double(stats.appliedEntries) / Double(max(stats.syncedWrites, 1))
    let rate = Double(messages) / seconds
    print("{\"name\":\"store-append-\(name)\",\"parameters\":{\"messages\":\(messages),\"messageBytes\":4096,\"writers\":\(concurrency),\"fsync\":true},\"result\":\(Int(rate)),\"unit\":\"msgs/s\",\"cpuMsPerMessage\":\(String(format: "%.3f", cpuMs / Double(messages))),\"commandsPerSync\":\(String(format: "%.1f", commandsPerSync))}")
}

func baseline() throws {
    let dir = NSTemporaryDirectory() + "stal-bench-store-\(getpid())-baseline"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let engine = try RocksDBEngine(path: dir)
    let value = [UInt8](repeating: 0x61, count: 4096)
    let wall = SystemClock()
    let start = wall.monotonicNanoseconds()
    for i in 0..<messages {
        var batch = WriteBatch()
        batch.put(.state, KeyCoding.key(1, UInt64(i)), value)
        try engine.write(batch, sync: true)
    }
    let seconds = Double(wall.monotonicNanoseconds() - start) / 1e9
    engine.close()
    print("{\"name\":\"rocksdb-synced-put-serial\",\"parameters\":{\"puts\":\(messages),\"valueBytes\":4096},\"result\":\(Int(Double(messages) / seconds)),\"unit\":\"puts/s\"}")
}

/// CPU cost of content addressing: SHA-256 over a 400 KiB message (the large class of the
/// PEERS.md SMTP mix).
func hashing() {
    var random = SeededRandom(seed: 3)
    let body = random.bytes(400 * 1024)
    let wall = SystemClock()
    let rounds = 200
    let start = wall.monotonicNanoseconds()
    let cpuStart = clock()
    var sink: UInt8 = 0
    for _ in 0..<rounds { sink ^= MailStore.blobID(for: body).digest[0] }
    let seconds = Double(wall.monotonicNanoseconds() - start) / 1e9
    let cpuSeconds = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
    let megabytes = Double(body.count * rounds) / 1e6
    print("{\"name\":\"sha256\",\"parameters\":{\"bytes\":\(body.count),\"rounds\":\(rounds),\"sink\":\(sink)},\"result\":\(Int(megabytes / cpuSeconds)),\"unit\":\"MB/s per CPU second\",\"wallMBps\":\(Int(megabytes / seconds))}")
}

hashing()
try baseline()
try await run(name: "serial", concurrency: 1)
try await run(name: "concurrent", concurrency: writers)

/// The PEERS.md SMTP ingest mix at the store level: 2,000 messages (70 % ~4 KiB text,
/// 25 % ~40 KiB, 5 % ~400 KiB base64), each delivered to 3 accounts with one `deliver`,
/// from `sessions` concurrent senders. An upper bound for SMTP ingest (no protocol cost).
func deliverMix(sessions: Int) async throws {
    let dir = NSTemporaryDirectory() + "stal-bench-store-\(getpid())-mix\(sessions)"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let engine = try RocksDBEngine(path: dir + "/db")
    let store = try MailStore.local(engine: engine, blobs: try LocalBlobDirectory(root: dir + "/blobs"),
                                    clock: SystemClock(), random: SeededRandom(seed: 1))
    let accounts = (1...3).map { AccountID(rawValue: UInt64($0)) }
    for a in accounts { try await store.createAccount(a, tenant: TenantID(rawValue: 1)) }
    var random = SeededRandom(seed: 11)
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    func base64ish(_ n: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n + n / 76 * 2)
        for i in 0..<n {
            out.append(alphabet[Int(random.next(below: 64))])
            if i % 76 == 75 { out += [13, 10] }
        }
        return out
    }
    let count = 2000
    let bodies: [[UInt8]] = (0..<count).map { i in
        let roll = random.next(below: 100)
        let text = message(i, random: &random)
        if roll < 70 { return text }
        if roll < 95 { return Array((0..<10).map { _ in text }.joined()) }
        return text + base64ish(400 * 1024)
    }
    let totalBytes = bodies.reduce(0) { $0 + $1.count }
    let wall = SystemClock()
    let start = wall.monotonicNanoseconds()
    let cpuStart = clock()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for s in 0..<sessions {
            group.addTask {
                var i = s
                while i < bodies.count {
                    let results = try await store.deliver(bodies[i], recipients: accounts.map { DeliveryTarget(account: $0) })
                    for r in results { _ = try r.get() }
                    i += sessions
                }
            }
        }
        try await group.waitForAll()
    }
    let seconds = Double(wall.monotonicNanoseconds() - start) / 1e9
    let cpuMs = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC) * 1000
    store.shutdown()
    engine.close()
    print("{\"name\":\"store-deliver-peers-mix\",\"parameters\":{\"messages\":\(count),\"recipients\":3,\"sessions\":\(sessions),\"megabytes\":\(totalBytes / 1_000_000)},\"result\":\(Int(Double(count) / seconds)),\"unit\":\"msgs/s\",\"cpuMsPerMessage\":\(String(format: "%.3f", cpuMs / Double(count)))}")
}

try await deliverMix(sessions: 10)
try await deliverMix(sessions: 50)
