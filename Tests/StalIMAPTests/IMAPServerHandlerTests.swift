import NIOCore
import NIOEmbedded
import NIOSSL
import StalCore
import StalIMAPCore
import StalMIME
import StalMailStore
import Testing
@testable import StalIMAP

@Suite struct IMAPAuthenticationTests {
    @Test func wrongPasswordGetsAuthenticationFailed() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.client()
        let reply = try await client.command("a LOGIN alice@example.com wrong-password")
        #expect(reply == ["a NO [AUTHENTICATIONFAILED] Authentication failed"])
        let ok = try await client.command("b LOGIN alice@example.com \"\(IMAPFixture.password)\"")
        #expect(ok.last?.hasPrefix("b OK [CAPABILITY IMAP4rev1") == true)
    }

    @Test func authenticatePlainWithInitialResponse() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.client()
        let ir = SASLPlainCredentials.encode(username: "alice@example.com", password: IMAPFixture.password)
        let reply = try await client.command("a AUTHENTICATE PLAIN \(ir)")
        #expect(reply.last?.hasPrefix("a OK") == true)
        let select = try await client.command("b SELECT INBOX")
        #expect(select.last == "b OK [READ-WRITE] SELECT completed")
    }

    @Test func plaintextAuthenticationIsRefusedWithoutTLSFromRemoteAddresses() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.client(loopback: false)
        let caps = try await client.command("c CAPABILITY")
        #expect(caps.first?.contains("LOGINDISABLED") == true)
        #expect(caps.first?.contains("AUTH=PLAIN") == false)
        let reply = try await client.command("a LOGIN alice@example.com \"\(IMAPFixture.password)\"")
        #expect(reply == ["a NO [PRIVACYREQUIRED] Plaintext authentication requires TLS"])
    }

    @Test func implicitTLSAllowsPlaintextAuthentication() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.client(loopback: false, configuration: IMAPServerConfiguration(implicitTLS: true))
        let reply = try await client.command("a LOGIN alice@example.com \"\(IMAPFixture.password)\"")
        #expect(reply.last?.hasPrefix("a OK") == true)
    }

    @Test func startTLSInstallsTheTLSHandlerFirst() async throws {
        let f = try await IMAPFixture.make()
        let configuration = IMAPServerConfiguration(startTLSContext: try TestTLS.serverContext())
        let client = try await f.client(loopback: false, configuration: configuration)
        let caps = try await client.command("c CAPABILITY")
        #expect(caps.first?.contains("STARTTLS") == true)
        // The NOOP pipelined after STARTTLS arrived in clear text and must be dropped.
        try await client.write("s STARTTLS\r\nn NOOP\r\n")
        #expect(try await client.readLine() == "s OK Begin TLS negotiation now")
        let hasTLS = try await client.channel.eventLoop.submit {
            (try? client.channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil
        }.get()
        #expect(hasTLS)
        #expect(try await client.channel.readOutbound(as: ByteBuffer.self) == nil)
    }
}

@Suite struct IMAPRobustnessTests {
    @Test func randomBytesGetBadAndTheSessionContinues() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.client()
        try await client.write("\u{16}\u{03}\u{01}\u{7f}garbage((\r\n")
        let bad = try await client.readLine()
        #expect(bad.hasPrefix("* BAD"))
        let reply = try await client.command("x1 ))) {{{")
        #expect(reply.last?.hasPrefix("x1 BAD") == true)
        #expect(try await client.command("x2 NOOP") == ["x2 OK completed"])
    }

    @Test func oversizeLiteralIsRefusedWithoutContinuation() async throws {
        let f = try await IMAPFixture.make()
        var limits = Limits()
        limits.imapAppendOctetsMax = 1000
        let client = try await f.loggedInClient(configuration: IMAPServerConfiguration(limits: limits))
        try await client.write("a APPEND INBOX {5000000000}\r\n")
        #expect(try await client.readLine() == "a NO [TOOBIG] Literal too large (limit 1000 octets)")
        #expect(try await client.command("b NOOP") == ["b OK completed"])
        // A literal within the limit still works afterwards.
        let ok = try await client.append(tag: "c", mailbox: "INBOX", message: IMAPFixture.message(subject: "small"))
        #expect(ok.last?.hasPrefix("c OK [APPENDUID ") == true)
    }

    @Test func overlongCommandLineIsRefused() async throws {
        let f = try await IMAPFixture.make()
        var limits = Limits()
        limits.imapCommandLineOctetsMax = 100
        let client = try await f.client(configuration: IMAPServerConfiguration(limits: limits))
        try await client.write("a NOOP " + String(repeating: "x", count: 300) + "\r\n")
        #expect(try await client.readLine() == "a BAD Command line too long (limit 100 octets)")
        #expect(try await client.command("b NOOP") == ["b OK completed"])
    }

    @Test func commandsInTheWrongStateAreRefused() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.client()
        #expect(try await client.command("a SELECT INBOX") == ["a BAD Command not valid in this state"])
        let logout = try await client.command("z LOGOUT")
        #expect(logout == ["* BYE Logging out", "z OK completed"])
    }
}

