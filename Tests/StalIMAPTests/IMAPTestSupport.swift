import NIOCore
import NIOEmbedded
import NIOSSL
import StalCore
import StalDeterminism
import StalDirectory
import StalMailStore
import StalStorage
import Testing
@testable import StalIMAP

/// A real MailStore and Directory over in-memory engines, with one account.
struct IMAPFixture {
    static let password = "correct horse battery"
    let store: MailStore
    let directory: Directory
    let account: AccountID
    let services: IMAPServices

    static func make(seed: UInt64 = 7) async throws -> IMAPFixture {
        let clock = ManualClock()
        let store = try MailStore.local(engine: MemoryEngine(), blobs: MemoryBlobStore(), clock: clock, random: SeededRandom(seed: seed))
        let directory = try Directory.local(engine: MemoryEngine(), mailStore: store, clock: clock, random: SeededRandom(seed: seed + 1),
                                            hasher: .fastForTests, sleep: { _ in })
        try await directory.addDomain("example.com")
        let account = try await directory.addAccount(address: EmailAddress("alice@example.com")!, password: password)
        return IMAPFixture(store: store, directory: directory, account: account.id,
                           services: IMAPServices(mailStore: store, directory: directory))
    }

    func client(loopback: Bool = true, configuration: IMAPServerConfiguration = IMAPServerConfiguration()) async throws -> IMAPTestClient {
        let channel = NIOAsyncTestingChannel()
        let services = self.services
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(
                IMAPServerHandler(configuration: configuration, services: services, remoteIsLoopback: loopback))
        }.get()
        try await channel.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 1234)).get()
        let client = IMAPTestClient(channel: channel)
        let greeting = try await client.readLine()
        #expect(greeting.hasPrefix("* OK [CAPABILITY IMAP4rev1"))
        return client
    }

    func loggedInClient(configuration: IMAPServerConfiguration = IMAPServerConfiguration()) async throws -> IMAPTestClient {
        let client = try await self.client(configuration: configuration)
        let reply = try await client.command("l LOGIN alice@example.com \"\(Self.password)\"")
        #expect(reply.last?.hasPrefix("l OK") == true)
        return client
    }

    static func message(subject: String, body: String = "Hello there.", from: String = "Bob <bob@example.org>") -> String {
        "From: \(from)\r\nTo: alice@example.com\r\nSubject: \(subject)\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\nMessage-ID: <\(subject.hashValue)@example.org>\r\n\r\n\(body)\r\n"
    }
}

/// Drives the server through the channel as a client would, reading whole lines.
final class IMAPTestClient: @unchecked Sendable {
    let channel: NIOAsyncTestingChannel
    private var pending: [UInt8] = []

    init(channel: NIOAsyncTestingChannel) { self.channel = channel }

    func write(_ text: String) async throws {
        try await channel.writeInbound(channel.allocator.buffer(string: text))
    }

    func readLine() async throws -> String {
        while true {
            if let lf = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<lf])
                pending.removeSubrange(...lf)
                return String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...], as: UTF8.self)
            }
            var buffer = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
            pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
    }

    /// Reads lines until the tagged completion of `tag`; literals arrive inline.
    func readUntilTagged(_ tag: String) async throws -> [String] {
        var lines: [String] = []
        while true {
            let line = try await readLine()
            lines.append(line)
            if line.hasPrefix(tag + " ") { return lines }
        }
    }

    func command(_ text: String) async throws -> [String] {
        try await write(text + "\r\n")
        let tag = String(text.prefix { $0 != " " })
        return try await readUntilTagged(tag)
    }

    /// APPEND with a synchronising literal, waiting for the continuation like a real client.
    func append(tag: String, mailbox: String, flags: String = "", message: String) async throws -> [String] {
        let octets = message.utf8.count
        try await write("\(tag) APPEND \(mailbox) \(flags.isEmpty ? "" : "(\(flags)) "){\(octets)}\r\n")
        let continuation = try await readLine()
        #expect(continuation.hasPrefix("+ "))
        try await write(message + "\r\n")
        return try await readUntilTagged(tag)
    }
}

enum TestTLS {
    static let key = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgCeWjB4aQ45b7pTA+
    ORKOwCDQPuhXbMBOG4WAAzactOGhRANCAAThicwwmX+QguEk/UcpRfQr7X25bRfh
    1BwejYQettgv5vK0MV6tlt0S6UYTA5+sPHtLFRnGyJ/NMwDPaQyrlVlL
    -----END PRIVATE KEY-----
    """
    static let certificate = """
    -----BEGIN CERTIFICATE-----
    MIIBfjCCASWgAwIBAgIUSoz7J7oPIGvLaCeWrhpJqHBy0bUwCgYIKoZIzj0EAwIw
    FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTAxMDUwMVoYDzIxMjYxMTAx
    MDEwNTAxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
    PQMBBwNCAAThicwwmX+QguEk/UcpRfQr7X25bRfh1BwejYQettgv5vK0MV6tlt0S
    6UYTA5+sPHtLFRnGyJ/NMwDPaQyrlVlLo1MwUTAdBgNVHQ4EFgQUIACl90A5vJg5
    mTA8yKEG0Sv/x0IwHwYDVR0jBBgwFoAUIACl90A5vJg5mTA8yKEG0Sv/x0IwDwYD
    VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAxWdDUcvei+q+Xd2LSrt7v
    zMY3Xqvj67uK3MKlZuwwtwIgXPJGl9kVT1QnglEl4K+I4hgGQfdlNsNzPKOL5bRK
    UlM=
    -----END CERTIFICATE-----
    """

    static func serverContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }
}
