import StalCore
import Testing
@testable import StalSMTPCore

@Suite struct SMTPReplyTests {
    @Test func multilineReplyUsesDashOnAllButLastLine() {
        let reply = SMTPReply(250, nil, ["mx.example", "PIPELINING", "SIZE 10"])
        #expect(String(decoding: reply.encode(), as: UTF8.self) == "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10\r\n")
    }

    @Test func enhancedCodePrecedesText() {
        let reply = SMTPReply(550, EnhancedStatusCode(5, 1, 1), "User unknown")
        #expect(reply.description == "550 5.1.1 User unknown\r\n")
    }

    @Test func textCannotInjectLines() {
        let reply = SMTPReply(250, nil, "a\r\n250 injected")
        #expect(reply.description == "250 a250 injected\r\n")
    }
}

@Suite struct SMTPCommandParserTests {
    let parser = SMTPCommandParser(postmasterDomain: "mx.example")

    func parse(_ line: String) -> Result<SMTPCommand, SMTPSyntaxError> { parser.parse(Array(line.utf8)) }

    @Test func helloVariants() throws {
        #expect(try parse("EHLO client.example").get() == .ehlo("client.example"))
        #expect(try parse("helo [192.0.2.1]").get() == .helo("[192.0.2.1]"))
        #expect(try parse("LHLO lmtp.example").get() == .lhlo("lmtp.example"))
        #expect(throws: SMTPSyntaxError.self) { try parse("EHLO").get() }
    }

    @Test func mailWithParameters() throws {
        let command = try parse("MAIL FROM:<Alice@Example.ORG> SIZE=1234 BODY=8bitmime SMTPUTF8 AUTH=<>").get()
        #expect(command == .mail(reversePath: EmailAddress(localPart: "Alice", domain: "example.org"),
                                 parameters: SMTPMailParameters(declaredSize: 1234, body: .eightBitMIME, smtpUTF8: true, authIdentity: "<>")))
    }

    @Test func nullReversePathAndToleratedSpace() throws {
        #expect(try parse("MAIL FROM:<>").get() == .mail(reversePath: nil, parameters: SMTPMailParameters()))
        #expect(try parse("mail from: <a@b.example>").get()
            == .mail(reversePath: EmailAddress(localPart: "a", domain: "b.example"), parameters: SMTPMailParameters()))
    }

    @Test func sourceRouteIsDropped() throws {
        #expect(try parse("RCPT TO:<@relay.example,@other.example:joe@d.example>").get()
            == .rcpt(forwardPath: EmailAddress(localPart: "joe", domain: "d.example")))
    }

    @Test func quotedLocalPartMayContainClosingBracket() throws {
        #expect(try parse("RCPT TO:<\"a>b\"@d.example>").get()
            == .rcpt(forwardPath: EmailAddress(localPart: "a>b", domain: "d.example")))
    }

    @Test func barePostmasterGoesToServerDomain() throws {
        #expect(try parse("RCPT TO:<Postmaster>").get()
            == .rcpt(forwardPath: EmailAddress(localPart: "postmaster", domain: "mx.example")))
    }

    @Test func errorsHaveKinds() {
        func kind(_ line: String) -> SMTPSyntaxError.Kind? {
            if case .failure(let e) = parse(line) { return e.kind }
            return nil
        }
        #expect(kind("FOO bar") == .unrecognizedCommand)
        #expect(kind("MAIL TO:<a@b.example>") == .badArguments)
        #expect(kind("MAIL FROM:a@b.example") == .badSenderAddress)
        #expect(kind("RCPT TO:<nobody>") == .badRecipientAddress)
        #expect(kind("RCPT TO:<a@b.example> NOTIFY=NEVER") == .unsupportedParameter)
        #expect(kind("MAIL FROM:<a@b.example> BODY=BINARYMIME") == .unsupportedParameter)
        #expect(kind("MAIL FROM:<a@b.example> SIZE=x") == .badArguments)
        #expect(kind("DATA now") == .badArguments)
        #expect(kind("NOOP\nMAIL FROM:<a@b.example>") == .malformedLine)
        #expect(kind("BDAT lots") == .unframeableChunk)
        #expect(kind("BDAT 10 FIRST") == .unframeableChunk)
        #expect(kind("AUTH CRAM-MD5") == .unsupportedParameter)
    }

    @Test func invalidUTF8IsMalformed() {
        guard case .failure(let error) = parser.parse([0x45, 0x48, 0x4C, 0x4F, 0x20, 0xFF]) else {
            Issue.record("accepted invalid UTF-8")
            return
        }
        #expect(error.kind == .malformedLine)
    }

    @Test func bdatAndAuth() throws {
        #expect(try parse("BDAT 1000").get() == .bdat(chunkOctets: 1000, isLast: false))
        #expect(try parse("bdat 0 last").get() == .bdat(chunkOctets: 0, isLast: true))
        #expect(try parse("AUTH plain AGEAYg==").get() == .auth(.plain, initialResponse: "AGEAYg=="))
        #expect(try parse("AUTH LOGIN").get() == .auth(.login, initialResponse: nil))
    }
}

