import StalCore
import Testing
@testable import StalMIME

@Suite struct BuilderTests {
    static let date = CivilDateTime(year: 2026, month: 11, day: 25, hour: 1, minute: 2, second: 3, utcOffsetMinutes: 60)

    static func sample() -> MessageBuilder {
        var b = MessageBuilder(body: .multipart(subtype: "mixed", parts: [
            .multipart(subtype: "alternative", parts: [
                .text("Grüße aus Köln\nzweite Zeile\n"),
                .text("<p>Grüße</p>", subtype: "html"),
            ]),
            .binary(Array(0...255), type: "application", subtype: "octet-stream", filename: "résumé final.pdf"),
            .message(crlf("From: x@y.z\nSubject: inner\n\nbody\n")),
        ]))
        b.add("From", addresses: [MailAddress(name: "Jörg Müller", address: "joerg@example.com")])
        b.add("To", addresses: (1...8).map { MailAddress(name: "Recipient \($0), Esq.", address: "r\($0)@example.org") })
        b.add("Subject", text: "Réunion demain à 10h — ordre du jour très long pour tester le pliage des en-têtes encodés")
        b.add("Date", date: Self.date)
        b.add("Message-ID", messageIds: ["abc@example.com"])
        return b
    }

    @Test func roundTrip() throws {
        let bytes = Self.sample().build(boundarySeed: 42)
        let m = MIMEMessage.parse(bytes)
        #expect(m.problems.isEmpty)
        #expect(m.text(named: "Subject") == "Réunion demain à 10h — ordre du jour très long pour tester le pliage des en-têtes encodés")
        let from = AddressParser.addresses(m.rawValue(try #require(m.field(named: "From"))))
        #expect(from == [MailAddress(name: "Jörg Müller", address: "joerg@example.com", rawName: from[0].rawName, localPart: "joerg", domain: "example.com")])
        let to = AddressParser.addresses(m.rawValue(try #require(m.field(named: "To"))))
        #expect(to.map(\.name) == (1...8).map { "Recipient \($0), Esq." })
        #expect(HeaderValue.date(m.rawValue(try #require(m.field(named: "Date")))) == Self.date)
        let lists = m.jmapBodyLists()
        #expect(lists.textBody.map(\.type) == ["text/plain"])
        #expect(lists.htmlBody.map(\.type) == ["text/html"])
        #expect(lists.attachments.map(\.name) == ["résumé final.pdf", nil])
        #expect(m.jmapBodyValue(part: lists.textBody[0].part).value == "Grüße aus Köln\r\nzweite Zeile\r\n")
        #expect(m.decodedBody(of: lists.attachments[0].part).bytes == Array(0...255))
        #expect(text(m.section(path: [3], .header)) == "From: x@y.z\r\nSubject: inner\r\n\r\n")
        // Every header line stays within 78 characters.
        let header = String(decoding: bytes[m.root.headerRange], as: UTF8.self)
        #expect(header.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 78 })
    }

    @Test func longNonASCIIFilenameUsesContinuations() throws {
        let filename = String(repeating: "Überweisungsbestätigung für März ", count: 12) + ".pdf"
        let b = MessageBuilder(body: .multipart(subtype: "mixed", parts: [.binary([1, 2, 3], type: "application", subtype: "pdf", filename: filename)]))
        let bytes = b.build(boundarySeed: 3)
        let m = MIMEMessage.parse(bytes)
        #expect(m.jmapBodyStructure(part: 1).name == filename)
        let long = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n").filter { $0.utf8.count > 78 }
        #expect(long.isEmpty, "\(long)")
    }

    @Test func deterministicForSeed() {
        #expect(Self.sample().build(boundarySeed: 7) == Self.sample().build(boundarySeed: 7))
        #expect(Self.sample().build(boundarySeed: 7) != Self.sample().build(boundarySeed: 8))
    }

    @Test func boundaryAvoidsContent() {
        var seed: UInt64 = 5
        let clash = MessageBuilder.nextToken(&seed)
        let b = MessageBuilder(body: .multipart(subtype: "mixed", parts: [.text("--\(clash)\n")]))
        let m = MIMEMessage.parse(b.build(boundarySeed: 5))
        #expect(m.parts.count == 2)
        #expect(m.decodedText(of: 1).text == "--\(clash)\r\n")
    }

    @Test func deliveryStatusNotification() throws {
        let original = crlf("From: a@b.c\nTo: nobody@example.org\nSubject: hi\n\nsecret body\n")
        let report = DeliveryStatusReport(
            reportingMTA: "mx.example.com", arrivalDate: Self.date,
            recipients: [.init(finalRecipient: "nobody@example.org", action: "failed", status: "5.1.1",
                               remoteMTA: "mx.example.org", diagnosticCode: "smtp; 550 5.1.1 user unknown")],
            humanReadable: "Your message could not be delivered.", original: original, returnHeadersOnly: true)
        var b = MessageBuilder(body: report.body)
        b.add("From", addresses: [MailAddress(name: "Mail Delivery System", address: "MAILER-DAEMON@example.com")])
        b.add("Subject", text: "Undelivered Mail Returned to Sender")
        let m = MIMEMessage.parse(b.build(boundarySeed: 1))
        #expect(m.root.contentType.mimeType == "multipart/report")
        #expect(m.root.contentType.parameter("report-type") == "delivery-status")
        #expect(m.parts[2].contentType.mimeType == "message/delivery-status")
        #expect(m.decodedText(of: 2).text.contains("Status: 5.1.1\r\n"))
        #expect(m.parts[3].contentType.mimeType == "text/rfc822-headers")
        #expect(!m.decodedText(of: 3).text.contains("secret body"))
    }
}

@Suite struct AutoReplyTests {
    @Test func vacationReplyThreadsOntoOriginal() throws {
        let original = MIMEMessage.parse(crlf("From: a@x\nSubject: Plans\nMessage-ID: <m2@x>\nReferences: <m1@x>\n\nhi\n"))
        let reply = MessageBuilder.autoReply(
            to: original, from: MailAddress(name: "Me", address: "me@y"), to: MailAddress(name: nil, address: "a@x"),
            subject: nil, text: "Away until Monday.", date: BuilderTests.date, messageId: "r1@y")
        let m = MIMEMessage.parse(reply.build(boundarySeed: 0))
        #expect(m.text(named: "Subject") == "Auto: Plans")
        #expect(m.text(named: "Auto-Submitted") == "auto-replied")
        #expect(HeaderValue.messageIDs(m.rawValue(try #require(m.field(named: "References")))) == ["m1@x", "m2@x"])
        #expect(ThreadKeys(message: m).baseSubject == "auto: plans")
        #expect(m.decodedText(of: 0).text == "Away until Monday.")
    }
}

@Suite struct IMAPStringTests {
    @Test func nonUTF8HeaderBytesInStringRendering() {
        let m = MIMEMessage.parse(Array("Subject: caf".utf8) + [0xE9] + Array("\r\n\r\nx".utf8))
        // Exact bytes: the raw Latin-1 byte in a 4-byte literal.
        #expect(m.imapEnvelopeBytes().starts(with: Array("(NIL {4}\r\ncaf".utf8) + [0xE9]))
        // String form: converted first, so the literal counts the UTF-8 bytes.
        #expect(m.imapEnvelope().hasPrefix("(NIL {5}\r\ncafé "))
        // With UTF8=ACCEPT valid UTF-8 is quoted; invalid bytes still need a literal.
        #expect(MIMEMessage.parse(Array("Subject: café\r\n\r\n".utf8)).imapEnvelope(utf8: true).hasPrefix("(NIL \"café\" "))
        #expect(m.imapEnvelopeBytes(utf8: true).starts(with: Array("(NIL {4}\r\n".utf8)))
    }
}

/// parse(build(x)) == x for seeded random messages: subjects and names mixing ASCII,
/// specials, accents, CJK and emoji; text with long lines and trailing blanks; binary attachments.
@Suite struct BuilderRoundTripTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 17
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    }

    static let pieces = ["hello", "Grüße", "naïve", "日本語", "emoji 🎉", "a \"quoted\" word", "x,y;z", "(paren)", "=?fake?=",
                         "tab\there", "Ünïcödé", "long-\(String(repeating: "w", count: 90))", "back\\slash", "<angle>", "@at"]

    static func text(_ rng: inout Rng, words: Int) -> String {
        (0..<words).map { _ in rng.pick(pieces) }.joined(separator: " ")
    }

    @Test(arguments: 0..<40)
    func roundTrip(_ seed: Int) throws {
        var rng = Rng(state: UInt64(seed) &+ 0x5EED)
        let subject = Self.text(&rng, words: Int(rng.next() % 12) + 1)
        let name = Self.text(&rng, words: Int(rng.next() % 4) + 1)
        var body = ""
        for _ in 0..<Int(rng.next() % 30) {
            body += Self.text(&rng, words: Int(rng.next() % 40)) + (rng.next() % 5 == 0 ? "  " : "") + "\n"
        }
        let attachment = (0..<Int(rng.next() % 3000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let filename = Self.text(&rng, words: 2) + ".bin"
        var b = MessageBuilder(body: .multipart(subtype: "mixed", parts: [
            .text(body),
            .binary(attachment, type: "application", subtype: "octet-stream", filename: filename),
        ]))
        b.add("From", addresses: [MailAddress(name: name, address: "sender@example.com")])
        b.add("Subject", text: subject)
        let bytes = b.build(boundarySeed: UInt64(seed))
        let m = MIMEMessage.parse(bytes)
        #expect(m.problems.isEmpty)
        #expect(m.text(named: "Subject") == subject)
        let from = AddressParser.addresses(m.rawValue(try #require(m.field(named: "From"))))
        #expect(from.map(\.name) == [ASCII.collapsingWhitespace(name)])
        #expect(from.map(\.address) == ["sender@example.com"])
        let crlfBody = body.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(m.decodedText(of: 1).text == crlfBody)
        #expect(m.decodedBody(of: 2).bytes == attachment)
        #expect(m.jmapBodyStructure(part: 2).name == filename)
        let header = String(decoding: bytes[m.root.headerRange], as: UTF8.self)
        #expect(header.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 998 })
    }
}
