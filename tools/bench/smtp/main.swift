import Foundation
import NIOCore
import NIOPosix
import StalCore
import StalDeterminism
import StalDirectory
import StalMailStore
import StalSMTP
import StalStorage

/// Runs an MX listener on 127.0.0.1 over RocksDB (every message fsynced through group
/// commit before its 250) and drives it with Postfix's smtp-source: one connection per
/// message, the peer benchmark's size mix to 3 local mailboxes. Prints one JSON line per case.
/// Usage: bench-smtp [messages] [sessions,sessions...]

let messages = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 2_000 : 2_000
let sessionCounts = CommandLine.arguments.count > 2
    ? CommandLine.arguments[2].split(separator: ",").compactMap { Int($0) } : [10, 50]

/// User plus system CPU time of this process (the server side; smtp-source is a child).
func cpuMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
}

func runCase(sessions: Int) async throws {
    let dir = NSTemporaryDirectory() + "stal-bench-smtp-\(getpid())-\(sessions)"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let engine = try RocksDBEngine(path: dir + "/db")
    let store = try MailStore.local(engine: engine, blobs: try LocalBlobDirectory(root: dir + "/blobs"), clock: SystemClock(),
                                    random: SystemRandom())
    let directory = try Directory.local(engine: engine, mailStore: store, clock: SystemClock(), random: SystemRandom(),
                                        hasher: .fastForTests)
    try await directory.addDomain("example.org")
    var accounts: [DirectoryAccount] = []
    for name in ["alice", "bob", "carol"] {
        accounts.append(try await directory.addAccount(address: EmailAddress("\(name)@example.org")!, password: "bench password 1"))
    }
    let backend = MailStoreSMTPBackend(store: store, directory: directory)
    let configuration = SMTPServerConfiguration(hostname: "bench.example.org", mode: .mx)
    let ids = Mutex()
    nonisolated(unsafe) var random = SystemRandom()
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let server = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 256)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let id = ids.withLock { SMTPChannelInitializer.makeSessionID(using: &random) }
                try SMTPChannelInitializer.configure(channel: channel, configuration: configuration, backend: backend,
                                                     clock: SystemClock(), sessionID: id)
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let port = server.localAddress!.port!

    let started = DispatchTime.now().uptimeNanoseconds
    let cpuStarted = cpuMilliseconds()
    // The peer's size mix by count (PEERS.md): 70 % ~4 KiB, 25 % ~40 KiB, 5 % ~400 KiB. smtp-source
    // sends one size to one recipient, so each class runs as its own process to its own mailbox,
    // with sessions split in the same proportions.
    let classes = [(bytes: 4_096, percent: 70), (bytes: 40_960, percent: 25), (bytes: 409_600, percent: 5)]
    var processes: [Process] = []
    var assigned = 0
    for (i, (account, sizeClass)) in zip(accounts, classes).enumerated() {
        let share = i == classes.count - 1 ? messages - assigned : messages * sizeClass.percent / 100
        assigned += share
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-source")
        p.arguments = ["-s", String(max(1, sessions * sizeClass.percent / 100)), "-m", String(share),
                       "-l", String(sizeClass.bytes), "-f", "sender@bench.example", "-t", account.address.description,
                       "-M", "client.example", "127.0.0.1:\(port)"]
        try p.run()
        processes.append(p)
    }
    for p in processes { p.waitUntilExit() }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    let cpuPerMessage = (cpuMilliseconds() - cpuStarted) / Double(messages)
    var stored = 0
    for account in accounts {
        let inbox = try store.mailboxes(account.id).first { $0.role == .inbox }!
        stored += try store.messages(account.id, mailbox: inbox.id).count
    }
    let failed = processes.contains { $0.terminationStatus != 0 }
    print("{\"name\":\"smtp-ingest\",\"parameters\":{\"messages\":\(messages),\"sessions\":\(sessions),\"sizeMix\":\"70% 4KiB, 25% 40KiB, 5% 400KiB\","
        + "\"connectionPerMessage\":true,\"fsyncPerMessage\":true,\"stored\":\(stored),\"loadGeneratorFailed\":\(failed),"
        + "\"serverCPUmsPerMessage\":\(String(format: "%.2f", cpuPerMessage))},"
        + "\"result\":\(String(format: "%.1f", Double(messages) / elapsed)),\"unit\":\"msgs/s\"}")
    try await server.close()
    try await group.shutdownGracefully()
    directory.shutdown()
    store.shutdown()
    engine.close()
}

for sessions in sessionCounts {
    try await runCase(sessions: sessions)
}
