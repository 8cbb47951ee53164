import StalCore
import StalDeterminism
import StalMailStore
import StalShardLog
import StalStorage
import Testing

private let alice = EmailAddress("alice@example.org")!
private let bob = EmailAddress("bob@example.org")!
private let sender = EmailAddress("carol@example.net")!

private func mail(subject: String, from: String = "carol@example.net", to: String = "alice@example.org",
                  extraHeaders: String = "") -> [UInt8] {
    Array(("From: <\(from)>\r\nTo: <\(to)>\r\nSubject: \(subject)\r\nMessage-ID: <\(subject.split(separator: " ").joined(separator: "."))@example.net>\r\n"
        + extraHeaders + "\r\nHello.\r\n").utf8)
}

/// Two accounts of one tenant: alice (the fixture's) and bob.
private func twoAccounts(seed: UInt64 = 1) async throws -> (StoreFixture, AccountID) {
    let f = try await StoreFixture.withAccount(seed: seed)
    let other = AccountID(rawValue: 2002)
    try await f.store.createAccount(other, tenant: f.tenant)
    return (f, other)
}

extension StoreFixture {
    func filtered(_ bytes: [UInt8], from: EmailAddress? = sender, to recipients: [FilteredRecipient]? = nil,
                  policy: SieveRejectPolicy = .wholeMessage) async throws -> [FilteredDeliveryOutcome] {
        try await store.deliverFiltered(bytes, envelopeFrom: from,
                                        recipients: recipients ?? [FilteredRecipient(account: account, address: alice)],
                                        rejectPolicy: policy, hostname: "mx.example.org")
    }

    func contents(_ mailbox: String, of account: AccountID? = nil) async throws -> [[UInt8]] {
        let owner = account ?? self.account
        guard let box = try store.mailbox(owner, named: mailbox) else { return [] }
        var out: [[UInt8]] = []
        for m in try store.messages(owner, mailbox: box.id) { out.append(try await store.readBlob(account: owner, m.blobID)) }
        return out
    }
}

@Suite struct SieveScriptStorageTests {
    @Test func scriptsAreStoredActivatedAndDeleted() async throws {
        let f = try await StoreFixture.withAccount()
        await #expect(throws: StalError(.invalidArgument, "2:1: unknown command 'fileinto' (only reported once at first occurrence)")) {
            try await f.store.putSieveScript(f.account, name: "bad", content: "keep;\nfileinto \"x\";\n")
        }
        await #expect(throws: StalError.self) { try await f.store.putSieveScript(f.account, name: "a/b", content: "keep;") }
        try await f.store.putSieveScript(f.account, name: "main", content: "keep;")
        try await f.store.putSieveScript(f.account, name: "other", content: "discard;", activate: true)
        var scripts = try f.store.sieveScripts(f.account)
        #expect(scripts.map(\.name) == ["main", "other"])
        #expect(scripts.map(\.isActive) == [false, true])
        #expect(try f.store.sieveScript(f.account, name: "other") == "discard;")

        await #expect(throws: StalError(.conflict, "Sieve script other is active; deactivate it first")) {
            try await f.store.deleteSieveScript(f.account, name: "other")
        }
        try await f.store.activateSieveScript(f.account, name: "main")
        try await f.store.deleteSieveScript(f.account, name: "other")
        await #expect(throws: StalError(.notFound, "no Sieve script nothing")) {
            try await f.store.activateSieveScript(f.account, name: "nothing")
        }
        try await f.store.activateSieveScript(f.account, name: nil)
        scripts = try f.store.sieveScripts(f.account)
        #expect(scripts.map(\.name) == ["main"] && scripts[0].isActive == false)

        let before = scripts[0].version
        try await f.store.putSieveScript(f.account, name: "main", content: "stop;")
        #expect(try f.store.sieveScripts(f.account)[0].version != before)
        f.store.shutdown()
    }

    @Test func deletingTheAccountDeletesItsScripts() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: "keep;", activate: true)
        try await f.store.deleteAccount(f.account)
        try await f.store.createAccount(f.account, tenant: f.tenant)
        #expect(try f.store.sieveScripts(f.account).isEmpty)
        f.store.shutdown()
    }

    @Test func oversizedScriptIsRefusedBeforeTheLog() async throws {
        let f = try await StoreFixture.withAccount()
        let huge = "keep;" + String(repeating: " ", count: MailStore.sieveScriptOctetsMax)
        await #expect(throws: StalError(.limitExceeded, "Sieve script of \(huge.utf8.count) octets over \(MailStore.sieveScriptOctetsMax)")) {
            try await f.store.putSieveScript(f.account, name: "main", content: huge)
        }
        #expect(try f.store.sieveScripts(f.account).isEmpty)
        f.store.shutdown()
    }
}

