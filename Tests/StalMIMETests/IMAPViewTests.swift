import Testing
@testable import StalMIME

@Suite struct IMAPViewTests {
    static let simple = crlf("""
    From: "Joe Q. Public" <john.q.public@example.com>
    To: Mary Smith <mary@x.test>, jdoe@example.org
    Cc: A Group:Ed Jones <c@a.test>;
    Subject: =?utf-8?q?caf=C3=A9?= time
    Date: Tue, 1 Jul 2003 10:52:37 +0200
    Message-ID: <1234@local.machine.example>

    Hello
    World

    """)

    @Test func envelopeOfSimpleMessage() {
        let m = MIMEMessage.parse(Self.simple)
        #expect(m.imapEnvelope() == """
        ("Tue, 1 Jul 2003 10:52:37 +0200" "=?utf-8?q?caf=C3=A9?= time" (("Joe Q. Public" NIL "john.q.public" "example.com")) \
        (("Joe Q. Public" NIL "john.q.public" "example.com")) (("Joe Q. Public" NIL "john.q.public" "example.com")) \
        (("Mary Smith" NIL "mary" "x.test")(NIL NIL "jdoe" "example.org")) \
        ((NIL NIL "A Group" NIL)("Ed Jones" NIL "c" "a.test")(NIL NIL NIL NIL)) NIL NIL "<1234@local.machine.example>")
        """)
    }

    @Test func bodyStructureOfSimpleMessage() {
        let m = MIMEMessage.parse(Self.simple)
        #expect(m.imapBodyStructure(extended: true) == #"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)"#)
        #expect(m.imapBodyStructure(extended: false) == #"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2)"#)
    }

    static let nested = crlf("""
    From: a@b.c
    Subject: nested
    Content-Type: multipart/mixed; boundary="outer"

    preamble
    --outer
    Content-Type: text/plain; charset=utf-8
    Content-Transfer-Encoding: quoted-printable

    caf=C3=A9
    --outer
    Content-Type: message/rfc822
    Content-Disposition: attachment; filename="fwd.eml"

    From: inner@example.com
    Subject: inner
    Content-Type: multipart/alternative; boundary=inner

    --inner
    Content-Type: text/plain

    plain
    --inner
    Content-Type: text/html

    <b>html</b>
    --inner--
    --outer
    Content-Type: application/octet-stream; name*=utf-8''r%C3%A9sum%C3%A9.pdf
    Content-Transfer-Encoding: base64

    aGVsbG8=
    --outer--
    epilogue

    """)

    @Test func treeAndOffsets() throws {
        let m = MIMEMessage.parse(Self.nested)
        #expect(m.problems.isEmpty)
        #expect(m.parts.count == 7)
        #expect(m.parts[0].children == [1, 2, 6])
        #expect(m.parts[2].children == [3])
        #expect(m.parts[3].children == [4, 5])
        #expect(text(m.section(path: [1])) == "caf=C3=A9")
        #expect(m.decodedText(of: 1).text == "café")
        #expect(text(m.section(path: [2, 1])) == "plain")
        #expect(text(m.section(path: [2, 2])) == "<b>html</b>")
        #expect(text(m.section(path: [2], .header)) == "From: inner@example.com\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n")
        #expect(text(m.section(path: [2], .mime)) == "Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n")
        #expect(text(m.section(path: [2, 2], .mime)) == "Content-Type: text/html\r\n\r\n")
        #expect(text(m.section(path: [], .headerFields(["subject", "FROM"]))) == "From: a@b.c\r\nSubject: nested\r\n\r\n")
        #expect(text(m.section(path: [], .headerFieldsNot(["content-type", "from"]))) == "Subject: nested\r\n\r\n")
        #expect(text(m.section(path: [3])) == "aGVsbG8=")
        #expect(m.binarySection(path: [3]) == .bytes(Array("hello".utf8)))
        #expect(m.section(path: [4]) == nil)
        #expect(m.section(path: [1], .header) == nil)
        let t = try #require(m.section(path: [], .text))
        #expect(String(decoding: t, as: UTF8.self).hasPrefix("preamble\r\n--outer\r\n"))
        #expect(m.section(path: []) == Self.nested)
        #expect(text(m.section(path: [2], .text)) == "--inner\r\nContent-Type: text/plain\r\n\r\nplain\r\n--inner\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--inner--")
        #expect(m.sectionPath(of: 4) == [2, 1])
        #expect(m.sectionPath(of: 6) == [3])
        #expect(m.partIndex(path: [2, 2]) == 5)
    }

    @Test func bodyStructureOfNestedMessage() {
        let m = MIMEMessage.parse(Self.nested)
        let bs = m.imapBodyStructure(extended: true)
        #expect(bs.hasPrefix(#"(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 9 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" "#))
        #expect(bs.contains(#"(NIL "inner" ((NIL NIL "inner" "example.com")) ((NIL NIL "inner" "example.com")) ((NIL NIL "inner" "example.com")) NIL NIL NIL NIL NIL) (("text" "plain" NIL NIL NIL "7bit" 5 1 NIL NIL NIL NIL)("text" "html" NIL NIL NIL "7bit" 11 1 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL) 13 NIL ("attachment" ("filename" "fwd.eml")) NIL NIL)"#))
        #expect(bs.hasSuffix(#"("application" "octet-stream" ("name*" "utf-8''r%C3%A9sum%C3%A9.pdf") NIL NIL "base64" 8 NIL NIL NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)"#))
    }

    @Test func literalForEightBitHeaders() {
        let m = MIMEMessage.parse(Array("Subject: caf\u{e9}\r\n\r\nx".utf8))
        #expect(m.imapEnvelope().hasPrefix("(NIL {5}\r\ncafé NIL NIL NIL NIL NIL NIL NIL NIL)"))
    }

    @Test func nonMultipartBodyIsPartOne() {
        let m = MIMEMessage.parse(Self.simple)
        #expect(text(m.section(path: [1])) == "Hello\r\nWorld\r\n")
        #expect(m.section(path: [2]) == nil)
        #expect(text(m.section(path: [1], .mime))?.hasPrefix("From:") == true)
    }
}
