import Foundation
import StalCore
import StalNode
import Testing

/// Real clients against a real node over real sockets.
@Suite(.serialized) struct EndToEndTests {
    static let sample = """
        From: Sender <sender@elsewhere.test>\r
        To: alice@example.test, bob@example.test, carol@example.test\r
        Subject: Three recipients\r
        Message-ID: <three@elsewhere.test>\r
        Date: Wed, 25 Nov 2026 01:00:00 +0000\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        \r
        Hello all three.\r
        .. a line that starts with a dot\r
        Grüße\r\n
        """

    func writeTemp(_ text: String) -> String {
        let path = TestPaths.temporaryDirectory("msg") + "/message.eml"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// The message as stored, minus the trace fields the server prepends.
    func strippingTraceFields(_ data: Data) -> String {
        var text = String(decoding: data, as: UTF8.self)
        while text.hasPrefix("Return-Path:") || text.hasPrefix("Received:") {
            guard var end = text.range(of: "\r\n")?.upperBound else { break }
            while text[end...].hasPrefix(" ") || text[end...].hasPrefix("\t") {
                guard let next = text[end...].range(of: "\r\n")?.upperBound else { break }
                end = next
            }
            text = String(text[end...])
        }
        return text
    }

    @Test func smtplibDeliversToThreeRecipientsAndImaplibReadsItBack() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let file = writeTemp(Self.sample)
        let sent = try await mailClient(["send", "--port", "\(t.port(.smtp))", "--from", "sender@elsewhere.test",
                                         "--to", "alice@example.test,bob+news@example.test,carol@example.test", "--file", file])
        #expect(sent.stdout.contains("sent refused=0"), "\(sent.stdout) \(sent.stderr)")
        for user in ["alice", "bob", "carol"] {
            let out = file + ".\(user)"
            let fetched = try await mailClient(["fetch", "--port", "\(t.port(.imap))", "--user", "\(user)@example.test",
                                                "--password", TestNode.password, "--out", out])
            #expect(fetched.stdout.contains("fetched 1"), "\(user): \(fetched.stdout) \(fetched.stderr)")
            let body = try Data(contentsOf: URL(fileURLWithPath: out))
            let raw = String(decoding: body, as: UTF8.self)
            #expect(raw.hasPrefix("Return-Path: <sender@elsewhere.test>\r\n"))
            #expect(raw.contains("Received: from client.test"))
            // smtplib dot-stuffs the line that starts with dots on the wire; the server undoes it.
            #expect(strippingTraceFields(body) == Self.sample)
        }
    }

