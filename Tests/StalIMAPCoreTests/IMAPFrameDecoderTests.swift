import Testing
@testable import StalIMAPCore

@Suite struct IMAPFrameDecoderTests {
    static let configuration = IMAPFrameDecoder.Configuration(
        commandOctetsMax: 100, literalOctetsMax: 20, appendOctetsMax: 1000, literalsPerCommandMax: 3)

    func events(_ input: String, configuration: IMAPFrameDecoder.Configuration = configuration) -> [IMAPFrameDecoder.Event] {
        var decoder = IMAPFrameDecoder(configuration: configuration)
        decoder.append(Array(input.utf8))
        var out: [IMAPFrameDecoder.Event] = []
        while let e = decoder.next() { out.append(e) }
        return out
    }

    @Test func completeLineIsOneFrame() {
        #expect(events("a1 NOOP\r\n") == [.frame(IMAPFrame(text: "a1 NOOP"))])
    }

    @Test func bareLineFeedIsAccepted() {
        #expect(events("a1 NOOP\na2 LOGOUT\n") == [.frame(IMAPFrame(text: "a1 NOOP")), .frame(IMAPFrame(text: "a2 LOGOUT"))])
    }

    @Test func truncatedLineNeedsMoreBytes() {
        var decoder = IMAPFrameDecoder(configuration: Self.configuration)
        decoder.append(Array("a1 NO".utf8))
        #expect(decoder.next() == nil)
        #expect(decoder.isInsideCommand)
        decoder.append(Array("OP\r\n".utf8))
        #expect(decoder.next() == .frame(IMAPFrame(text: "a1 NOOP")))
        #expect(decoder.next() == nil)
        #expect(decoder.bufferedOctets == 0)
    }

    @Test func synchronisingLiteralAsksForContinuation() {
        var decoder = IMAPFrameDecoder(configuration: Self.configuration)
        decoder.append(Array("a1 LOGIN {4}\r\n".utf8))
        #expect(decoder.next() == .continuationRequested)
        #expect(decoder.next() == nil)
        decoder.append(Array("user pass\r\n".utf8))
        let expected = IMAPFrame(lines: [Array("a1 LOGIN {4}".utf8), Array(" pass".utf8)], literals: [Array("user".utf8)])
        #expect(decoder.next() == .frame(expected))
    }

    @Test func emptyLiteralCompletesWithoutFurtherBytes() {
        var decoder = IMAPFrameDecoder(configuration: Self.configuration)
        decoder.append(Array("a1 LOGIN {0}\r\n".utf8))
        #expect(decoder.next() == .continuationRequested)
        decoder.append(Array(" x\r\n".utf8))
        #expect(decoder.next() == .frame(IMAPFrame(lines: [Array("a1 LOGIN {0}".utf8), Array(" x".utf8)], literals: [[]])))
    }

    @Test func nonSynchronisingLiteralNeedsNoContinuation() {
        let expected = IMAPFrame(lines: [Array("a1 LOGIN {4+}".utf8), Array(" pass".utf8)], literals: [Array("us\r\n".utf8)])
        #expect(events("a1 LOGIN {4+}\r\nus\r\n pass\r\n") == [.frame(expected)])
    }

    @Test func literalLimitIsEnforcedBeforeAllocation() {
        // A synchronising literal over the limit is refused without a continuation; the
        // client sends nothing more for it, so the next command parses normally.
        #expect(events("a1 LOGIN {999999999999}\r\na2 NOOP\r\n") == [
            .rejected(tag: "a1", .literalTooLarge(announced: 999_999_999_999, limit: 20)),
            .frame(IMAPFrame(text: "a2 NOOP")),
        ])
    }

    @Test func oversizeNonSynchronisingLiteralIsSkipped() {
        let literal = String(repeating: "x", count: 25)
        #expect(events("a1 LOGIN {25+}\r\n\(literal) rest\r\na2 NOOP\r\n") == [
            .rejected(tag: "a1", .literalTooLarge(announced: 25, limit: 20)),
            .frame(IMAPFrame(text: "a2 NOOP")),
        ])
    }

    @Test func appendUsesTheAppendLimit() {
        let message = String(repeating: "m", count: 500)
        let result = events("a1 APPEND INBOX {500+}\r\n\(message)\r\n")
        #expect(result == [.frame(IMAPFrame(lines: [Array("a1 APPEND INBOX {500+}".utf8), []], literals: [Array(message.utf8)]))])
        #expect(events("a1 append INBOX {1001}\r\n") == [.rejected(tag: "a1", .literalTooLarge(announced: 1001, limit: 1000))])
    }

    @Test func overlongLineIsRejectedAndTheSessionContinues() {
        let long = "a1 " + String(repeating: "X", count: 200)
        #expect(events(long + "\r\na2 NOOP\r\n") == [
            .rejected(tag: "a1", .lineTooLong(limit: 100)),
            .frame(IMAPFrame(text: "a2 NOOP")),
        ])
    }

    @Test func overlongPartialLineIsRejectedBeforeItsEnd() {
        var decoder = IMAPFrameDecoder(configuration: Self.configuration)
        decoder.append(Array(("a1 " + String(repeating: "X", count: 200)).utf8))
        #expect(decoder.next() == .rejected(tag: "a1", .lineTooLong(limit: 100)))
        #expect(decoder.bufferedOctets == 0)
        decoder.append(Array("YYY\r\na2 NOOP\r\n".utf8))
        #expect(decoder.next() == .frame(IMAPFrame(text: "a2 NOOP")))
    }

    @Test func tooManyLiteralsAreRejected() {
        let result = events("a1 X {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd\r\n")
        #expect(result.first == .rejected(tag: "a1", .tooManyLiterals(limit: 3)))
    }

    @Test func rawLineModeIgnoresLiteralMarkers() {
        var decoder = IMAPFrameDecoder(configuration: Self.configuration)
        decoder.expectsRawLine = true
        decoder.append(Array("abc{5}\r\n".utf8))
        #expect(decoder.next() == .frame(IMAPFrame(text: "abc{5}")))
    }

    @Test func dripFedBytesGiveTheSameFrames() {
        let input = "a1 LOGIN {4+}\r\nuser {4}\r\npass\r\na2 SELECT INBOX\r\n"
        let whole = events(input)
        var decoder = IMAPFrameDecoder(configuration: Self.configuration)
        var dripped: [IMAPFrameDecoder.Event] = []
        for byte in input.utf8 {
            decoder.append([byte])
            while let e = decoder.next() { dripped.append(e) }
        }
        #expect(dripped == whole)
        #expect(whole.count == 3)
    }

    @Test func frameTagIsFoundForInvalidInput() {
        #expect(IMAPFrame(text: "x1 garbage (((").tag == "x1")
        #expect(IMAPFrame(text: "+bad").tag == nil)
        #expect(IMAPFrame(text: "").tag == nil)
    }
}
