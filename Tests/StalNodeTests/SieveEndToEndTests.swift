import Foundation
import StalCore
import StalNode
import Testing

/// Users' Sieve scripts, stored with stalctl, run on mail delivered by smtplib over real
/// sockets; imaplib sees where it was filed and stalctl shows what went to the outbox.
@Suite(.serialized) struct SieveEndToEndTests {
    static func message(subject: String, extraHeaders: String = "") -> String {
        "From: Sender <sender@elsewhere.test>\r\nTo: alice@example.test, bob@example.test\r\nSubject: \(subject)\r\n"
            + "Message-ID: <\(subject.split(separator: " ").joined(separator: "."))@elsewhere.test>\r\n"
            + extraHeaders + "\r\nHello.\r\n"
    }

    static func file(_ text: String) -> String {
        let path = TestPaths.temporaryDirectory("sieve") + "/file"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    static let aliceScript = """
        require ["fileinto", "mailbox", "imap4flags", "copy"];
        if header :contains "list-id" "stal-dev" {
            fileinto :create :flags "\\\\Flagged" "Lists/Stal";
            stop;
        }
        if header :contains "subject" "urgent" {
            redirect :copy "alice-phone@elsewhere.test";
        }

        """

    @Test func stalctlStoresAScriptThatFiltersSMTPDelivery() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let stalctl = TestPaths.executable("stalctl")
        let env = ["STAL_DATA": t.dataDirectory]

        let broken = try await runProcess(stalctl, ["sieve", "put", "alice@example.test", "main",
                                                    Self.file("require \"fileinto\";\nfileinto \"a\" \"b\";\n")], environment: env)
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("2:"), "\(broken.stderr)")

        let put = try await runProcess(stalctl, ["sieve", "put", "alice@example.test", "main", Self.file(Self.aliceScript),
                                                 "--activate"], environment: env)
        #expect(put.status == 0, "\(put.stderr)")
        let spare = try await runProcess(stalctl, ["sieve", "put", "alice@example.test", "spare copy", "-"],
                                         stdin: "keep;\n", environment: env)
        #expect(spare.status == 0, "\(spare.stderr)")
        let list = try await runProcess(stalctl, ["sieve", "list", "alice@example.test"], environment: env)
        #expect(list.stdout == "main\tactive\nspare copy\n", "\(list.stdout) \(list.stderr)")
        let get = try await runProcess(stalctl, ["sieve", "get", "alice@example.test", "main"], environment: env)
        #expect(get.stdout == Self.aliceScript)
        let deleteActive = try await runProcess(stalctl, ["sieve", "delete", "alice@example.test", "main"], environment: env)
        #expect(deleteActive.status == 1 && deleteActive.stderr.contains("active"), "\(deleteActive.stderr)")

        let list1 = try await mailClient(["send", "--port", "\(t.port(.smtp))", "--from", "sender@elsewhere.test",
                                          "--to", "alice@example.test,bob@example.test",
                                          "--file", Self.file(Self.message(subject: "release", extraHeaders: "List-Id: <stal-dev.lists.test>\r\n"))])
        #expect(list1.stdout.contains("sent refused=0"), "\(list1.stdout) \(list1.stderr)")
        let urgent = try await mailClient(["send", "--port", "\(t.port(.smtp))", "--from", "sender@elsewhere.test",
                                           "--to", "alice@example.test", "--file", Self.file(Self.message(subject: "urgent call"))])
        #expect(urgent.stdout.contains("sent refused=0"), "\(urgent.stdout) \(urgent.stderr)")

        func count(_ user: String, _ mailbox: String) async throws -> String {
            try await mailClient(["count", "--port", "\(t.port(.imap))", "--user", "\(user)@example.test",
                                  "--password", TestNode.password, "--mailbox", mailbox]).stdout
        }
        #expect(try await count("alice", "Lists/Stal").contains("MESSAGES 1"))
        #expect(try await count("alice", "INBOX").contains("MESSAGES 1"))
        // bob has no script: the list mail is in his INBOX.
        #expect(try await count("bob", "INBOX").contains("MESSAGES 1"))
        let flags = try await mailClient(["flags", "--port", "\(t.port(.imap))", "--user", "alice@example.test",
                                          "--password", TestNode.password, "--mailbox", "Lists/Stal"])
        #expect(flags.stdout.contains("\\Flagged"), "\(flags.stdout)")

        let outbox = try await runProcess(stalctl, ["outbox", "list"], environment: env)
        let rows = outbox.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.count == 1, "\(outbox.stdout) \(outbox.stderr)")
        let row = try #require(rows.first)
        #expect(Array(row.dropFirst().prefix(4)) == ["alice@example.test", "redirect", "sender@elsewhere.test", "alice-phone@elsewhere.test"])
        let shown = try await runProcess(stalctl, ["outbox", "show", row[0]], environment: env)
        #expect(shown.stdout.hasPrefix("X-Sieve-Redirected-From: alice@example.test\r\n"), "\(shown.stdout)")
        #expect(shown.stdout.contains("Subject: urgent call\r\n"))
        let dropped = try await runProcess(stalctl, ["outbox", "delete", row[0]], environment: env)
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(try await runProcess(stalctl, ["outbox", "list"], environment: env).stdout.isEmpty)

        let off = try await runProcess(stalctl, ["sieve", "deactivate", "alice@example.test"], environment: env)
        #expect(off.status == 0, "\(off.stderr)")
        _ = try await mailClient(["send", "--port", "\(t.port(.smtp))", "--from", "sender@elsewhere.test", "--to", "alice@example.test",
                                  "--file", Self.file(Self.message(subject: "later", extraHeaders: "List-Id: <stal-dev.lists.test>\r\n"))])
        #expect(try await count("alice", "INBOX").contains("MESSAGES 2"))
    }

    /// RFC 5429: over LMTP a reject is that recipient's 550; over SMTP the message is refused
    /// at DATA when every recipient rejects it.
    @Test func rejectIsAProtocolRefusal() async throws {
        let t = try await TestNode()
        defer { Task { await t.stop() } }
        let stalctl = TestPaths.executable("stalctl")
        let env = ["STAL_DATA": t.dataDirectory]
        let put = try await runProcess(stalctl, ["sieve", "put", "bob@example.test", "main", "--activate",
                                                 Self.file("require \"reject\";\nreject \"I do not take mail from strangers.\";\n")],
                                       environment: env)
        #expect(put.status == 0, "\(put.stderr)")
        let file = Self.file(Self.message(subject: "hello"))
        let lmtp = try await mailClient(["lmtp", "--port", "\(t.port(.lmtp))", "--from", "sender@elsewhere.test",
                                         "--to", "alice@example.test,bob@example.test", "--file", file])
        #expect(lmtp.stdout == "bob@example.test 550\n", "\(lmtp.stdout) \(lmtp.stderr)")
        let smtp = try await mailClient(["send", "--port", "\(t.port(.smtp))", "--from", "sender@elsewhere.test",
                                         "--to", "bob@example.test", "--file", file])
        #expect(smtp.stdout == "data refused 550 5.7.1 I do not take mail from strangers.\n", "\(smtp.stdout) \(smtp.stderr)")
        let count = try await mailClient(["count", "--port", "\(t.port(.imap))", "--user", "bob@example.test",
                                          "--password", TestNode.password])
        #expect(count.stdout.contains("MESSAGES 0"), "\(count.stdout)")
        let alice = try await mailClient(["count", "--port", "\(t.port(.imap))", "--user", "alice@example.test",
                                          "--password", TestNode.password])
        #expect(alice.stdout.contains("MESSAGES 1"), "\(alice.stdout)")
    }
}