@Suite struct IMAPMailboxTests {
    @Test func listShowsSpecialUseAttributes() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.loggedInClient()
        let list = try await client.command("a LIST \"\" \"*\"")
        #expect(list.contains("* LIST (\\HasNoChildren) \"/\" INBOX"))
        #expect(list.contains("* LIST (\\HasNoChildren \\Sent) \"/\" Sent"))
        #expect(list.contains("* LIST (\\HasNoChildren \\Trash) \"/\" Trash"))
        let special = try await client.command("b LIST (SPECIAL-USE) \"\" \"*\"")
        #expect(!special.contains { $0.contains("INBOX") })
        #expect(special.count == 6)
        let root = try await client.command("c LIST \"\" \"\"")
        #expect(root.first == "* LIST (\\Noselect) \"/\" \"\"")
    }

    @Test func createRenameDeleteSubscribe() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.loggedInClient()
        #expect(try await client.command("a CREATE Projekte/Entw&APw-rfe").last == "a OK completed")
        let list = try await client.command("b LIST \"\" Projekte*")
        #expect(list.contains("* LIST (\\HasChildren) \"/\" Projekte"))
        #expect(list.contains("* LIST (\\HasNoChildren) \"/\" Projekte/Entw&APw-rfe"))
        #expect(try await client.command("c CREATE Projekte").last == "c NO [ALREADYEXISTS] Mailbox already exists")
        #expect(try await client.command("d RENAME Projekte Work").last == "d OK completed")
        #expect(try await client.command("e LIST \"\" Work/%").contains("* LIST (\\HasNoChildren) \"/\" Work/Entw&APw-rfe"))
        #expect(try await client.command("f SUBSCRIBE Work").last == "f OK completed")
        #expect(try await client.command("g LSUB \"\" W*").contains("* LSUB () \"/\" Work"))
        #expect(try await client.command("h DELETE Work/Entw&APw-rfe").last == "h OK completed")
        #expect(try await client.command("i SELECT Work/Entw&APw-rfe").last == "i NO [NONEXISTENT] No such mailbox")
        #expect(try await client.command("j DELETE INBOX").last == "j NO [CANNOT] INBOX cannot be deleted")
    }

    @Test func statusReportsCounts() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.loggedInClient()
        _ = try await client.append(tag: "a", mailbox: "INBOX", message: IMAPFixture.message(subject: "one"))
        _ = try await client.append(tag: "b", mailbox: "INBOX", flags: "\\Seen", message: IMAPFixture.message(subject: "two"))
        let status = try await client.command("c STATUS INBOX (MESSAGES UNSEEN UIDNEXT)")
        #expect(status.first == "* STATUS INBOX (MESSAGES 2 UNSEEN 1 UIDNEXT 3)")
        #expect(try await client.command("d APPEND Nowhere {1+}\r\nx").last == "d NO [TRYCREATE] No such mailbox")
    }
}

