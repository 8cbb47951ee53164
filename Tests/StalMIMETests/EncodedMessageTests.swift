import Testing
@testable import StalMIME

/// message/rfc822 parts with base64 or quoted-printable bodies (RFC 2046 §5.2.1 forbids
/// them; they occur and Dovecot and Stalwart show them as messages).
@Suite struct EncodedMessageTests {
    static let inner = "From: Inner <in@x.example>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: multipart/mixed; boundary=ib\r\n\r\n--ib\r\nContent-Type: text/plain\r\n\r\nhello inner\r\n--ib\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--ib--\r\n"

    static func outer(encoding: String, body: String) -> [UInt8] {
        crlf("""
            From: Outer <out@x.example>
            Subject: outer
            Content-Type: multipart/mixed; boundary=ob

            --ob
            Content-Type: text/plain

            see attached
            --ob
            Content-Type: message/rfc822
            Content-Transfer-Encoding: \(encoding)

            \(body)
            --ob--

            """)
    }

    static var base64Body: String { String(decoding: Base64.encode(Array(inner.utf8)), as: UTF8.self) }

    @Test func base64MessageIsParsedFromTheDecodedBytes() throws {
        let m = MIMEMessage.parse(Self.outer(encoding: "base64", body: Self.base64Body))
        let part = try #require(m.partIndex(path: [2]))
        #expect(m.parts[part].body == .leaf)
        let nested = try #require(m.encodedMessages[part])
        #expect(nested.bytes == Array(Self.inner.utf8))
        #expect(nested.parts.count == 3)
        #expect(m.problems.contains { $0.kind == .encodedMessage })
        #expect(!m.problems.contains { $0.kind == .encodedMessageNotParsed })

        // BODY[2] and BODY[2.MIME] are the stored bytes; deeper sections the decoded message.
        #expect(m.section(path: [2]) == Array(m.bytes[m.parts[part].bodyRange]))
        #expect(text(m.section(path: [2], .mime)) == "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        #expect(text(m.section(path: [2], .header))?.hasPrefix("From: Inner <in@x.example>\r\n") == true)
        #expect(text(m.section(path: [2, 1])) == "hello inner")
        #expect(text(m.section(path: [2, 2], .mime)) == "Content-Type: text/html\r\n\r\n")
        #expect(text(m.section(path: [2], .headerFields(["subject"]))) == "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n")
        #expect(m.sectionRange(path: [2, 1]) == nil)
        #expect(m.sectionRange(path: [2]) == m.parts[part].bodyRange)
        #expect(m.binarySection(path: [2, 2]) == .bytes(Array("<p>hi</p>".utf8)))
        #expect(m.section(path: [2, 3]) == nil)
        // Search text includes the encoded message's text parts, in part order.
        #expect(m.bodyText() == "see attached\nhello inner\nhi")
    }

    @Test func bodyStructureShowsTheDecodedMessageWithStoredSize() throws {
        let m = MIMEMessage.parse(Self.outer(encoding: "base64", body: Self.base64Body))
        let part = try #require(m.partIndex(path: [2]))
        let stored = m.parts[part].bodyRange
        let bs = m.imapBodyStructure(extended: false)
        #expect(bs.contains("(\"message\" \"rfc822\" NIL NIL NIL \"base64\" \(stored.count) (NIL \"=?utf-8?q?Gr=C3=BC=C3=9Fe?=\" ((\"Inner\" NIL \"in\" \"x.example\"))"))
        #expect(bs.contains("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 "))
        #expect(bs.contains("(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 "))
    }

    @Test func quotedPrintableMessage() throws {
        let body = "From: q@x.example\nSubject: qp=\n inner\n\nsoft=\nbreak =3D done"
        let m = MIMEMessage.parse(Self.outer(encoding: "quoted-printable", body: body))
        let part = try #require(m.partIndex(path: [2]))
        let nested = try #require(m.encodedMessages[part])
        #expect(nested.jmapHeader("Subject", form: .text) == .string("qp inner"))
        #expect(text(m.section(path: [2], .text)) == "softbreak = done")
    }

    @Test func encodedNestingCountsAgainstTheOuterLimits() {
        var limits = MIMELimits.default
        limits.nestingDepthMax = 2
        let m = MIMEMessage.parse(Self.outer(encoding: "base64", body: Self.base64Body), limits: limits)
        // The outer multipart is depth 0, the message/rfc822 part depth 1: no room for more.
        #expect(m.encodedMessages.isEmpty)
        #expect(m.problems.contains { $0.kind == .encodedMessageNotParsed })

        limits = .default
        limits.partsMax = 4
        let capped = MIMEMessage.parse(Self.outer(encoding: "base64", body: Self.base64Body), limits: limits)
        let nested = capped.encodedMessages.values.first
        #expect(nested?.limits.partsMax == 1)
        #expect(nested?.parts.count == 1)
    }

    @Test func unknownEncodingStaysALeaf() {
        let m = MIMEMessage.parse(Self.outer(encoding: "x-uuencode", body: "begin 644 x"))
        #expect(m.encodedMessages.isEmpty)
        #expect(m.problems.contains { $0.kind == .encodedMessageNotParsed })
    }
}
