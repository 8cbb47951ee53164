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