@Suite struct IMAPMessageTests {
    func setUp() async throws -> (IMAPFixture, IMAPTestClient) {
        let f = try await IMAPFixture.make()
        let client = try await f.loggedInClient()
        for (i, subject) in ["alpha", "beta", "gamma"].enumerated() {
            let reply = try await client.append(tag: "p\(i)", mailbox: "INBOX", message: IMAPFixture.message(subject: subject))
            #expect(reply.last == "p\(i) OK [APPENDUID \(try f.store.mailbox(f.account, named: "INBOX")!.uidValidity) \(i + 1)] APPEND completed")
        }
        let select = try await client.command("s SELECT INBOX")
        #expect(select.contains("* 3 EXISTS"))
        #expect(select.contains("* OK [UIDNEXT 4] Predicted next UID"))
        #expect(select.contains("* OK [UNSEEN 1] First unseen"))
        return (f, client)
    }

    @Test func fetchMetadataAndSections() async throws {
        let (_, client) = try await setUp()
        let reply = try await client.command("f FETCH 2 (UID FLAGS RFC822.SIZE ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        let text = reply.joined(separator: "\n")
        #expect(text.hasPrefix("* 2 FETCH (UID 2 FLAGS () RFC822.SIZE "))
        #expect(text.contains("ENVELOPE (\"Mon, 2 Mar 2026 10:00:00 +0000\" \"beta\" ((\"Bob\" NIL \"bob\" \"example.org\"))"))
        #expect(text.contains("BODY[HEADER.FIELDS (SUBJECT)] {17}\nSubject: beta\n"))
        #expect(reply.last == "f OK completed")
        let structure = try await client.command("g UID FETCH 3 BODYSTRUCTURE")
        #expect(structure.first?.lowercased().hasPrefix("* 3 fetch (uid 3 bodystructure (\"text\" \"plain\"") == true)
    }

    @Test func fetchBodySetsSeenUnlessPeek() async throws {
        let (_, client) = try await setUp()
        let reply = try await client.command("f FETCH 1 BODY[TEXT]")
        #expect(reply.joined(separator: "\n") == "* 1 FETCH (BODY[TEXT] {14}\nHello there.\n FLAGS (\\Seen))\nf OK completed")
        let peek = try await client.command("g FETCH 2 (BODY.PEEK[TEXT]<0.5> FLAGS)")
        #expect(peek.joined(separator: "\n") == "* 2 FETCH (BODY[TEXT]<0> {5}\nHello FLAGS ())\ng OK completed")
        let search = try await client.command("h SEARCH SEEN")
        #expect(search == ["* SEARCH 1", "h OK completed"])
    }

    @Test func storeAndSearch() async throws {
        let (_, client) = try await setUp()
        #expect(try await client.command("a STORE 1:2 +FLAGS (\\Flagged $Forwarded)") == [
            "* 1 FETCH (FLAGS (\\Flagged $Forwarded))", "* 2 FETCH (FLAGS (\\Flagged $Forwarded))", "a OK completed",
        ])
        #expect(try await client.command("b UID STORE 2 -FLAGS.SILENT (\\Flagged)") == ["b OK completed"])
        #expect(try await client.command("c SEARCH FLAGGED") == ["* SEARCH 1", "c OK completed"])
        #expect(try await client.command("d UID SEARCH KEYWORD $Forwarded SUBJECT BETA") == ["* SEARCH 2", "d OK completed"])
        #expect(try await client.command("e SEARCH CHARSET UTF-8 OR SUBJECT alpha BODY nothing") == ["* SEARCH 1", "e OK completed"])
        #expect(try await client.command("f SEARCH NOT 2") == ["* SEARCH 1 3", "f OK completed"])
        #expect(try await client.command("g SEARCH CHARSET ISO-2022-JP ALL").last == "g NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset")
    }

    @Test func copyMoveAndExpunge() async throws {
        let (f, client) = try await setUp()
        let trash = try f.store.mailbox(f.account, named: "Trash")!
        #expect(try await client.command("a COPY 1:2 Trash") == ["a OK [COPYUID \(trash.uidValidity) 1:2 1:2] COPY completed"])
        let move = try await client.command("b UID MOVE 2 Archive")
        let archive = try f.store.mailbox(f.account, named: "Archive")!
        #expect(move == ["* OK [COPYUID \(archive.uidValidity) 2 1] Moved", "* 2 EXPUNGE", "b OK MOVE completed"])
        #expect(try await client.command("c STORE 1 +FLAGS.SILENT (\\Deleted)") == ["c OK completed"])
        #expect(try await client.command("d EXPUNGE") == ["* 1 EXPUNGE", "d OK completed"])
        #expect(try await client.command("e FETCH 1 UID") == ["* 1 FETCH (UID 3)", "e OK completed"])
        #expect(try await client.command("f COPY 1 Nowhere").last == "f NO [TRYCREATE] No such mailbox")
        #expect(try await client.command("g CLOSE") == ["g OK completed"])
        #expect(try await client.command("h FETCH 1 UID") == ["h BAD No mailbox selected"])
    }

    @Test func uidExpungeRemovesOnlyTheNamedMessages() async throws {
        let (_, client) = try await setUp()
        _ = try await client.command("a STORE 1:3 +FLAGS.SILENT (\\Deleted)")
        #expect(try await client.command("b UID EXPUNGE 2") == ["* 2 EXPUNGE", "b OK completed"])
        #expect(try await client.command("c UID SEARCH DELETED") == ["* SEARCH 1 3", "c OK completed"])
    }

    @Test func examineIsReadOnly() async throws {
        let (_, client) = try await setUp()
        let examine = try await client.command("a EXAMINE INBOX")
        #expect(examine.last == "a OK [READ-ONLY] EXAMINE completed")
        #expect(try await client.command("b STORE 1 +FLAGS (\\Seen)").last == "b NO [READ-ONLY] Mailbox is read-only")
        _ = try await client.command("c FETCH 1 BODY[TEXT]")
        #expect(try await client.command("d SEARCH UNSEEN") == ["* SEARCH 1 2 3", "d OK completed"])
    }
}

