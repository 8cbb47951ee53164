import StalCore
import StalSieve
import Testing

/// A host with answers for the extensions the Pigeonhole files do not cover.
struct RichHost: SieveHost {
    var seen: Set<String> = []
    var lists: [String: [String]] = [":addrbook:personal": ["friend@example.org", "alice@example.org"]]

    mutating func duplicateSeen(handle: String, id: String) -> Bool { seen.contains(handle + "|" + id) }
    func spamScore(percent: Bool) -> String? { percent ? "80" : "8" }
    func virusScore() -> String? { "1" }
    func externalListContains(list: String, value: String) -> Bool? { lists[list].map { $0.contains(value.lowercased()) } }
    func externalListMembers(list: String) -> [String]? { lists[list] }
    mutating func mailboxExists(_ name: String) -> Bool { name == "Existing" }
    mutating func convert(_ content: [UInt8], from: String, to: String, parameters: [String]) -> [UInt8]? {
        from == "application/pdf" && to == "text/plain" ? Array("converted \(content.count) bytes".utf8) : nil
    }
    func environment(_ name: String) -> String? { name == "imap.cause" ? "FLAG" : nil }
    func serverMetadata(name: String) -> String? { name == "/shared/admin" ? "mailto:admin@example.org" : nil }
}

let multipartMessage = """
From: alice@example.org\r
To: bob@example.com\r
Subject: Report\r
Message-ID: <m1@example.org>\r
Content-Type: multipart/mixed; boundary="b1"\r
\r
--b1\r
Content-Type: text/plain; charset=utf-8\r
\r
See attached.\r
--b1\r
Content-Type: application/pdf; name="q3.pdf"\r
Content-Disposition: attachment; filename="q3.pdf"\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQK\r
--b1--\r

"""

@Suite("Extensions beyond the Pigeonhole set")
struct SieveExtensionTests {
    @Test("duplicate: first delivery is new and asks to be tracked, a seen id is a duplicate")
    func duplicate() throws {
        let script = "require [\"duplicate\", \"fileinto\"]; if duplicate { fileinto \"Dups\"; }"
        let first = try run(script, host: RichHost())
        #expect(first.actions.contains(.trackDuplicate(handle: "", id: "<report-1@example.org>", seconds: 7 * 86400)))
        #expect(first.actions.contains(.keep(flags: nil)))
        let second = try run(script, host: RichHost(seen: ["|<report-1@example.org>"]))
        #expect(second.actions.map(\.name) == ["store"])
    }

    @Test("spamtest, spamtestplus :percent and virustest read the host's verdicts")
    func spamtest() throws {
        let script = """
        require ["spamtestplus", "virustest", "relational", "comparator-i;ascii-numeric", "fileinto"];
        if allof (spamtest :value "ge" :comparator "i;ascii-numeric" "5",
                  spamtest :percent :value "eq" :comparator "i;ascii-numeric" "80",
                  virustest :value "eq" :comparator "i;ascii-numeric" "1") { fileinto "Junk"; }
        """
        #expect(try run(script, host: RichHost()).actions.map(\.name) == ["store"])
    }

    @Test("extlists: :list matching, valid_ext_list and redirect :list")
    func extlists() throws {
        let script = """
        require ["extlists", "fileinto"];
        if allof (address :list "from" ":addrbook:personal", valid_ext_list ":addrbook:personal",
                  not valid_ext_list ":unknown") { redirect :list ":addrbook:personal"; }
        """
        let outcome = try run(script, message: sampleMessage.replacingFirstFrom("alice@example.org"), host: RichHost())
        #expect(outcome.actions.map(\.name) == ["redirect", "redirect"])
    }

    @Test("enotify: notify action with importance and method checks")
    func enotify() throws {
        let script = """
        require ["enotify"];
        if allof (valid_notify_method "mailto:ops@example.org", not valid_notify_method "xmpp:ops@example.org",
                  notify_method_capability "mailto:ops@example.org" "online" "maybe") {
            notify :importance "1" :message "urgent" "mailto:ops@example.org";
        }
        """
        let outcome = try run(script)
        guard case .notify(let n) = outcome.actions.first else { Issue.record("no notify"); return }
        #expect(n.importance == 1)
        #expect(n.message == "urgent")
        #expect(outcome.actions.last == .keep(flags: nil))
    }

