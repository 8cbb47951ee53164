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
        #expect(bs.contains(#"(NIL "inner" ((NIL NIL "inner" "example.com")) ((NIL NIL "inner" "example.com")) ((NIL NIL "inner" "example.com")) NIL NIL NIL NIL NIL) (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 11 1 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL) 13 NIL ("attachment" ("filename" "fwd.eml")) NIL NIL)"#))
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

@Suite struct IMAPEdgeCaseTests {
    @Test func digestDefaultsAndExtensionFields() {
        let m = MIMEMessage.parse(crlf("""
        Content-Type: multipart/digest; boundary=d
        Content-Language: en, de

        --d

        Subject: one

        first
        --d
        Content-Type: text/plain
        Content-Location: http://example.com/x
        Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
        Content-ID: <c1@x>
        Content-Description: a note

        second
        --d--
        """))
        #expect(m.parts[1].contentType.mimeType == "message/rfc822")
        let bs = m.imapBodyStructure(extended: true)
        #expect(bs.hasPrefix(#"(("message" "rfc822" NIL NIL NIL "7bit" 21 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)"#))
        #expect(bs.contains(#"("text" "plain" ("charset" "us-ascii") "<c1@x>" "a note" "7bit" 6 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" NIL NIL "http://example.com/x")"#))
        #expect(bs.hasSuffix(#" "digest" ("boundary" "d") NIL ("en" "de") NIL)"#))
    }

    @Test func messageGlobalAndEncodedMessagesAreParsed() {
        let global = MIMEMessage.parse(crlf("Content-Type: message/global\n\nSubject: caf\u{e9}\n\nx\n"))
        #expect(global.parts.count == 2)
        #expect(global.imapEnvelope(part: 1).hasPrefix("(NIL {5}\r\ncafé"))
        let encoded = MIMEMessage.parse(crlf("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0KDQp5\n"))
        #expect(encoded.parts.count == 1)
        #expect(encoded.problems.map(\.kind) == [.encodedMessage])
        // Size and lines of the stored base64; envelope and body of the decoded message.
        #expect(encoded.imapBodyStructure(extended: false).contains(#""base64" 22 (NIL "x" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 1) 1)"#))
        #expect(encoded.binarySection(path: [1]) == .bytes(Array("Subject: x\r\n\r\ny".utf8)))
    }

    @Test func foldedHeaderFieldsAndPartialRanges() throws {
        let bytes = crlf("Subject: a\n  folded\nX-Other: 1\nFrom: f@x\n\n0123456789\n")
        let m = MIMEMessage.parse(bytes)
        #expect(text(m.section(path: [], .headerFields(["SUBJECT"]))) == "Subject: a\r\n  folded\r\n\r\n")
        let range = try #require(m.sectionRange(path: [], .text))
        #expect(String(decoding: bytes[range][(range.lowerBound + 2)..<(range.lowerBound + 5)], as: UTF8.self) == "234")
        #expect(m.sectionRange(path: [], .headerFields(["x"])) == nil)
        #expect(m.binarySection(path: [2]) == .noSuchPart)
        let unknown = MIMEMessage.parse(crlf("Content-Transfer-Encoding: x-uuencode\n\nbegin\n"))
        #expect(unknown.binarySection(path: [1]) == .unknownTransferEncoding)
    }

