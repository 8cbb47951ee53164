import NIOCore
import NIOEmbedded
import NIOSSL
import StalCore
import StalDeterminism
import StalSMTP
import StalSMTPCore
import Testing

/// Answers from a fixed table and records what the handler asked, to check the plumbing
/// between the NIO handler, the state machine and the backend. End-to-end delivery into
/// the real store is covered in `SMTPMailStoreTests`.
final class RecordingBackend: SMTPBackend, @unchecked Sendable {
    private let lock = Mutex()
    private var _deliveries: [(SMTPTransaction, [UInt8])] = []
    private var _logins: [(String, String)] = []

    var deliveries: [(SMTPTransaction, [UInt8])] { lock.withLock { _deliveries } }
    var logins: [(String, String)] { lock.withLock { _logins } }

    func resolveRecipient(_ address: EmailAddress) async -> SMTPRecipientVerdict {
        switch address.detachingSubaddress().base.canonical {
        case "user@example.com": return .local(tenant: TenantID(rawValue: 1), account: AccountID(rawValue: 1))
        case "nobody@example.com": return .unknownUser
        default: return .notLocal
        }
    }

    func senderAllowed(_ sender: EmailAddress, identity: String) async -> Bool {
        sender.canonical == identity.lowercased()
    }

    func authenticate(_ credentials: SMTPCredentials, remoteAddress: String) async -> SMTPAuthenticationOutcome {
        lock.withLock { _logins.append((credentials.username, remoteAddress)) }
        return credentials.password == "correct horse" ? .success(identity: credentials.username) : .failure
    }

    func deliver(_ transaction: SMTPTransaction, receivedAt: Timestamp) async -> [SMTPDeliveryOutcome] {
        lock.withLock { _deliveries.append((transaction, transaction.storedMessage(receivedAt: receivedAt))) }
        return transaction.recipients.map { _ in .delivered }
    }
}