    @Test func swaksDeliversOverStartTLS() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let result = try await runProcess("swaks", [
            "--server", "127.0.0.1:\(t.port(.smtp))", "--tls", "--to", "alice@example.test",
            "--from", "someone@elsewhere.test", "--ehlo", "client.test", "--header", "Subject: via swaks",
        ])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("TLS started"))
        let count = try await mailClient(["count", "--port", "\(t.port(.imap))", "--user", "alice@example.test", "--password", TestNode.password])
        #expect(count.stdout.contains("MESSAGES 1"), "\(count.stdout) \(count.stderr)")
    }

    @Test func unknownUserAndRelayAreRefused() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let unknown = try await mailClient(["rcpt", "--port", "\(t.port(.smtp))", "--from", "a@elsewhere.test", "--to", "nobody@example.test"])
        #expect(unknown.stdout.hasPrefix("550 5.1.1"), "\(unknown.stdout) \(unknown.stderr)")
        let relay = try await mailClient(["rcpt", "--port", "\(t.port(.smtp))", "--from", "a@elsewhere.test", "--to", "victim@elsewhere.test"])
        #expect(relay.stdout.hasPrefix("554 5.7.1") || relay.stdout.hasPrefix("550 5.7.1"), "\(relay.stdout) \(relay.stderr)")
    }

    @Test func submissionRequiresAuthenticationAndDeliversLocally() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let file = writeTemp(Self.sample)
        let anonymous = try await mailClient(["send", "--port", "\(t.port(.submission))", "--from", "alice@example.test",
                                              "--to", "bob@example.test", "--file", file, "--starttls"])
        #expect(!anonymous.stdout.contains("sent"), "\(anonymous.stdout)")
        let authed = try await mailClient(["send", "--port", "\(t.port(.submission))", "--from", "alice@example.test",
                                           "--to", "bob@example.test", "--file", file, "--starttls",
                                           "--user", "alice@example.test", "--password", TestNode.password])
        #expect(authed.stdout.contains("sent refused=0"), "\(authed.stdout) \(authed.stderr)")
        let outbound = try await mailClient(["send", "--port", "\(t.port(.submission))", "--from", "alice@example.test",
                                             "--to", "friend@elsewhere.test", "--file", file, "--starttls",
                                             "--user", "alice@example.test", "--password", TestNode.password])
        #expect(outbound.stdout.hasPrefix("error"), "\(outbound.stdout)")
    }

    @Test func wrongPasswordGetsAuthenticationFailed() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let result = try await mailClient(["login", "--port", "\(t.port(.imap))", "--user", "alice@example.test", "--password", "wrong password"])
        #expect(result.stdout.contains("AUTHENTICATIONFAILED"), "\(result.stdout)")
    }

    @Test func imapsAndStartTLSAuthenticate() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let implicit = try await mailClient(["login", "--port", "\(t.port(.imaps))", "--tls", "implicit",
                                             "--user", "alice@example.test", "--password", TestNode.password])
        #expect(implicit.stdout == "OK\n", "\(implicit.stdout) \(implicit.stderr)")
        let upgraded = try await mailClient(["login", "--port", "\(t.port(.imap))", "--tls", "starttls",
                                             "--user", "alice@example.test", "--password", TestNode.password])
        #expect(upgraded.stdout == "OK\n", "\(upgraded.stdout) \(upgraded.stderr)")
    }

    @Test func lmtpRepliesPerRecipient() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let file = writeTemp(Self.sample)
        let accepted = try await mailClient(["lmtp", "--port", "\(t.port(.lmtp))", "--from", "s@elsewhere.test",
                                             "--to", "alice@example.test,bob@example.test", "--file", file])
        #expect(accepted.stdout == "all accepted\n", "\(accepted.stdout) \(accepted.stderr)")
        let mixed = try await mailClient(["lmtp", "--port", "\(t.port(.lmtp))", "--from", "s@elsewhere.test",
                                          "--to", "carol@example.test,nobody@example.test", "--file", file])
        #expect(mixed.stdout.contains("nobody@example.test 550"), "\(mixed.stdout) \(mixed.stderr)")
        let count = try await mailClient(["count", "--port", "\(t.port(.imap))", "--user", "carol@example.test", "--password", TestNode.password])
        #expect(count.stdout.contains("MESSAGES 1"), "\(count.stdout)")
    }

    @Test func idleSeesANewDelivery() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestPaths.mailClient, "idle", "--port", "\(t.port(.imap))",
                             "--user", "alice@example.test", "--password", TestNode.password, "--timeout", "30"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let reader = out.fileHandleForReading
        let ready = try await blocking { () -> String in
            var seen = ""
            while !seen.contains("idling") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                seen += String(decoding: chunk, as: UTF8.self)
            }
            return seen
        }
        #expect(ready.contains("idling"))
        let file = writeTemp(Self.sample)
        let sent = try await mailClient(["send", "--port", "\(t.port(.smtp))", "--from", "s@elsewhere.test",
                                         "--to", "alice@example.test", "--file", file])
        #expect(sent.stdout.contains("sent"))
        let seen = try await blocking { () -> String in
            let rest = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return rest
        }
        #expect(seen.contains("* 1 EXISTS"), "\(seen)")
    }

    @Test func mbsyncSyncsBothWays() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let file = writeTemp(Self.sample)
        for _ in 0..<2 {
            let sent = try await mailClient(["send", "--port", "\(t.port(.smtp))", "--from", "s@elsewhere.test", "--to", "alice@example.test", "--file", file])
            #expect(sent.stdout.contains("sent"))
        }
        let dir = TestPaths.temporaryDirectory("mbsync")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = """
            IMAPAccount stal
            Host 127.0.0.1
            Port \(t.port(.imap))
            User alice@example.test
            Pass "\(TestNode.password)"
            SSLType None
            AuthMechs LOGIN

            IMAPStore remote
            Account stal

            MaildirStore local
            Path \(dir)/mail/
            Inbox \(dir)/mail/INBOX
            SubFolders Verbatim

            Channel sync
            Far :remote:
            Near :local:
            Patterns INBOX
            Create Both
            Expunge Both
            SyncState *

            """
        try FileManager.default.createDirectory(atPath: dir + "/mail", withIntermediateDirectories: true)
        try config.write(toFile: dir + "/mbsyncrc", atomically: true, encoding: .utf8)
        let first = try await runProcess("mbsync", ["-c", dir + "/mbsyncrc", "-a"])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let inbox = dir + "/mail/INBOX"
        let cur = (try? FileManager.default.contentsOfDirectory(atPath: inbox + "/cur")) ?? []
        let new = (try? FileManager.default.contentsOfDirectory(atPath: inbox + "/new")) ?? []
        #expect(cur.count + new.count == 2, "cur \(cur) new \(new)")

        // Flag one message locally and add a new one; both must reach the server.
        let local = cur.map { inbox + "/cur/" + $0 } + new.map { inbox + "/new/" + $0 }
        let victim = try #require(local.first)
        let base = URL(fileURLWithPath: victim).lastPathComponent.components(separatedBy: ":2,")[0]
        try FileManager.default.moveItem(atPath: victim, toPath: inbox + "/cur/" + base + ":2,F")
        let added = "From: alice@example.test\r\nTo: alice@example.test\r\nSubject: written offline\r\n\r\nlocal draft\r\n"
        try added.write(toFile: inbox + "/new/1764000000.local.host", atomically: true, encoding: .utf8)
        let second = try await runProcess("mbsync", ["-c", dir + "/mbsyncrc", "-a"])
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        let flags = try await mailClient(["flags", "--port", "\(t.port(.imap))", "--user", "alice@example.test", "--password", TestNode.password])
        let lines = flags.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(flags.stdout)")
        #expect(lines.contains { $0.contains("\\Flagged") }, "\(flags.stdout)")
    }

    @Test func stalctlManagesTheDirectoryThroughTheAPI() async throws {
        let t = try await TestNode(accounts: [])
        defer { Task { await t.stop() } }
        let stalctl = TestPaths.executable("stalctl")
        let env = ["STAL_DATA": t.dataDirectory]
        let add = try await runProcess(stalctl, ["domain", "add", "second.test"], environment: env)
        #expect(add.status == 0, "\(add.stderr)")
        let duplicate = try await runProcess(stalctl, ["domain", "add", "second.test"], environment: env)
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("second.test"), "\(duplicate.stderr)")
        let account = try await runProcess(stalctl, ["account", "add", "dave@second.test"], stdin: "a sufficiently long one\n", environment: env)
        #expect(account.status == 0, "\(account.stderr)")
        let unknownDomain = try await runProcess(stalctl, ["account", "add", "eve@nowhere.test", "--account-password", "another long one"], environment: env)
        #expect(unknownDomain.status == 1, "\(unknownDomain.stderr)")
        let weak = try await runProcess(stalctl, ["account", "add", "frank@second.test", "--account-password", "short"], environment: env)
        #expect(weak.status == 1)
        let list = try await runProcess(stalctl, ["account", "list"], environment: env)
        #expect(list.stdout.contains("dave@second.test"))
        let alias = try await runProcess(stalctl, ["alias", "add", "info@second.test", "dave@second.test"], environment: env)
        #expect(alias.status == 0, "\(alias.stderr)")
        let aliases = try await runProcess(stalctl, ["alias", "list"], environment: env)
        #expect(aliases.stdout.contains("info@second.test\tdave@second.test"))
        let badCredential = try await runProcess(stalctl, ["domain", "list", "--password", "wrong"], environment: env)
        #expect(badCredential.status == 3)
        let login = try await mailClient(["login", "--port", "\(t.port(.imap))", "--user", "dave@second.test", "--password", "a sufficiently long one"])
        #expect(login.stdout == "OK\n", "\(login.stdout)")
    }
}

