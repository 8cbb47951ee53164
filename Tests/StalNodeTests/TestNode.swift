import Foundation
import StalCore
import StalDirectory
import StalNode
import Testing

/// A node started in-process on ephemeral loopback ports over a fresh data directory, with a
/// domain and accounts created through the directory API.
final class TestNode: @unchecked Sendable {
    let node: StalNode
    let dataDirectory: String

    static let password = "correct horse battery"

    init(accounts: [String] = ["alice@example.test", "bob@example.test", "carol@example.test"],
         configure: (inout NodeConfiguration, String) -> Void = { _, _ in },
         adjust: (inout StalNode.Options) -> Void = { _ in }) async throws {
        dataDirectory = TestPaths.temporaryDirectory("node")
        var configuration = NodeConfiguration.ephemeral(dataDirectory: dataDirectory)
        configure(&configuration, dataDirectory)
        var options = StalNode.Options()
        options.passwordHasher = .fastForTests
        options.eventLoopThreads = 2
        // Tests run housekeeping passes themselves (`runHousekeeping`); none in the background.
        options.housekeepingPause = { try await Task.sleep(for: .seconds(86_400)) }
        // The background scrubber runs no step unless a test supplies its own pause.
        options.blobScrubPause = { _ in try await Task.sleep(for: .seconds(86_400)) }
        adjust(&options)
        node = try await StalNode.start(configuration, options: options)
        try await node.directory.addDomain("example.test")
        for a in accounts {
            _ = try await node.directory.addAccount(address: EmailAddress(a)!, password: Self.password)
        }
    }

    func port(_ kind: NodeConfiguration.ListenerKind) -> Int { node.boundPorts[kind]! }

    func stop() async {
        await node.shutdown()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

enum TestPaths {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var mailClient: String {
        repositoryRoot.appendingPathComponent("Tests/StalNodeTests/clients/mailclient.py").path
    }

    /// Executables built beside the test bundle (`swift build --build-tests` builds them).
    static func executable(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func temporaryDirectory(_ label: String) -> String {
        let path = NSTemporaryDirectory() + "stal-\(label)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a real client program to completion. The timeout only bounds a hung client; no
/// assertion depends on how long anything takes.
func runProcess(_ executable: String, _ arguments: [String], stdin: String? = nil,
                environment: [String: String]? = nil, timeoutSeconds: Double = 120) async throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let pid = process.processIdentifier
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: watchdog)
    // Reading pipes and waiting block a thread: do it on Dispatch threads, never on the
    // cooperative pool, which the in-process server needs to answer the client.
    let (o, e) = await withCheckedContinuation { (continuation: CheckedContinuation<(Data, Data), Never>) in
        DispatchQueue.global().async {
            let group = DispatchGroup()
            let errData = DataBox()
            group.enter()
            DispatchQueue.global().async {
                errData.data = err.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            process.waitUntilExit()
            continuation.resume(returning: (outData, errData.data))
        }
    }
    watchdog.cancel()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self))
}

/// Written by one thread and read by another only after a DispatchGroup wait.
final class DataBox: @unchecked Sendable {
    var data = Data()
}

func mailClient(_ arguments: [String]) async throws -> ProcessResult {
    try await runProcess("python3", [TestPaths.mailClient] + arguments)
}

/// A raw line-oriented TCP client for protocol abuse tests (oversized lines, bare LF, junk).
final class RawClient: @unchecked Sendable {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw StalError(.unavailable, "connect to \(port) failed: errno \(errno)") }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            offset += n
        }
    }

    private var buffered: [UInt8] = []

    /// Reads one CRLF-terminated line (without the CRLF); nil when the peer closed.
    func readLine() -> String? {
        while true {
            if let i = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffered[..<i])
                buffered.removeFirst(i + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { return nil }
            buffered += chunk[..<n]
        }
    }

    /// Reads lines until one starts with `prefix` (e.g. a tag, or "250 ").
    func readUntil(prefix: String) -> [String] {
        var lines: [String] = []
        while let line = readLine() {
            lines.append(line)
            if line.hasPrefix(prefix) { break }
        }
        return lines
    }
}

/// Runs blocking socket or pipe work on a Dispatch thread: the cooperative pool has one
/// thread per core, and the in-process server needs it to answer.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}
