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
/// message, 4 KiB messages to one of 3 local mailboxes. Prints one JSON line per case.
/// Usage: bench-smtp [messages] [sessions,sessions...]

let messages = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 2_000 : 2_000
let sessionCounts = CommandLine.arguments.count > 2
    ? CommandLine.arguments[2].split(separator: ",").compactMap { Int($0) } : [10, 50]

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
    // Three mailboxes: smtp-source sends to one fixed recipient, so a third of the messages
    // and sessions go to each mailbox from three concurrent smtp-source processes.
    var processes: [Process] = []
    for (i, account) in accounts.enumerated() {
        let share = messages / 3 + (i < messages % 3 ? 1 : 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-source")
        p.arguments = ["-s", String(max(1, sessions / 3 + (i < sessions % 3 ? 1 : 0))), "-m", String(share), "-l", "4096",
                       "-f", "sender@bench.example", "-t", account.address.description, "-M", "client.example",
                       "127.0.0.1:\(port)"]
        try p.run()
        processes.append(p)
    }
    for p in processes { p.waitUntilExit() }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    var stored = 0
    for account in accounts {
        let inbox = try store.mailboxes(account.id).first { $0.role == .inbox }!
        stored += try store.messages(account.id, mailbox: inbox.id).count
    }
    let failed = processes.contains { $0.terminationStatus != 0 }
    print("{\"name\":\"smtp-ingest\",\"parameters\":{\"messages\":\(messages),\"sessions\":\(sessions),\"messageBytes\":4096,"
        + "\"connectionPerMessage\":true,\"fsyncPerMessage\":true,\"stored\":\(stored),\"loadGeneratorFailed\":\(failed)},"
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