@Suite struct IMAPSynchronizationTests {
    @Test func otherSessionsChangesArriveAtSyncPointsOnly() async throws {
        let f = try await IMAPFixture.make()
        let a = try await f.loggedInClient()
        let b = try await f.loggedInClient()
        for i in 0..<3 { _ = try await a.append(tag: "p\(i)", mailbox: "INBOX", message: IMAPFixture.message(subject: "m\(i)")) }
        _ = try await a.command("s SELECT INBOX")
        _ = try await b.command("s SELECT INBOX")
        _ = try await b.command("x STORE 1 +FLAGS.SILENT (\\Deleted)")
        _ = try await b.command("y EXPUNGE")
        // FETCH is not a point where EXPUNGE may be sent: numbers stay as the client knows them.
        #expect(try await a.command("f FETCH 3 UID") == ["* 3 FETCH (UID 3)", "f OK completed"])
        #expect(try await a.command("n NOOP") == ["* 1 EXPUNGE", "n OK completed"])
        #expect(try await a.command("g FETCH 2 UID") == ["* 2 FETCH (UID 3)", "g OK completed"])
        _ = try await b.append(tag: "q", mailbox: "INBOX", message: IMAPFixture.message(subject: "new"))
        _ = try await b.command("r STORE 1 +FLAGS.SILENT (\\Answered)")
        #expect(try await a.command("h NOOP") == ["* 3 EXISTS", "* 1 FETCH (UID 2 FLAGS (\\Answered))", "h OK completed"])
    }

    @Test func idlingClientHearsAboutDeliveries() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.loggedInClient()
        _ = try await client.command("s SELECT INBOX")
        try await client.write("i IDLE\r\n")
        #expect(try await client.readLine() == "+ idling")
        let results = try await f.store.deliver(Array(IMAPFixture.message(subject: "pushed").utf8),
                                                recipients: [DeliveryTarget(account: f.account)])
        #expect(results.count == 1)
        #expect(try await client.readLine() == "* 1 EXISTS")
        try await client.write("DONE\r\n")
        #expect(try await client.readUntilTagged("i") == ["i OK IDLE terminated"])
        #expect(try await client.command("n NOOP") == ["n OK completed"])
    }
}

