import StalCore
import Testing
@testable import StalMIME

@Suite struct EncodingTests {
    @Test func base64ToleratesJunkAndRoundTrips() {
        #expect(Base64.decode(Array("aGVs\r\nbG8=".utf8)).bytes == Array("hello".utf8))
        let junk = Base64.decode(Array("aGV*sb!G8".utf8))
        #expect(junk.bytes == Array("hello".utf8))
        #expect(junk.hadProblem)
        let all = Array(0...255).map(UInt8.init)
        #expect(Base64.decode(Base64.encode(all)).bytes == all)
        #expect(Base64.encode(all).split(separator: 13).allSatisfy { $0.count <= 77 })
    }

    @Test func quotedPrintable() {
        #expect(QuotedPrintable.decode(Array("caf=C3=A9 =\r\nsoft=\nbreak  \r\nx=ZZ".utf8)).bytes == Array("café softbreak\r\nx=ZZ".utf8))
        #expect(QuotedPrintable.decode(Array("x=ZZ".utf8)).hadProblem)
        let text = Array("Grüße = ok\ttab \nline two with a very long tail that must be wrapped somewhere before the seventy-sixth column\n".utf8)
        let encoded = QuotedPrintable.encode(text)
        #expect(encoded.split(separator: 10).allSatisfy { $0.count <= 77 })
        let lf = text.map { $0 }
        let decoded = QuotedPrintable.decode(encoded).bytes.filter { $0 != 13 }
        #expect(decoded == lf)
    }

    @Test func encodedWords() {
        #expect(EncodedWords.decode("=?utf-8?q?caf=C3=A9?= =?utf-8?b?w6k=?=") == "caféé")
        // A character split across two words of the same charset.
        #expect(EncodedWords.decode("=?utf-8?b?ww==?= =?utf-8?b?qQ==?=") == "é")
        #expect(EncodedWords.decode("=?utf-8?Q?a?= b =?utf-8?Q?c?=") == "a b c")
        #expect(EncodedWords.decode("=?bogus?X?abc?=") == "=?bogus?X?abc?=")
        #expect(EncodedWords.decode("=?iso-2022-jp?B?GyRCJEskWyRzGyhC?=") == "にほん")
        #expect(EncodedWords.decode("=?x-unknown?Q?caf=E9?=") == "café")
        let encoded = EncodedWords.encode("Ünïcödé subject", nameLength: 7)
        #expect(EncodedWords.decode(encoded) == "Ünïcödé subject")
    }

    @Test func charsetAliases() {
        #expect(Charset.decode([0x80], charset: "iso-8859-1").text == "€")
        #expect(Charset.decode([0xB0, 0xA1], charset: "gb2312").text == "啊")
        #expect(Charset.decode([0xC7, 0xD1], charset: "ks_c_5601-1987").text == "한")
        #expect(Charset.decode(Array("+AGEAYgBj-".utf8), charset: "utf-7").text == "abc")
        #expect(Charset.isKnown("windows-1251"))
        #expect(!Charset.isKnown("no-such-thing"))
    }
}