@Suite struct SieveDeliveryTests {
    @Test func withoutAScriptEveryRecipientGetsInbox() async throws {
        let (f, other) = try await twoAccounts()
        let outcomes = try await f.filtered(mail(subject: "plain"), to: [
            FilteredRecipient(account: f.account, address: alice), FilteredRecipient(account: other, address: bob),
            FilteredRecipient(account: f.account, address: EmailAddress("alice+x@example.org")!),
        ])
        #expect(outcomes.count == 3)
        guard case let .delivered(a) = outcomes[0], case let .delivered(b) = outcomes[1] else {
            Issue.record("not delivered: \(outcomes)")
            return
        }
        #expect(a.count == 1 && b.count == 1)
        #expect(outcomes[2] == outcomes[0])
        #expect(try await f.contents("INBOX") == [mail(subject: "plain")])
        #expect(try await f.contents("INBOX", of: other) == [mail(subject: "plain")])
        f.store.shutdown()
    }

    @Test func fileintoCreatesTheMailboxAndSetsFlags() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: """
            require ["fileinto", "mailbox", "imap4flags"];
            if header :contains "subject" "report" {
                fileinto :create :flags ["\\\\Flagged", "$Report"] "Reports/Daily";
            } elsif header :contains "subject" "missing" {
                fileinto "Nowhere";
            }
            """, activate: true)
        _ = try await f.filtered(mail(subject: "daily report"))
        _ = try await f.filtered(mail(subject: "weekly report"))
        _ = try await f.filtered(mail(subject: "to a missing mailbox"))
        _ = try await f.filtered(mail(subject: "ordinary"))

        #expect(try await f.contents("Reports/Daily") == [mail(subject: "daily report"), mail(subject: "weekly report")])
        let reports = try #require(try f.store.mailbox(f.account, named: "Reports/Daily"))
        #expect(try f.store.messages(f.account, mailbox: reports.id).allSatisfy { $0.keywords == [.flagged, Keyword("$report")] })
        // A missing mailbox without :create keeps the message in INBOX (RFC 5228 §4.1).
        #expect(try await f.contents("INBOX") == [mail(subject: "to a missing mailbox"), mail(subject: "ordinary")])
        #expect(try f.store.outboxEntries().isEmpty)
        f.store.shutdown()
    }

    @Test func discardStoresNothing() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: "discard;", activate: true)
        #expect(try await f.filtered(mail(subject: "spam")) == [.delivered([])])
        #expect(try await f.contents("INBOX").isEmpty)
        f.store.shutdown()
    }

    @Test func redirectGoesToTheOutboxAndCopyKeeps() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: """
            require "copy";
            if header :contains "subject" "copy" { redirect :copy "archive@example.com"; }
            else { redirect "phone@example.com"; }
            """, activate: true)
        _ = try await f.filtered(mail(subject: "copy me"))
        _ = try await f.filtered(mail(subject: "forward me"))
        #expect(try await f.contents("INBOX") == [mail(subject: "copy me")])

        let outbox = try f.store.outboxEntries()
        #expect(outbox.map(\.envelopeTo) == ["archive@example.com", "phone@example.com"])
        #expect(outbox.allSatisfy { $0.reason == .redirect && $0.envelopeFrom == "carol@example.net" && $0.account == f.account })
        #expect(outbox[1].message == Array("X-Sieve-Redirected-From: alice@example.org\r\n".utf8) + mail(subject: "forward me"))

        try await f.store.removeOutboxEntries([outbox[0].id, 999])
        #expect(try f.store.outboxEntries().map(\.id) == [outbox[1].id])
        #expect(try f.store.outboxEntry(outbox[1].id) == outbox[1])
        f.store.shutdown()
    }

    @Test func vacationAnswersEachSenderOncePerPeriod() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: """
            require "vacation";
            vacation :days 1 :addresses "alice@example.org" :subject "Away" "Back on Monday.";
            """, activate: true)
        _ = try await f.filtered(mail(subject: "first"))
        _ = try await f.filtered(mail(subject: "second"))
        var outbox = try f.store.outboxEntries()
        #expect(outbox.count == 1)
        #expect(outbox[0].reason == .vacation && outbox[0].envelopeFrom == "" && outbox[0].envelopeTo == "carol@example.net")
        let reply = String(decoding: outbox[0].message, as: UTF8.self)
        #expect(reply.contains("Subject: Away\r\n") && reply.contains("Back on Monday.") && reply.contains("Auto-Submitted: auto-replied"))
        #expect(zip([0] + outbox[0].message, outbox[0].message).allSatisfy { $1 != 0x0A || $0 == 0x0D })

        // Automatic mail gets no reply (RFC 5230 §5).
        _ = try await f.filtered(mail(subject: "bounce", from: "daemon@example.net", extraHeaders: "Auto-Submitted: auto-replied\r\n"),
                                 from: EmailAddress("daemon@example.net")!)
        #expect(try f.store.outboxEntries().count == 1)

        f.clock.advance(milliseconds: 86_401_000)
        _ = try await f.filtered(mail(subject: "third"))
        outbox = try f.store.outboxEntries()
        #expect(outbox.count == 2)
        #expect(try await f.contents("INBOX").count == 4)
        f.store.shutdown()
    }

    /// Response memory is keyed `R` (by account and digest) and indexed `E` (by expiry) in
    /// the state family; a later delivery deletes what has expired.
    @Test func expiredVacationMemoryIsDeleted() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: """
            require "vacation"; vacation :days 1 :addresses "alice@example.org" "Away.";
            """, activate: true)
        func records(_ tag: Character) throws -> Int {
            try f.engine.scan(.state, prefix: [tag.asciiValue!]).count
        }
        for who in ["a", "b", "c"] {
            _ = try await f.filtered(mail(subject: "from \(who)", from: "\(who)@example.net"), from: EmailAddress("\(who)@example.net")!)
        }
        #expect(try records("R") == 3 && records("E") == 3)
        f.clock.advance(milliseconds: 2 * 86_400_000)
        _ = try await f.filtered(mail(subject: "from d", from: "d@example.net"), from: EmailAddress("d@example.net")!)
        #expect(try records("R") == 1 && records("E") == 1)
        #expect(try f.store.outboxEntries().count == 4)
        f.store.shutdown()
    }

    @Test func rejectIsPerRecipientOnLMTP() async throws {
        let (f, other) = try await twoAccounts()
        try await f.store.putSieveScript(f.account, name: "main", content: """
            require "reject"; reject "No thanks.";
            """, activate: true)
        let recipients = [FilteredRecipient(account: f.account, address: alice), FilteredRecipient(account: other, address: bob)]
        let outcomes = try await f.filtered(mail(subject: "offer"), to: recipients, policy: .perRecipient)
        #expect(outcomes[0] == .rejected(reason: "No thanks."))
        guard case .delivered(let stored) = outcomes[1] else {
            Issue.record("bob's copy: \(outcomes[1])")
            return
        }
        #expect(stored.count == 1)
        #expect(try await f.contents("INBOX").isEmpty)
        #expect(try f.store.outboxEntries().isEmpty)
        f.store.shutdown()
    }

    /// On SMTP one reply covers every recipient: a reject refuses the message only when every
    /// recipient rejects; otherwise the rejecting recipient's notice goes to the outbox.
    @Test func rejectOnSMTPRefusesOnlyWhenEveryRecipientRejects() async throws {
        let (f, other) = try await twoAccounts()
        let script = "require \"reject\"; reject \"No thanks.\";"
        try await f.store.putSieveScript(f.account, name: "main", content: script, activate: true)
        let both = [FilteredRecipient(account: f.account, address: alice), FilteredRecipient(account: other, address: bob)]

        let mixed = try await f.filtered(mail(subject: "mixed"), to: both)
        #expect(mixed[0] == .delivered([]))
        guard case .delivered(let bobs) = mixed[1] else {
            Issue.record("bob's copy: \(mixed[1])")
            return
        }
        #expect(bobs.count == 1)
        let notices = try f.store.outboxEntries()
        #expect(notices.count == 1)
        #expect(notices[0].reason == .reject && notices[0].envelopeFrom == "" && notices[0].envelopeTo == "carol@example.net")
        #expect(String(decoding: notices[0].message, as: UTF8.self).contains("No thanks."))

        try await f.store.putSieveScript(other, name: "main", content: script, activate: true)
        let all = try await f.filtered(mail(subject: "all"), to: both)
        #expect(all == [.rejected(reason: "No thanks."), .rejected(reason: "No thanks.")])
        #expect(try f.store.outboxEntries().count == 1)
        #expect(try await f.contents("INBOX", of: other).count == 1)
        f.store.shutdown()
    }

    @Test func eachRecipientRunsItsOwnScriptWithItsOwnAddress() async throws {
        let (f, other) = try await twoAccounts()
        try await f.store.putSieveScript(f.account, name: "main", content: """
            require ["envelope", "subaddress", "fileinto", "mailbox"];
            if envelope :detail "to" "lists" { fileinto :create "Lists"; }
            """, activate: true)
        try await f.store.putSieveScript(other, name: "main", content: """
            require ["fileinto", "mailbox"]; fileinto :create "Bob";
            """, activate: true)
        _ = try await f.filtered(mail(subject: "hello"), to: [
            FilteredRecipient(account: f.account, address: EmailAddress("alice+lists@example.org")!),
            FilteredRecipient(account: other, address: bob),
        ])
        #expect(try await f.contents("Lists").count == 1)
        #expect(try await f.contents("INBOX").isEmpty)
        #expect(try await f.contents("Bob", of: other).count == 1)
        f.store.shutdown()
    }

    @Test func editheaderChangesTheStoredCopy() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: """
            require "editheader"; addheader "X-Filtered" "yes";
            """, activate: true)
        _ = try await f.filtered(mail(subject: "tagged"))
        #expect(try await f.contents("INBOX") == [Array("X-Filtered: yes\r\n".utf8) + mail(subject: "tagged")])
        f.store.shutdown()
    }

    /// Limits stop a script with an error, and the message is kept as it arrived, with none
    /// of the script's actions.
    static let limitBreakers = [
        "a thousand redirects": "require \"editheader\"; addheader \"X-Early\" \"1\"; "
            + (0..<1000).map { "redirect \"r\($0)@example.com\"; " }.joined(),
        "a variable doubled 40 times": "require \"variables\"; set \"a\" \"0123456789abcdef\"; "
            + String(repeating: "set \"a\" \"${a}${a}\"; ", count: 40),
    ]

    @Test(arguments: limitBreakers.keys.sorted())
    func exceededLimitsKeepTheMessageUnchanged(_ breaker: String) async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: Self.limitBreakers[breaker]!, activate: true)
        #expect(try await f.filtered(mail(subject: "kept")).count == 1)
        let inbox = try await f.contents("INBOX")
        #expect(inbox == [mail(subject: "kept")], "\(inbox.map { String(decoding: $0, as: UTF8.self) })")
        let outbox = try f.store.outboxEntries()
        #expect(outbox.isEmpty, "\(outbox.count) outbox entries")
        f.store.shutdown()
    }

    @Test func duplicateTracksMessageIDs() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.putSieveScript(f.account, name: "main", content: """
            require ["duplicate", "fileinto", "mailbox"];
            if duplicate { fileinto :create "Duplicates"; }
            """, activate: true)
        _ = try await f.filtered(mail(subject: "once"))
        _ = try await f.filtered(mail(subject: "once"))
        #expect(try await f.contents("INBOX").count == 1)
        #expect(try await f.contents("Duplicates").count == 1)
        f.store.shutdown()
    }
}