    @Test func envelopeQuotingAndRoutes() {
        let m = MIMEMessage.parse(crlf(#"""
        From: "A \"quoted\" \\ name" <@relay.example:user@example.com>
        To: undisclosed-recipients:;
        Subject: multi
         line

        x
        """#))
        #expect(m.imapEnvelope() == #"(NIL "multi line" (("A \"quoted\" \\ name" "@relay.example" "user" "example.com")) (("A \"quoted\" \\ name" "@relay.example" "user" "example.com")) (("A \"quoted\" \\ name" "@relay.example" "user" "example.com")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)"#)
    }
}

/// Dovecot's own BODYSTRUCTURE test (dovecot/core src/lib-imap/test-imap-bodystructure.c),
/// with the message in CRLF form: Dovecot counts sizes as if lines ended in CRLF.
@Suite struct DovecotBodyStructureTests {
    static let message = crlf(#"""
    From: user@domain.org
    Date: Sat, 24 Mar 2007 23:00:00 +0200
    Mime-Version: 1.0
    Content-Type: multipart/mixed; boundary="foo
     bar"

    Root MIME prologue

    --foo bar
    Content-Type: text/x-myown; charset=us-ascii; foo="quoted\"string"
    Content-ID: <foo@example.com>
    Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
    Content-Disposition: inline; foo=bar
    Content-Description: hellodescription
    Content-Language: en, fi, se
    Content-Location: http://example.com/test.txt

    hello

    --foo bar
    Content-Type: message/rfc822

    From: sub@domain.org
    To: sub-to1@domain.org, sub-to2@domain.org
    Date: Sun, 12 Aug 2012 12:34:56 +0300
    Subject: submsg
    Content-Type: multipart/alternative; boundary="sub1"

    Sub MIME prologue
    --sub1
    Content-Type: text/html
    Content-Transfer-Encoding: 8bit

    <p>Hello world</p>

    --sub1
    Content-Type: text/plain
    Content-Transfer-Encoding: ?invalid

    Hello another world

    --sub1--
    Sub MIME epilogue

    --foo bar--
    Root MIME epilogue

    """#)

    @Test func matchesDovecot() {
        let m = MIMEMessage.parse(Self.message)
        #expect(m.imapBodyStructure(extended: true) == #"(("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("inline" ("foo" "bar")) ("en" "fi" "se") "http://example.com/test.txt")("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1 NIL NIL NIL NIL)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1 NIL NIL NIL NIL) "alternative" ("boundary" "sub1") NIL NIL NIL) 21 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL)"#)
        #expect(m.imapBodyStructure(extended: false) == #"(("text" "x-myown" ("charset" "us-ascii" "foo" "quoted\"string") "<foo@example.com>" "hellodescription" "7bit" 7 1)("message" "rfc822" NIL NIL NIL "7bit" 412 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub-to1" "domain.org")(NIL NIL "sub-to2" "domain.org")) NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "8bit" 20 1)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1) "alternative") 21) "mixed")"#)
    }
}

/// Dovecot's ENVELOPE cases (dovecot/core src/lib-imap/test-imap-envelope.c, from imaptest).
@Suite struct DovecotEnvelopeTests {
    static let cases: [(String, String)] = [
        ("Message-ID: <msg@id>\nIn-Reply-To: <reply@to.id>\nDate: Thu, 15 Feb 2007 01:02:03 +0200\nSubject: subject header\nFrom: From Real <fromuser@fromdomain.org>\nTo: To Real <touser@todomain.org>\nCc: Cc Real <ccuser@ccdomain.org>\nBcc: Bcc Real <bccuser@bccdomain.org>\nSender: Sender Real <senderuser@senderdomain.org>\nReply-To: ReplyTo Real <replytouser@replytodomain.org>\n\nbody\n",
         #""Thu, 15 Feb 2007 01:02:03 +0200" "subject header" (("From Real" NIL "fromuser" "fromdomain.org")) (("Sender Real" NIL "senderuser" "senderdomain.org")) (("ReplyTo Real" NIL "replytouser" "replytodomain.org")) (("To Real" NIL "touser" "todomain.org")) (("Cc Real" NIL "ccuser" "ccdomain.org")) (("Bcc Real" NIL "bccuser" "bccdomain.org")) "<reply@to.id>" "<msg@id>""#),
        ("Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain\n\nbody\n",
         #""Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) NIL NIL NIL NIL NIL"#),
        ("Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\nTo: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\nCc: group:;, group2: (foo) ;\n\nbody\n",
         #""Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) ((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL)) ((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL)) NIL NIL NIL"#),
        ("Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\nSender: \nReply-To: \n\nbody\n",
         #""Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) NIL NIL NIL NIL NIL"#),
        ("Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: <@route:user@domain>\n\nbody\n",
         #""Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) NIL NIL NIL NIL NIL"#),
    ]

    @Test(arguments: 0..<5)
    func matchesDovecot(_ i: Int) {
        let m = MIMEMessage.parse(crlf(Self.cases[i].0))
        #expect(m.imapEnvelope() == "(" + Self.cases[i].1 + ")")
    }
}