@Suite struct StructuredFieldTests {
    @Test func addressForEnvelope() {
        let g = AddressParser.parse(Array(#" "Doe, John" <@route.example:john@example.com>, =?utf-8?q?J=C3=B6rg?= <j@x.de>"#.utf8))
        let a = g.flatMap(\.addresses)
        #expect(a[0].name == "Doe, John")
        #expect(a[0].route == "@route.example")
        #expect(a[0].localPart == "john" && a[0].domain == "example.com")
        #expect(a[1].name == "Jörg" && a[1].rawName == "=?utf-8?q?J=C3=B6rg?=")
    }

    @Test func utf8Addresses() {
        let a = AddressParser.addresses(Array("Jörg <jörg@bücher.example>".utf8))
        #expect(a == [MailAddress(name: "Jörg", address: "jörg@bücher.example", rawName: "Jörg", localPart: "jörg", domain: "bücher.example")])
    }

    @Test func punycodeDomains() {
        #expect(IDNA.unicodeDomain("xn--bcher-kva.example") == "bücher.example")
        #expect(IDNA.unicodeDomain("mail.XN--WGV71A119E.jp") == "mail.日本語.jp")
        #expect(IDNA.unicodeDomain("xn--!!!.example") == "xn--!!!.example")
        #expect(IDNA.unicodeDomain("plain.example") == "plain.example")
        let a = AddressParser.addresses(Array("User <u@xn--mnchen-3ya.de>".utf8))
        #expect(a.first?.unicodeDomain == "münchen.de")
        #expect(a.first?.address == "u@xn--mnchen-3ya.de")
    }

    @Test func textDropsControlCharacters() {
        #expect(HeaderValue.text(Array(" =?utf-8?q?a=00b=07c?= d\r\n".utf8)) == "abc d")
    }

    @Test func brokenDates() {
        #expect(HeaderValue.date(Array("Mon Jan  5 12:00:00 2024".utf8)) == CivilDateTime(year: 2024, month: 1, day: 5, hour: 12, minute: 0, second: 0))
        #expect(HeaderValue.date(Array("2024-01-02T03:04:05+02:00".utf8)) == CivilDateTime(year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5, utcOffsetMinutes: 120))
        #expect(HeaderValue.date(Array("Tue, 1 Jul 2003 10:52:37".utf8)) == CivilDateTime(year: 2003, month: 7, day: 1, hour: 10, minute: 52, second: 37))
        #expect(HeaderValue.date(Array("garbage".utf8)) == nil)
    }

    @Test func listURLs() {
        #expect(HeaderValue.urls(Array("<mailto:list@host.com?subject=help> (Help),\r\n <https://host.com/x>".utf8)) == ["mailto:list@host.com?subject=help", "https://host.com/x"])
    }

    @Test func contentTypeContinuations() {
        let ct = ContentType.parse(Array("application/octet-stream; name*0*=utf-8''%E2%82%AC; name*1=\".txt\"".utf8))
        #expect(ct?.parameter("name") == "€.txt")
    }
}

@Suite struct DerivedViewTests {
    @Test func baseSubject() {
        #expect(ThreadKeys.baseSubject("Re: [list] Fwd: Re:  Hello   world (fwd)") == "hello world")
        #expect(ThreadKeys.baseSubject("[fwd: Re: topic]") == "topic")
        #expect(ThreadKeys.baseSubject("[only blob]") == "[only blob]")
        #expect(ThreadKeys.baseSubject("RE[2]: x") == "x")
    }

    @Test func threadKeys() {
        let m = MIMEMessage.parse(crlf("Message-ID: <c@x>\nReferences: <a@x> <b@x>\nIn-Reply-To: <b@x> <z@x>\nSubject: Re: hi\n\n"))
        let t = ThreadKeys(message: m)
        #expect(t.messageId == "c@x")
        #expect(t.parentIds == ["a@x", "b@x", "z@x"])
        #expect(t.baseSubject == "hi")
    }

    @Test func htmlToText() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body><p>Hello&nbsp;<b>world</b> &amp; &#x263A;</p><script>x()</script><div>next<br>line</div><p>unclosed <a href=\"x>y\">link"
        #expect(HTMLText.text(html) == "Hello world & ☺\n\nnext\nline\n\nunclosed link")
        #expect(HTMLText.text("a < b and <<>> &bogus; &") == "a < b and <<>> &bogus; &")
    }

    @Test func jmapHeaderForms() {
        let m = MIMEMessage.parse(crlf("From: \"A\" <a@x>, G: b@x;\nDate: Tue, 1 Jul 2003 10:52:37 +0200\nList-Post: <mailto:l@x>\nX-A: 1\nX-A: 2\n\nbody\n"))
        #expect(m.jmapHeader("From", form: .addresses).encoded() == #"[{"name":"A","email":"a@x"},{"name":null,"email":"b@x"}]"#)
        #expect(m.jmapHeader("From", form: .groupedAddresses).encoded() == #"[{"name":null,"addresses":[{"name":"A","email":"a@x"}]},{"name":"G","addresses":[{"name":null,"email":"b@x"}]}]"#)
        #expect(m.jmapHeader("Date", form: .date) == .string("2003-07-01T10:52:37+02:00"))
        #expect(m.jmapHeader("List-Post", form: .urls) == .array([.string("mailto:l@x")]))
        #expect(m.jmapHeader("X-A", form: .text, all: true) == .array([.string("1"), .string("2")]))
        #expect(m.jmapHeader("X-A", form: .raw) == .string(" 2"))
        #expect(m.jmapHeader("X-Missing", form: .text) == .null)
    }

    @Test func bodyValueTruncationAndPreview() {
        let m = MIMEMessage.parse(crlf("Content-Type: text/html; charset=utf-8\n\n<p>Grüße   aus</p><p>Köln</p>\n"))
        let v = m.jmapBodyValue(part: 0, maxBytes: 8)
        #expect(v.isTruncated)
        #expect(v.value == "<p>Grü")
        #expect(m.jmapPreview() == "Grüße aus Köln")
        #expect(m.jmapEmail()["preview"] == .string("Grüße aus Köln"))
    }

    @Test func canonicalLineEnds() {
        #expect(MIMEMessage.canonicalLineEnds(Array("a\nb\r\nc\rd".utf8)) == Array("a\r\nb\r\nc\r\nd".utf8))
        let clean = Array("a\r\nb\r\n".utf8)
        #expect(MIMEMessage.canonicalLineEnds(clean) == clean)
    }

    @Test func bodyTextForSearch() {
        let m = MIMEMessage.parse(IMAPViewTests.nested)
        #expect(m.bodyText() == "café\nplain\nhtml")
        #expect(m.bodyText(maxBytes: 4) == "caf")
    }

    @Test func decodingProblemsAreReported() {
        let m = MIMEMessage.parse(Array("Content-Type: text/plain; charset=bogus\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!Y2Fm6Q==".utf8))
        #expect(m.decodingProblems().map(\.kind) == [.bodyDecodingProblem, .charsetProblem])
        #expect(MIMEMessage.parse(crlf("Content-Type: text/plain; charset=utf-8\n\nok\n")).decodingProblems().isEmpty)
    }

    @Test func inspectionListsProblems() {
        let json = MessageInspection.json(for: Array("Content-Type: multipart/mixed\r\n\r\nx".utf8))
        #expect(json.contains("\"missingBoundaryParameter\""))
        #expect(json.contains("\"bodyStructure\""))
    }
}

@Suite struct JMAPEmailShapeTests {
    @Test func emailObjectProperties() throws {
        let m = MIMEMessage.parse(IMAPViewTests.nested)
        let email = m.jmapEmail(blobId: { "B-\($0)" }, maxBodyValueBytes: 3)
        guard case .object(let members) = email else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["messageId", "inReplyTo", "references", "sender", "from", "to", "cc", "bcc", "replyTo",
                                     "subject", "sentAt", "hasAttachment", "preview", "headers", "bodyStructure", "textBody",
                                     "htmlBody", "attachments", "bodyValues"])
        #expect(email["from"] == .array([.object([("name", .null), ("email", .string("a@b.c"))])]))
        #expect(email["sender"] == .null)
        #expect(email["hasAttachment"] == .bool(true))
        let structure = try #require(email["bodyStructure"])
        #expect(structure["partId"] == .null)
        #expect(structure["type"] == .string("multipart/mixed"))
        guard case .array(let sub)? = structure["subParts"] else { Issue.record("no subParts"); return }
        #expect(sub.map { $0["partId"] } == [.string("1"), .string("2"), .string("3")])
        #expect(sub[2]["blobId"] == .string("B-3"))
        #expect(sub[2]["name"] == .string("résumé.pdf"))
        #expect(sub[2]["size"] == .int(5))
        #expect(sub[1]["type"] == .string("message/rfc822"))
        #expect(sub[1]["disposition"] == .string("attachment"))
        #expect(email["bodyValues"]?["1"]?["value"] == .string("caf"))
        #expect(email["bodyValues"]?["1"]?["isTruncated"] == .bool(true))
    }
}

@Suite struct LoggingTests {
    @Test func descriptionHidesContent() {
        let m = MIMEMessage.parse(crlf("Subject: secret\n\npassword=hunter2\n"))
        #expect("\(m)" == "MIMEMessage([37 bytes], 1 parts, 0 problems)")
        #expect(!String(reflecting: m).contains("hunter2"))
    }
}

@Suite struct HeaderOnlyParseTests {
    @Test func parseHeaderStopsAtTheBody() {
        let bytes = IMAPViewTests.nested
        let h = MIMEMessage.parseHeader(bytes)
        #expect(h.parts.count == 1)
        #expect(h.text(named: "Subject") == "nested")
        #expect(h.root.contentType.mimeType == "multipart/mixed")
        #expect(h.root.bodyRange == MIMEMessage.parse(bytes).root.bodyRange)
    }
}