@Suite struct SMTPServerHandlerTests {
    @Test func transactionOverTheChannel() async throws {
        let backend = RecordingBackend()
        let connection = try await SMTPTestConnection(configuration: SMTPServerConfiguration(hostname: "mx.example", mode: .mx),
                                                      backend: backend)
        #expect(try await connection.reply() == "220 mx.example ESMTP Stal ready\r\n")
        try await connection.send("EHLO client.example\r\nMAIL FROM:<s@sender.example>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<user@example.com>\r\nDATA\r\n")
        let replies = try await connection.replies(5)
        #expect(replies[0].hasPrefix("250-mx.example greets client.example\r\n"))
        #expect(Array(replies[1...]) == [
            "250 2.1.0 Sender ok\r\n",
            "550 5.1.1 <nobody@example.com> Recipient address rejected: User unknown\r\n",
            "250 2.1.5 <user@example.com> Recipient ok\r\n",
            "354 End data with <CR><LF>.<CR><LF>\r\n",
        ])
        try await connection.send("Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n")
        #expect(try await connection.replies(2) == ["250 2.0.0 Ok: stored as t1.1\r\n", "221 2.0.0 Bye\r\n"])
        let stored = String(decoding: try #require(backend.deliveries.first).1, as: UTF8.self)
        #expect(stored.hasPrefix("Return-Path: <s@sender.example>\r\nReceived: from client.example ([192.0.2.9])\r\n\tby mx.example (Stal) with ESMTP id t1.1\r\n\tfor <user@example.com>; Wed, 18 Nov 2026 11:06:40 +0000\r\n"))
        #expect(stored.hasSuffix("\r\nSubject: hi\r\n\r\n.dot\r\n"))
        try await connection.channel.closeFuture.get()
    }

    @Test func longLineThenSessionContinues() async throws {
        let connection = try await SMTPTestConnection(configuration: SMTPServerConfiguration(hostname: "mx.example", mode: .mx),
                                                      backend: RecordingBackend())
        _ = try await connection.reply()
        try await connection.send(String(repeating: "x", count: 6_000))
        try await connection.send(String(repeating: "x", count: 4_000) + "\r\nNOOP\r\n")
        #expect(try await connection.replies(2) == ["500 5.5.2 Line too long\r\n", "250 2.0.0 Ok\r\n"])
        #expect(connection.channel.isActive)
    }

    @Test func idleClientIsDisconnected() async throws {
        let connection = try await SMTPTestConnection(
            configuration: SMTPServerConfiguration(hostname: "mx.example", mode: .mx, idleTimeoutSeconds: 300),
            backend: RecordingBackend())
        _ = try await connection.reply()
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(200))
        try await connection.send("NOOP\r\n")
        #expect(try await connection.reply() == "250 2.0.0 Ok\r\n")
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(200))
        #expect(connection.channel.isActive)
        await connection.channel.testingEventLoop.advanceTime(by: .seconds(100))
        #expect(try await connection.reply() == "421 4.4.2 mx.example Timeout waiting for client input, closing connection\r\n")
        try await connection.channel.closeFuture.get()
    }

    @Test func submissionRefusesPlaintextAuthFromTheNetwork() async throws {
        let backend = RecordingBackend()
        let connection = try await SMTPTestConnection(
            configuration: SMTPServerConfiguration(hostname: "mx.example", mode: .submission, tlsContext: try TestTLS.serverContext()),
            backend: backend)
        _ = try await connection.reply()
        try await connection.send("EHLO c\r\nAUTH PLAIN AHVzZXIAY29ycmVjdCBob3JzZQ==\r\nMAIL FROM:<user@example.com>\r\n")
        let replies = try await connection.replies(3)
        #expect(replies[0].contains("250-STARTTLS") || replies[0].contains("250 STARTTLS"))
        #expect(!replies[0].contains("AUTH"))
        #expect(Array(replies[1...]) == ["538 5.7.11 Encryption required for requested authentication mechanism\r\n",
                                          "530 5.7.0 Authentication required\r\n"])
        #expect(backend.logins.isEmpty)
    }

    @Test func submissionFromLoopbackMayAuthenticateWithoutTLS() async throws {
        let backend = RecordingBackend()
        let connection = try await SMTPTestConnection(
            configuration: SMTPServerConfiguration(hostname: "mx.example", mode: .submission), backend: backend,
            remote: "127.0.0.1")
        _ = try await connection.reply()
        try await connection.send("EHLO c\r\nAUTH PLAIN AHVzZXJAZXhhbXBsZS5jb20AY29ycmVjdCBob3JzZQ==\r\n")
        let replies = try await connection.replies(2)
        #expect(replies[0].hasSuffix("250 AUTH PLAIN LOGIN\r\n"))
        #expect(replies[1] == "235 2.7.0 Authentication successful\r\n")
        #expect(backend.logins.map(\.0) == ["user@example.com"])
        #expect(backend.logins.map(\.1) == ["127.0.0.1"])
    }

    @Test func startTLSThenAuthOverTLS() async throws {
        let backend = RecordingBackend()
        let server = try await SMTPTestConnection(
            configuration: SMTPServerConfiguration(hostname: "mx.example", mode: .submission, tlsContext: try TestTLS.serverContext()),
            backend: backend)
        _ = try await server.reply()
        try await server.send("EHLO c\r\nSTARTTLS\r\nEHLO injected\r\n")
        _ = try await server.reply()
        #expect(try await server.reply() == "220 2.0.0 Ready to start TLS\r\n")

        let client = NIOAsyncTestingChannel()
        try await client.connect(to: SocketAddress(ipAddress: "192.0.2.1", port: 25)).get()
        let clientTLS = try TestTLS.clientContext()
        try await client.testingEventLoop.executeInContext {
            try client.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: clientTLS, serverHostname: "mx.example"))
        }
        let tls = TLSPair(client: client, server: server.channel)
        try await tls.shuttle()
        try await tls.send("EHLO c\r\n")
        let ehlo = try await tls.receive()
        #expect(ehlo.contains("250 AUTH PLAIN LOGIN\r\n"))
        #expect(!ehlo.contains("STARTTLS"))
        try await tls.send("AUTH LOGIN\r\n")
        #expect(try await tls.receive() == "334 VXNlcm5hbWU6\r\n")
        try await tls.send("dXNlckBleGFtcGxlLmNvbQ==\r\n")
        #expect(try await tls.receive() == "334 UGFzc3dvcmQ6\r\n")
        try await tls.send("Y29ycmVjdCBob3JzZQ==\r\n")
        #expect(try await tls.receive() == "235 2.7.0 Authentication successful\r\n")
        try await tls.send("MAIL FROM:<user@example.com>\r\nRCPT TO:<user+tag@example.com>\r\nRCPT TO:<x@remote.example>\r\n")
        #expect(try await tls.receive(replies: 3) == "250 2.1.0 Sender ok\r\n250 2.1.5 <user+tag@example.com> Recipient ok\r\n"
            + "550 5.7.1 <x@remote.example> Sending to other domains is not available: this server has no outbound queue yet\r\n")
        try await tls.send("DATA\r\n")
        #expect(try await tls.receive() == "354 End data with <CR><LF>.<CR><LF>\r\n")
        try await tls.send("Subject: over TLS\r\n\r\nx\r\n.\r\n")
        #expect(try await tls.receive() == "250 2.0.0 Ok: stored as t1.1\r\n")
        let stored = String(decoding: try #require(backend.deliveries.first).1, as: UTF8.self)
        #expect(stored.contains("with ESMTPSA id t1.1"))
    }
}

/// Moves TLS records between a client channel and the server channel.
struct TLSPair {
    let client: NIOAsyncTestingChannel
    let server: NIOAsyncTestingChannel

    /// Delivers whatever both sides have written until neither has more.
    func shuttle() async throws {
        var moved = true
        while moved {
            moved = false
            while let data = try await client.readOutbound(as: ByteBuffer.self) {
                try await server.writeInbound(data)
                moved = true
            }
            while let data = try await server.readOutbound(as: ByteBuffer.self) {
                try await client.writeInbound(data)
                moved = true
            }
        }
    }

    func send(_ text: String) async throws {
        try await client.writeOutbound(ByteBuffer(string: text))
        try await shuttle()
    }

    /// Returns the plaintext of the server's next `replies` replies, waiting for those that
    /// depend on a backend call.
    func receive(replies: Int = 1) async throws -> String {
        var text = ""
        func finalLines() -> Int {
            text.split(separator: "\r\n").filter { $0.count >= 4 && $0[$0.index($0.startIndex, offsetBy: 3)] == " " }.count
        }
        while true {
            while let plain = try await client.readInbound(as: ByteBuffer.self) {
                text += String(buffer: plain)
            }
            if finalLines() >= replies { return text }
            let record = try await server.waitForOutboundWrite(as: ByteBuffer.self)
            try await client.writeInbound(record)
            try await shuttle()
        }
    }
}
