import Foundation
import StalCore
import StalDeterminism
import StalMailStore
import StalStorage
import Testing

/// The writer executable built next to this test bundle by `swift build --build-tests`.
func builtExecutable(_ name: String) -> String {
    let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for dir in [bundleDir, bundleDir.deletingLastPathComponent()] {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return bundleDir.appendingPathComponent(name).path
}

@Suite struct KillTests {
    /// SIGKILL a process appending through MailStore on RocksDB; every append it reported
    /// as acknowledged must be in the reopened store, readable, with dense UIDs.
    @Test func acknowledgedAppendsSurviveSIGKILL() async throws {
        let writer = builtExecutable("store-crash-writer")
        try #require(FileManager.default.isExecutableFile(atPath: writer),
                     "build the writer first: swift build --build-tests (looked for \(writer))")
        let dir = NSTemporaryDirectory() + "stal-kill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: writer)
        process.arguments = [dir]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        // Reading the pipe and waiting block: on a Dispatch thread, not on one of the
        // cooperative pool's threads (one per core), which other suites' servers need.
        let acknowledged = await withCheckedContinuation { (done: CheckedContinuation<[(id: UInt64, uid: UInt32, size: Int)], Never>) in
            DispatchQueue.global().async {
                var text = ""
                var acknowledged: [(id: UInt64, uid: UInt32, size: Int)] = []
                let handle = pipe.fileHandleForReading
                while acknowledged.count < 300 {
                    let chunk = handle.availableData
                    guard !chunk.isEmpty else { break }
                    text += String(decoding: chunk, as: UTF8.self)
                    while let newline = text.firstIndex(of: "\n") {
                        let line = text[..<newline]
                        text = String(text[text.index(after: newline)...])
                        let fields = line.split(separator: " ")
                        if fields.count == 3 {
                            acknowledged.append((UInt64(fields[0])!, UInt32(fields[1])!, Int(fields[2])!))
                        }
                    }
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                done.resume(returning: acknowledged)
            }
        }
        #expect(process.terminationReason == .uncaughtSignal)
        try #require(acknowledged.count >= 300)

        let engine = try RocksDBEngine(path: dir + "/db")
        let store = try MailStore.local(engine: engine, blobs: try LocalBlobDirectory(root: dir + "/blobs"),
                                        clock: ManualClock(), random: SeededRandom(seed: 1))
        let account = AccountID(rawValue: 77)
        let inbox = try #require(try store.mailboxes(account).first { $0.role == .inbox })
        let stored = try store.messages(account, mailbox: inbox.id)
        #expect(stored.map(\.uid) == Array(1...UInt32(stored.count)))
        #expect(inbox.uidNext == UInt32(stored.count) + 1)
        let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.emailID.rawValue, $0) })
        for a in acknowledged {
            let m = try #require(byID[a.id], "acknowledged email \(a.id) lost")
            #expect(m.uid == a.uid && m.size == a.size)
            #expect(try await store.readBlob(account: account, m.blobID).count == a.size)
        }
        store.shutdown()
        engine.close()
    }
}
