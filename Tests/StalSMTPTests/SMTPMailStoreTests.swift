import NIOCore
import NIOEmbedded
import StalCore
import StalDeterminism
import StalDirectory
import StalMailStore
import StalShardLog
import StalSMTP
import StalSMTPCore
import StalStorage
import Testing

/// The real directory and mail store over the in-memory engine, with one domain and two
/// accounts (one with a tiny quota).
struct MailFixture {
    let clock = ManualClock(Timestamp(secondsSinceEpoch: 1_795_000_000))
    let store: MailStore
    let directory: Directory
    let user: DirectoryAccount
    let small: DirectoryAccount

    init() async throws {
        let engine = MemoryEngine()
        store = try MailStore.local(engine: engine, blobs: MemoryBlobStore(), clock: clock, random: SeededRandom(seed: 1))
        directory = try Directory.local(engine: engine, mailStore: store, clock: clock, random: SeededRandom(seed: 2),
                                        hasher: .fastForTests, sleep: { _ in })
        try await directory.addDomain("example.com")
        user = try await directory.addAccount(address: EmailAddress("user@example.com")!, password: "correct horse 1")
        small = try await directory.addAccount(address: EmailAddress("small@example.com")!, password: "correct horse 2",
                                               quotaBytes: 10)
        try await directory.addAlias(EmailAddress("info@example.com")!, to: user.id)
    }

    var backend: MailStoreSMTPBackend { MailStoreSMTPBackend(store: store, directory: directory) }

    func inbox(_ account: DirectoryAccount) throws -> [MessageSummary] {
        let inbox = try #require(try store.mailboxes(account.id).first { $0.role == .inbox })
        return try store.messages(account.id, mailbox: inbox.id)
    }

    func shutdown() {
        directory.shutdown()
        store.shutdown()
    }
}

@Suite struct SMTPMailStoreTests {
    @Test func mxDeliveryWithPlusAddressingAliasAndRejections() async throws {
        let fixture = try await MailFixture()
        defer { fixture.shutdown() }
        let connection = try await SMTPTestConnection(configuration: SMTPServerConfiguration(hostname: "mx.example.com", mode: .mx),
                                                      backend: fixture.backend, clock: fixture.clock)
        _ = try await connection.reply()
        try await connection.send("EHLO sender.example\r\nMAIL FROM:<a@sender.example>\r\nRCPT TO:<user+lists@example.com>\r\n"
            + "RCPT TO:<info@example.com>\r\nRCPT TO:<ghost@example.com>\r\nRCPT TO:<x@elsewhere.example>\r\nDATA\r\n")
        let replies = try await connection.replies(7)
        #expect(Array(replies[1...]) == [
            "250 2.1.0 Sender ok\r\n",
            "250 2.1.5 <user+lists@example.com> Recipient ok\r\n",
            "250 2.1.5 <info@example.com> Recipient ok\r\n",
            "550 5.1.1 <ghost@example.com> Recipient address rejected: User unknown\r\n",
            "554 5.7.1 <x@elsewhere.example> Relay access denied\r\n",
            "354 End data with <CR><LF>.<CR><LF>\r\n",
        ])
        try await connection.send("Subject: stored\r\n\r\nhello\r\n.\r\n")
        #expect(try await connection.reply() == "250 2.0.0 Ok: stored as t1.1\r\n")

        let messages = try fixture.inbox(fixture.user)
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message.receivedAt == Timestamp(secondsSinceEpoch: 1_795_000_000))
        let stored = String(decoding: try await fixture.store.readBlob(account: fixture.user.id, message.blobID), as: UTF8.self)
        #expect(stored == "Return-Path: <a@sender.example>\r\nReceived: from sender.example ([192.0.2.9])\r\n"
            + "\tby mx.example.com (Stal) with ESMTP id t1.1; Wed, 18 Nov 2026 11:06:40 +0000\r\n"
            + "Subject: stored\r\n\r\nhello\r\n")
    }

    @Test func lmtpReportsEachRecipient() async throws {
        let fixture = try await MailFixture()
        defer { fixture.shutdown() }
        let connection = try await SMTPTestConnection(configuration: SMTPServerConfiguration(hostname: "mx.example.com", mode: .lmtp),
                                                      backend: fixture.backend, remote: "127.0.0.1", clock: fixture.clock)
        #expect(try await connection.reply() == "220 mx.example.com LMTP Stal ready\r\n")
        try await connection.send("LHLO mta\r\nMAIL FROM:<>\r\nRCPT TO:<user@example.com>\r\nRCPT TO:<small@example.com>\r\nDATA\r\n")
        _ = try await connection.replies(5)
        try await connection.send("Subject: bigger than ten bytes\r\n\r\nbody\r\n.\r\n")
        #expect(try await connection.replies(2) == [
            "250 2.1.5 <user@example.com> Delivered as t1.1\r\n",
            "552 5.2.2 Mailbox full\r\n",
        ])
        #expect(try fixture.inbox(fixture.user).count == 1)
        #expect(try fixture.inbox(fixture.small).isEmpty)
    }

    @Test func submissionAuthenticatesAgainstTheDirectory() async throws {
        let fixture = try await MailFixture()
        defer { fixture.shutdown() }
        let connection = try await SMTPTestConnection(
            configuration: SMTPServerConfiguration(hostname: "mx.example.com", mode: .submission), backend: fixture.backend,
            remote: "127.0.0.1", clock: fixture.clock)
        _ = try await connection.reply()
        // "\0user@example.com\0wrong password" then "\0user@example.com\0correct horse 1".
        try await connection.send("EHLO c\r\nAUTH PLAIN AHVzZXJAZXhhbXBsZS5jb20Ad3JvbmcgcGFzc3dvcmQ=\r\n")
        #expect(try await connection.replies(2)[1] == "535 5.7.8 Authentication credentials invalid\r\n")
        try await connection.send("AUTH PLAIN AHVzZXJAZXhhbXBsZS5jb20AY29ycmVjdCBob3JzZSAx\r\n")
        #expect(try await connection.reply() == "235 2.7.0 Authentication successful\r\n")
        try await connection.send("MAIL FROM:<small@example.com>\r\n")
        #expect(try await connection.reply() == "553 5.7.1 <small@example.com> Sender address rejected: not owned by user user@example.com\r\n")
        try await connection.send("MAIL FROM:<info@example.com>\r\nRSET\r\n")
        #expect(try await connection.replies(2) == ["250 2.1.0 Sender ok\r\n", "250 2.0.0 Ok\r\n"])
        try await connection.send("MAIL FROM:<user@example.com>\r\nRCPT TO:<friend@remote.example>\r\nRCPT TO:<user@example.com>\r\nDATA\r\nhi\r\n.\r\n")
        let replies = try await connection.replies(5)
        #expect(replies[1].hasPrefix("550 5.7.1 <friend@remote.example> Sending to other domains is not available"))
        #expect(replies[4] == "250 2.0.0 Ok: stored as t1.1\r\n")
        #expect(try fixture.inbox(fixture.user).count == 1)
    }
}