/// Malformed and hostile input: a clear protocol error, and the session goes on.
@Suite(.serialized) struct BadInputTests {
    @Test func overlongSMTPLineGets500AndTheSessionContinues() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let port = t.port(.smtp)
        let replies = try await blocking { () -> [String] in
            let c = try RawClient(port: port)
            let greeting = c.readLine() ?? ""
            c.send("EHLO " + String(repeating: "x", count: 10_000) + "\r\n")
            let tooLong = c.readLine() ?? ""
            c.send("NOOP\r\n")
            return [greeting, tooLong, c.readLine() ?? ""]
        }
        #expect(replies[0].hasPrefix("220"))
        #expect(replies[1].hasPrefix("500 5.5.2"), "\(replies[1])")
        #expect(replies[2].hasPrefix("250"), "\(replies[2])")
    }

    @Test func bareLineFeedsNeverEndData() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let port = t.port(.smtp)
        let replies = try await blocking { () -> [String] in
            let c = try RawClient(port: port)
            _ = c.readLine()
            c.send("EHLO client.test\r\n")
            _ = c.readUntil(prefix: "250 ")
            c.send("MAIL FROM:<a@elsewhere.test>\r\n")
            var out = [c.readLine() ?? ""]
            c.send("RCPT TO:<alice@example.test>\r\n")
            out.append(c.readLine() ?? "")
            c.send("DATA\r\n")
            out.append(c.readLine() ?? "")
            // A smuggling attempt: "\n.\n" and "\r.\r" must not end the data.
            c.send("Subject: smuggle\r\n\r\nbody\n.\nMAIL FROM:<evil@elsewhere.test>\r\nmore\r.\rstill data\r\n.\r\n")
            out.append(c.readLine() ?? "")
            c.send("QUIT\r\n")
            out.append(c.readLine() ?? "")
            return out
        }
        #expect(replies[0].hasPrefix("250"))
        #expect(replies[1].hasPrefix("250"))
        #expect(replies[2].hasPrefix("354"))
        let reply = replies[3]
        // Either refused as a whole (bare LF policy) or stored as one message; never split
        // into a second transaction.
        #expect(reply.hasPrefix("250") || reply.hasPrefix("5"), "\(reply)")
        #expect(replies[4].hasPrefix("221"), "\(replies[4])")
        let count = try await mailClient(["count", "--port", "\(t.port(.imap))", "--user", "alice@example.test", "--password", TestNode.password])
        #expect(count.stdout.contains(reply.hasPrefix("250") ? "MESSAGES 1" : "MESSAGES 0"), "\(count.stdout)")
    }

    @Test func oversizedIMAPLiteralIsRefusedWithoutContinuation() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let port = t.port(.imap)
        let replies = try await blocking { () -> [String] in
            let c = try RawClient(port: port)
            var out = [c.readLine() ?? ""]
            c.send("a1 LOGIN alice@example.test \"\(TestNode.password)\"\r\n")
            out.append(c.readUntil(prefix: "a1 ").last ?? "")
            c.send("a2 APPEND INBOX {999999999999}\r\n")
            out.append(c.readUntil(prefix: "a2 ").last ?? "")
            c.send("a3 NOOP\r\n")
            out.append(c.readUntil(prefix: "a3 ").last ?? "")
            return out
        }
        #expect(replies[0].hasPrefix("* OK"))
        #expect(replies[1].hasPrefix("a1 OK"), "\(replies[1])")
        #expect(replies[2].hasPrefix("a2 NO") || replies[2].hasPrefix("a2 BAD"), "\(replies[2])")
        #expect(replies[3].hasPrefix("a3 OK"), "\(replies[3])")
    }

    @Test func randomBytesGetBADAndTheSessionContinues() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        var junk: [UInt8] = []
        var state: UInt64 = 0x5EED
        for _ in 0..<300 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let b = UInt8(truncatingIfNeeded: state >> 33)
            junk.append(b == 10 || b == 13 || b == UInt8(ascii: "{") ? 0x41 : b)
        }
        let port = t.port(.imap)
        let line = junk + Array("\r\n".utf8)
        let replies = try await blocking { () -> [String] in
            let c = try RawClient(port: port)
            _ = c.readLine()
            c.send(line)
            let bad = c.readLine() ?? ""
            c.send("z9 CAPABILITY\r\n")
            return [bad, c.readUntil(prefix: "z9 ").last ?? ""]
        }
        #expect(replies[0].contains("BAD"), "\(replies[0])")
        #expect(replies[1].hasPrefix("z9 OK"), "\(replies[1])")
    }
}