@Suite struct IMAPInactivityTests {
    @Test func silentClientIsLoggedOutAfterTheTimeout() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.loggedInClient(configuration: IMAPServerConfiguration(inactivityTimeoutSeconds: 1800))
        await client.channel.testingEventLoop.advanceTime(by: .seconds(1799))
        #expect(try await client.command("n NOOP") == ["n OK completed"])
        await client.channel.testingEventLoop.advanceTime(by: .seconds(1799))
        #expect(try await client.channel.readOutbound(as: ByteBuffer.self) == nil)
        await client.channel.testingEventLoop.advanceTime(by: .seconds(2))
        #expect(try await client.readLine() == "* BYE Autologout; idle for too long")
    }
}

@Suite struct IMAPStructureCacheTests {
    @Test func secondFetchIsServedFromTheCacheWithTheSameBytes() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.loggedInClient()
        _ = try await client.append(tag: "a", mailbox: "INBOX", message: IMAPFixture.message(subject: "cached"))
        _ = try await client.command("s SELECT INBOX")
        #expect(f.services.structureCache.count == 0)
        let first = try await client.command("f FETCH 1 (ENVELOPE BODYSTRUCTURE)")
        #expect(f.services.structureCache.count == 1)
        #expect(first.first?.contains("\"cached\"") == true)
        let second = try await client.command("g FETCH 1 (ENVELOPE BODYSTRUCTURE)")
        #expect(second.dropLast() == first.dropLast())
        #expect(second.last == "g OK completed")
    }

    @Test func evictsOldestEntriesBeyondTheBudget() {
        let cache = IMAPStructureCache(octetsMax: 1000)
        let structure = IMAPMessageStructure(MIMEMessage.parse(Array("Subject: x\r\n\r\nbody\r\n".utf8)))
        for i in 0..<100 {
            cache.insert(structure, for: BlobID(digest: [UInt8](repeating: UInt8(i), count: 32))!)
        }
        #expect(cache.count > 0)
        #expect(cache.count * (structure.octets + 64) <= 1000)
        #expect(cache.structure(for: BlobID(digest: [UInt8](repeating: 99, count: 32))!) == structure)
        #expect(cache.structure(for: BlobID(digest: [UInt8](repeating: 0, count: 32))!) == nil)
    }
}

@Suite struct IMAPPipeliningTests {
    @Test func pipelinedCommandsAreAnsweredInOrder() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.loggedInClient()
        let message = IMAPFixture.message(subject: "pipelined")
        try await client.write("a APPEND INBOX {\(message.utf8.count)+}\r\n\(message)\r\nb SELECT INBOX\r\nc FETCH 1 (UID FLAGS)\r\nd NOOP\r\n")
        let lines = try await client.readUntilTagged("d")
        let tagged = lines.filter { !$0.hasPrefix("*") }
        #expect(tagged.map { String($0.prefix(4)) } == ["a OK", "b OK", "c OK", "d OK"])
        #expect(lines.contains("* 1 FETCH (UID 1 FLAGS ())"))
    }

    @Test func dripFedBytesWork() async throws {
        let f = try await IMAPFixture.make()
        let client = try await f.client()
        let message = IMAPFixture.message(subject: "drip")
        let script = "l LOGIN {17+}\r\nalice@example.com \"\(IMAPFixture.password)\"\r\n"
            + "a APPEND INBOX (\\Seen) \" 2-Mar-2026 10:00:00 +0100\" {\(message.utf8.count)+}\r\n\(message)\r\n"
            + "s EXAMINE INBOX\r\nf FETCH 1 (FLAGS INTERNALDATE)\r\n"
        for byte in script.utf8 {
            try await client.channel.writeInbound(client.channel.allocator.buffer(bytes: [byte]))
        }
        let lines = try await client.readUntilTagged("f")
        #expect(lines.contains("* 1 FETCH (FLAGS (\\Seen) INTERNALDATE \" 2-Mar-2026 09:00:00 +0000\")"))
        #expect(lines.filter { !$0.hasPrefix("*") }.map { String($0.prefix(4)) } == ["l OK", "a OK", "s OK", "f OK"])
    }
}