@Suite struct Base64Tests {
    @Test func roundTrips() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{0}user\u{0}pässword"] {
            let bytes = Array(text.utf8)
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("Username:".utf8)) == "VXNlcm5hbWU6")
    }

    @Test func rejectsInvalidInput() {
        #expect(Base64.decode("Zm9") == nil)
        #expect(Base64.decode("Zm9v!A==") == nil)
    }
}

@Suite struct SMTPInputBufferTests {
    @Test func cutsLinesOnlyAtCRLF() {
        var buffer = SMTPInputBuffer()
        buffer.append(Array("NOOP\nstill\r".utf8))
        #expect(buffer.nextLine(octetsMax: 100) == .needMoreBytes)
        buffer.append([10])
        #expect(buffer.nextLine(octetsMax: 100) == .line(Array("NOOP\nstill".utf8)))
    }

    @Test func overlongLineIsDiscardedAndFollowingLineSurvives() {
        var buffer = SMTPInputBuffer()
        buffer.append(Array(repeating: UInt8(ascii: "x"), count: 10_000) + Array("\r\nNOOP\r\n".utf8))
        #expect(buffer.nextLine(octetsMax: 512) == .tooLong)
        #expect(buffer.nextLine(octetsMax: 512) == .line(Array("NOOP".utf8)))
    }

    @Test func overlongLineDripFedKeepsMemoryBounded() {
        var buffer = SMTPInputBuffer()
        for _ in 0..<100 {
            buffer.append(Array(repeating: UInt8(ascii: "y"), count: 100))
            #expect(buffer.nextLine(octetsMax: 512) == .needMoreBytes)
            #expect(buffer.unreadCount < 512)
        }
        buffer.append([13])
        #expect(buffer.nextLine(octetsMax: 512) == .needMoreBytes)
        buffer.append(Array("\nQUIT\r\n".utf8))
        #expect(buffer.nextLine(octetsMax: 512) == .tooLong)
        #expect(buffer.nextLine(octetsMax: 512) == .line(Array("QUIT".utf8)))
    }

    @Test func lineOfExactlyTheLimitIsAccepted() {
        var buffer = SMTPInputBuffer()
        buffer.append(Array(repeating: UInt8(ascii: "z"), count: 10) + [13, 10])
        #expect(buffer.nextLine(octetsMax: 12) == .line(Array(repeating: UInt8(ascii: "z"), count: 10)))
        buffer.append(Array(repeating: UInt8(ascii: "z"), count: 11) + [13, 10])
        #expect(buffer.nextLine(octetsMax: 12) == .tooLong)
    }
}

@Suite struct SMTPDataDecoderTests {
    func decodeAll(_ text: String, octetsMax: Int = 1 << 20) -> (SMTPDataDecoder, consumed: Int, finished: Bool) {
        var decoder = SMTPDataDecoder(octetsMax: octetsMax, lineOctetsMax: 1000)
        let bytes = Array(text.utf8)
        let (consumed, progress) = decoder.decode(bytes[...])
        return (decoder, consumed, progress == .finished)
    }

    @Test func unstuffsDotsAndStopsAtTerminator() {
        let (decoder, consumed, finished) = decodeAll("Subject: x\r\n\r\n..leading\r\n.\r\nQUIT\r\n")
        #expect(finished)
        #expect(consumed == "Subject: x\r\n\r\n..leading\r\n.\r\n".utf8.count)
        #expect(String(decoding: decoder.content, as: UTF8.self) == "Subject: x\r\n\r\n.leading\r\n")
        #expect(!decoder.sawBareLineEnding)
    }

    @Test func emptyMessageEndsAtFirstDotLine() {
        let (decoder, _, finished) = decodeAll(".\r\n")
        #expect(finished)
        #expect(decoder.content.isEmpty)
    }

