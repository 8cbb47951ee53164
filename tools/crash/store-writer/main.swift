import Foundation
import StalCore
import StalDeterminism
import StalMailStore
import StalStorage

/// Appends messages forever from 8 concurrent writers through MailStore on RocksDB in the
/// directory given as the only argument, printing one line per acknowledged append:
/// `<emailID> <uid> <size>`. The SIGKILL test kills it mid-stream and checks that every
/// printed (acknowledged) message is in the reopened store. Every 8th message is 100 KiB of
/// incompressible bytes, so the file-blob path is killed too.

/// Unbuffered, so a line on the pipe means the append was acknowledged before the kill.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let dir = CommandLine.arguments[1]
let engine = try RocksDBEngine(path: dir + "/db")
let store = try MailStore.local(engine: engine, blobs: try LocalBlobDirectory(root: dir + "/blobs"),
                                clock: SystemClock(), random: SystemRandom())
let account = AccountID(rawValue: 77)
try await store.createAccount(account, tenant: TenantID(rawValue: 1))
let inbox = try store.mailboxes(account).first { $0.role == .inbox }!.id
emit("ready")
try await withThrowingTaskGroup(of: Void.self) { group in
    for w in 0..<8 {
        group.addTask {
            var random = SeededRandom(seed: UInt64(w) + 1)
            var i = 0
            while true {
                i += 1
                let body: [UInt8] = i % 8 == 0
                    ? random.bytes(100 * 1024)
                    : Array("Subject: writer \(w) message \(i)\r\n\r\n\(String(repeating: "body ", count: 200))\r\n".utf8)
                let r = try await store.append(account, mailbox: inbox, bytes: body)
                emit("\(r.emailID.rawValue) \(r.uid) \(body.count)")
            }
        }
    }
    try await group.waitForAll()
}