    @Test("foreverypart and header :mime see each part; break leaves the loop")
    func foreverypart() throws {
        let script = """
        require ["foreverypart", "mime", "fileinto", "variables", "extracttext"];
        foreverypart {
            if header :mime :param "filename" :matches "Content-Disposition" "*.pdf" {
                fileinto "Documents";
                break;
            }
            if header :mime :type "Content-Type" "text" { extracttext "first"; }
        }
        if string :is "${first}" "See attached." { addheader "X-Seen" "text"; }
        if exists "X-Seen" { keep; }
        """
        let outcome = try run("require \"editheader\";" + script.replacingOccurrences("require [", "require [\"editheader\", "), message: multipartMessage)
        #expect(outcome.error == nil)
        #expect(outcome.actions.map(\.name) == ["store", "keep"])
    }

    @Test("replace and enclose rebuild the message")
    func replaceEnclose() throws {
        let replaced = try run("require [\"replace\", \"body\"]; replace :subject \"Cleaned\" \"Removed\"; if body :contains \"Removed\" { discard; }",
                               message: multipartMessage)
        #expect(replaced.actions == [.discard])
        #expect(replaced.context.message.headerValues("subject") == ["Cleaned"])
        let enclosed = try run("require [\"enclose\", \"body\"]; enclose :subject \"Warning\" \"Look out\"; if body :content \"message/rfc822\" :contains \"Report\" { discard; }",
                               message: multipartMessage)
        #expect(enclosed.actions == [.discard])
        #expect(enclosed.context.message.headerValues("subject") == ["Warning"])
    }

    @Test("replace inside foreverypart swaps one part and keeps the others")
    func replacePart() throws {
        let script = """
        require ["foreverypart", "mime", "replace", "body"];
        foreverypart {
            if header :mime :subtype "Content-Type" "pdf" { replace "attachment removed"; }
        }
        if allof (body :text :contains "attachment removed", body :text :contains "See attached") { discard; }
        """
        let outcome = try run(script, message: multipartMessage)
        #expect(outcome.error == nil)
        #expect(outcome.actions == [.discard])
        #expect(!outcome.context.message.parts.contains { $0.contentType == "application/pdf" })
        #expect(outcome.context.message.headerValues("subject") == ["Report"])
    }

    @Test("convert asks the host and replaces the converted parts; impossible conversions change nothing")
    func convert() throws {
        let script = """
        require ["convert", "body"];
        if convert "application/pdf" "text/plain" ["pix-x=100"] { if body :text :contains "converted 9 bytes" { discard; } }
        """
        let outcome = try run(script, message: multipartMessage, host: RichHost())
        #expect(outcome.error == nil)
        #expect(outcome.actions == [.discard])
        let impossible = try run("require \"convert\"; if convert \"application/pdf\" \"image/png\" [\"q=1\"] { discard; }", message: multipartMessage, host: RichHost())
        #expect(impossible.actions == [.keep(flags: nil)])
        #expect(impossible.context.message.parts.contains { $0.contentType == "application/pdf" })
    }

    @Test("mailbox, servermetadata and environment answers come from the host")
    func hostAnswers() throws {
        let script = """
        require ["mailbox", "servermetadata", "environment", "fileinto"];
        if allof (mailboxexists "Existing", not mailboxexists "Missing",
                  servermetadata :is "/shared/admin" "mailto:admin@example.org",
                  environment :is "imap.cause" "FLAG", environment :is "name" "Stal Sieve") {
            fileinto :create "Existing";
        }
        """
        let outcome = try run(script, host: RichHost())
        guard case .fileInto(let f) = outcome.actions.first else { Issue.record("no fileinto"); return }
        #expect(f.create)
    }