/// The stored message and its outbox entries are one log entry: after a power cut at any
/// point, each acknowledged delivery has both, and no state has one without the other.
@Suite struct SieveDeliveryCrashTests {
    @Test(arguments: [0, 1, 3, 7, 1000])
    func storeAndOutboxSurviveTogether(_ keptUnsynced: Int) async throws {
        let engine = MemoryEngine(tracksDurability: true)
        let clock = ManualClock()
        let account = AccountID(rawValue: 7)
        var store = try MailStore.local(engine: engine, blobs: MemoryBlobStore(), clock: clock, random: SeededRandom(seed: 3))
        try await store.createAccount(account, tenant: TenantID(rawValue: 1))
        try await store.putSieveScript(account, name: "main", content: "require \"copy\"; redirect :copy \"x@example.com\";",
                                       activate: true)
        for i in 0..<20 {
            _ = try await store.deliverFiltered(mail(subject: "n\(i)"), envelopeFrom: sender,
                                                recipients: [FilteredRecipient(account: account, address: alice)],
                                                rejectPolicy: .perRecipient, hostname: "mx.example.org")
        }
        store.shutdown()
        engine.crash(keepingUnsynced: keptUnsynced)
        store = try MailStore.local(engine: engine, blobs: MemoryBlobStore(), clock: clock, random: SeededRandom(seed: 4))
        let inbox = try #require(try store.mailbox(account, named: "INBOX"))
        #expect(try store.messages(account, mailbox: inbox.id).count == 20)
        let outbox = try store.outboxEntries()
        #expect(outbox.count == 20)
        #expect(Set(outbox.map { String(decoding: $0.message, as: UTF8.self).components(separatedBy: "Subject: ")[1].prefix(3) }).count == 20)
        store.shutdown()
    }
}