    @Test(arguments: ["a\n.\nMAIL FROM:<x@y.example>\r\n", "a\n.\r\nMAIL FROM:<x@y.example>\r\n",
                      "a\r\n.\nMAIL FROM:<x@y.example>\r\n", "a\r.\rMAIL\r\n", "a\r\n.\r MAIL\r\n"])
    func smugglingSequencesAreNotTerminators(_ text: String) {
        let (decoder, consumed, finished) = decodeAll(text)
        #expect(!finished)
        #expect(consumed == text.utf8.count)
        #expect(decoder.sawBareLineEnding)
    }

    @Test func dripFedMatchesWholeInput() {
        let text = "From: a\r\n..\r\n.x\r\nend\r\n.\r\n"
        let whole = decodeAll(text).0
        var drip = SMTPDataDecoder(octetsMax: 1 << 20, lineOctetsMax: 1000)
        var finished = false
        for byte in text.utf8 {
            #expect(!finished)
            finished = drip.decode([byte][...]).progress == .finished
        }
        #expect(finished)
        #expect(drip.content == whole.content)
        #expect(String(decoding: drip.content, as: UTF8.self) == "From: a\r\n.\r\nx\r\nend\r\n")
    }

    @Test func sizeLimitStopsBufferingButFindsTerminator() {
        let body = String(repeating: "0123456789", count: 100)
        let (decoder, _, finished) = decodeAll(body + "\r\n.\r\n", octetsMax: 100)
        #expect(finished)
        #expect(decoder.exceededSize)
        #expect(decoder.content.count == 100)
    }

    @Test func longLineIsFlagged() {
        let (decoder, _, finished) = decodeAll(String(repeating: "x", count: 1200) + "\r\n.\r\n")
        #expect(finished)
        #expect(decoder.sawOverlongLine)
    }
}

@Suite struct SMTPTraceHeaderTests {
    @Test func receivedHeaderIsDeterministic() {
        let trace = SMTPSessionTrace(heloName: "client.example", peer: SMTPPeer(address: "192.0.2.7", isLoopback: false),
                                     usedExtendedHello: true, tlsActive: true, authenticated: false, mode: .mx,
                                     serverHostname: "mx.example")
        let transaction = SMTPTransaction(
            id: "abc.1", reversePath: EmailAddress("s@sender.example"), parameters: SMTPMailParameters(),
            recipients: [SMTPAcceptedRecipient(address: EmailAddress(localPart: "u+tag", domain: "example.com"),
                                               tenant: TenantID(rawValue: 1), account: AccountID(rawValue: 2))],
            content: Array("Subject: hi\r\n\r\nbody\r\n".utf8), trace: trace)
        let stored = String(decoding: transaction.storedMessage(receivedAt: Timestamp(secondsSinceEpoch: 1_795_000_000)), as: UTF8.self)
        #expect(stored == """
            Return-Path: <s@sender.example>\r
            Received: from client.example ([192.0.2.7])\r
            \tby mx.example (Stal) with ESMTPS id abc.1\r
            \tfor <u+tag@example.com>; Wed, 18 Nov 2026 11:06:40 +0000\r
            Subject: hi\r
            \r
            body\r

            """)
    }

    @Test func heloNameIsMadeHeaderSafe() {
        #expect(SMTPTransaction.headerSafe("mx.example") == "mx.example")
        #expect(SMTPTransaction.headerSafe("évil;name") == "??vil?name")
        #expect(SMTPTransaction.headerSafe(String(repeating: "a", count: 400)).utf8.count == 255)
    }

    @Test func protocolKeywords() {
        var trace = SMTPSessionTrace(heloName: "h", peer: SMTPPeer(address: "2001:db8::1", isLoopback: false),
                                     usedExtendedHello: false, tlsActive: false, authenticated: false, mode: .mx,
                                     serverHostname: "s")
        #expect(trace.protocolKeyword(smtpUTF8: false) == "SMTP")
        #expect(trace.peer.addressLiteral == "[IPv6:2001:db8::1]")
        trace.usedExtendedHello = true
        trace.tlsActive = true
        trace.authenticated = true
        #expect(trace.protocolKeyword(smtpUTF8: false) == "ESMTPSA")
        #expect(trace.protocolKeyword(smtpUTF8: true) == "UTF8SMTPSA")
        trace.mode = .lmtp
        #expect(trace.protocolKeyword(smtpUTF8: false) == "LMTPSA")
    }
}