    @Test("vacation reply: headers, null sender, and no reply to lists")
    func vacationReply() throws {
        let executor = SieveResultExecutor(policy: SieveDeliveryPolicy(), now: testNow, messageIDSeed: "t")
        let vacation = SieveVacation(reason: "Away", subject: nil, from: nil, addresses: [], isMIME: false, handle: "h",
                                     periodSeconds: 86400, fcc: nil)
        let message = SieveMIMEMessage(sampleMessage)
        let envelope = SieveEnvelope(from: "alice@example.org", to: "bob@example.com")
        let execution = executor.execute([.vacation(vacation)], message: message, envelope: envelope)
        let reply = try #require(execution.outgoing.first)
        #expect(reply.envelopeFrom == "")
        #expect(reply.envelopeTo == "alice@example.org")
        let parsed = SieveMIMEMessage(reply.text)
        #expect(parsed.headerValues("subject") == ["Auto: Quarterly report"])
        #expect(parsed.headerValues("in-reply-to") == ["<report-1@example.org>"])
        #expect(parsed.headerValues("auto-submitted") == ["auto-replied (vacation)"])
        let list = SieveMIMEMessage("List-Id: <x.example.org>\r\n" + sampleMessage)
        #expect(executor.execute([.vacation(vacation)], message: list, envelope: envelope).outgoing.isEmpty)
        #expect(executor.execute([.vacation(vacation)], message: message, envelope: SieveEnvelope(from: "", to: "bob@example.com")).outgoing.isEmpty)
    }

    @Test("vacation :fcc files a copy of the reply")
    func vacationFcc() throws {
        let outcome = try run("require [\"vacation\", \"fcc\", \"mailbox\"]; vacation :fcc \"Sent\" :create \"Away\";")
        let executor = SieveResultExecutor(policy: SieveDeliveryPolicy(), now: testNow, messageIDSeed: "t")
        let execution = executor.execute(outcome.actions, message: SieveMIMEMessage(sampleMessage),
                                         envelope: SieveEnvelope(from: "alice@example.org", to: "bob@example.com"))
        #expect(execution.outgoing.count == 1)
        #expect(execution.stores.map(\.mailbox).sorted() == ["INBOX", "Sent"])
        #expect(execution.stores.first { $0.mailbox == "Sent" }?.create == true)
    }

    @Test("notify mailto: becomes a notification mail")
    func notifyMail() throws {
        let outcome = try run("require \"enotify\"; notify :importance \"1\" :message \"New report\" \"mailto:ops@example.org?subject=Mail%20in\";")
        let executor = SieveResultExecutor(policy: SieveDeliveryPolicy(), now: testNow, messageIDSeed: "t")
        let execution = executor.execute(outcome.actions, message: SieveMIMEMessage(sampleMessage),
                                         envelope: SieveEnvelope(from: "alice@example.org", to: "bob@example.com"))
        let mail = try #require(execution.outgoing.first)
        #expect(mail.envelopeTo == "ops@example.org")
        #expect(mail.envelopeFrom == "")
        let parsed = SieveMIMEMessage(mail.text)
        #expect(parsed.headerValues("subject") == ["Mail in"])
        #expect(parsed.headerValues("auto-submitted") == ["auto-notified"])
        #expect(parsed.parts[0].decodedText?.contains("New report") == true)
    }

    @Test("redirect adds the loop marker and a looped message is not sent again")
    func redirectLoop() {
        let executor = SieveResultExecutor(policy: SieveDeliveryPolicy(), now: testNow, messageIDSeed: "t")
        let envelope = SieveEnvelope(from: "alice@example.org", to: "bob@example.com")
        let redirect = SieveAction.redirect(SieveRedirect(address: "carol@example.net", copy: false))
        let first = executor.execute([redirect], message: SieveMIMEMessage(sampleMessage), envelope: envelope)
        #expect(first.outgoing.count == 1)
        let looped = SieveMIMEMessage(first.outgoing[0].text)
        #expect(executor.execute([redirect], message: looped, envelope: envelope).outgoing.isEmpty)
    }

    @Test("untrusted scripts cannot require administrator capabilities")
    func profiles() {
        let untrusted = SieveRuntimeOptions.untrusted(now: testNow).compileOptions
        #expect(throws: SieveCompileError.self) { try SieveCompiler.compile("require \"servermetadata\";", options: untrusted) }
        #expect(throws: Never.self) { try SieveCompiler.compile("require \"servermetadata\";", options: SieveRuntimeOptions.trusted(now: testNow).compileOptions) }
    }
}

extension String {
    func replacingFirstFrom(_ address: String) -> String {
        var lines = split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let i = lines.firstIndex(where: { $0.hasPrefix("From:") }) { lines[i] = "From: \(address)" }
        return lines.joined(separator: "\n")
    }

    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
