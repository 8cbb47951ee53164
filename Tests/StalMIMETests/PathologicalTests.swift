import Foundation
import Synchronization
import Testing
@testable import StalMIME

/// Hostile and broken inputs: every one parses within the named limits, reports what it
/// repaired, and still renders every view.
@Suite struct PathologicalTests {
    static func renderAll(_ m: MIMEMessage) {
        _ = m.imapEnvelope()
        _ = m.imapBodyStructure(extended: true)
        _ = m.jmapEmail()
        _ = MessageInspection.value(for: m).encoded()
    }

    @Test func oneMegabyteHeaderLine() {
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        let bytes = Array("Subject: ".utf8) + long + Array("\r\nFrom: a@b.c\r\n\r\nbody".utf8)
        let m = MIMEMessage.parse(bytes)
        #expect(m.text(named: "Subject")?.utf8.count == 1 << 20)
        // The field after it starts beyond the 1 MB header limit: skipped and reported.
        #expect(m.text(named: "From") == nil)
        #expect(m.problems.contains { $0.kind == .headerTooLarge })
        #expect(text(m.section(path: [], .text)) == "body")
        #expect(m.imapEnvelope().hasPrefix("(NIL {1048576}\r\naaa"))
    }

    @Test func headerBlockOverLimitIsSkipped() {
        var bytes: [UInt8] = []
        for i in 0..<2000 { bytes += Array("X-Field-\(i): \(String(repeating: "v", count: 100))\r\n".utf8) }
        bytes += Array("\r\nbody".utf8)
        let m = MIMEMessage.parse(bytes, limits: MIMELimits(headerOctetsMax: 10_000, headerFieldsMax: 50))
        #expect(m.root.headers.count == 50)
        #expect(m.problems.contains { $0.kind == .tooManyHeaderFields })
        #expect(text(m.section(path: [1])) == "body")
    }

    @Test func tinyFieldsAcrossManyPartsAreCappedInTotal() {
        var bytes = Array("Content-Type: multipart/mixed; boundary=b\r\n\r\n".utf8)
        let fields = Array(repeating: Array("a:\n".utf8), count: 5_000).flatMap { $0 }
        for _ in 0..<100 { bytes += Array("--b\n".utf8) + fields + Array("\nx\n".utf8) }
        bytes += Array("--b--\n".utf8)
        let m = MIMEMessage.parse(bytes, limits: MIMELimits(headerFieldsTotalMax: 20_000))
        #expect(m.parts.reduce(0) { $0 + $1.headers.count } == 20_000)
        #expect(m.parts.count == 101)
        #expect(m.problems.contains { $0.kind == .tooManyHeaderFields })
    }

    @Test func tenThousandNestedMultiparts() {
        let depth = 10_000
        var bytes: [UInt8] = []
        for i in 0..<depth { bytes += Array("Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n".utf8) }
        bytes += Array("Content-Type: text/plain\r\n\r\ndeep\r\n".utf8)
        for i in (0..<depth).reversed() { bytes += Array("--b\(i)--\r\n".utf8) }
        let m = MIMEMessage.parse(bytes)
        #expect(m.parts.allSatisfy { $0.depth <= m.limits.nestingDepthMax })
        #expect(m.problems.contains { $0.kind == .nestingTooDeep })
        #expect(m.parts.count == m.limits.nestingDepthMax + 1)
        Self.renderAll(m)
    }

    @Test func tenThousandNestedMessages() {
        var bytes: [UInt8] = []
        for _ in 0..<10_000 { bytes += Array("Content-Type: message/rfc822\r\n\r\n".utf8) }
        bytes += Array("Subject: bottom\r\n\r\nx".utf8)
        let m = MIMEMessage.parse(bytes)
        #expect(m.parts.count == m.limits.nestingDepthMax + 1)
        Self.renderAll(m)
    }

    @Test func hundredThousandParts() {
        var bytes = Array("Content-Type: multipart/mixed; boundary=x\r\n\r\n".utf8)
        for _ in 0..<100_000 { bytes += Array("--x\r\n\r\np\r\n".utf8) }
        bytes += Array("--x--\r\nepilogue".utf8)
        let m = MIMEMessage.parse(bytes)
        #expect(m.parts.count == m.limits.partsMax)
        #expect(m.problems.contains { $0.kind == .tooManyParts })
        #expect(m.root.epilogue.map { String(decoding: bytes[$0], as: UTF8.self) } == "epilogue")
        _ = m.imapBodyStructure(extended: true)
    }

    @Test func invalidAndUnknownCharsets() {
        let unknown = MIMEMessage.parse(crlf("Content-Type: text/plain; charset=x-no-such-charset\n\ncaf\u{e9}\n"))
        let v = unknown.jmapBodyValue(part: 0)
        #expect(v.value == "café\r\n")
        #expect(v.isEncodingProblem)
        let mislabelled = MIMEMessage.parse(Array("Content-Type: text/plain; charset=utf-8\r\n\r\ncaf".utf8) + [0xE9])
        #expect(mislabelled.decodedText(of: 0) == ("café", true))
        let koi8 = MIMEMessage.parse(Array("Content-Type: text/plain; charset=koi8-r\r\n\r\n".utf8) + [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4])
        #expect(koi8.decodedText(of: 0) == ("Привет", false))
        let truncatedSJIS = MIMEMessage.parse(Array("Content-Type: text/plain; charset=shift_jis\r\n\r\nA".utf8) + [0x82])
        #expect(truncatedSJIS.decodedText(of: 0).hadProblem)
    }

    @Test func brokenBoundaries() {
        // The inner multipart never closes; the outer boundary ends it.
        let m = MIMEMessage.parse(crlf("""
        Content-Type: multipart/mixed; boundary=outer

        --outer
        Content-Type: multipart/alternative; boundary=inner

        --inner

        one
        --outer
        Content-Type: text/plain

        two
        --outer--
        """))
        #expect(m.parts.count == 4)
        #expect(text(m.section(path: [1, 1])) == "one")
        #expect(text(m.section(path: [2])) == "two")
        #expect(m.problems.contains { $0.kind == .missingCloseBoundary })
    }

    @Test func missingBoundaryParameterAndNoDelimiters() {
        let noParam = MIMEMessage.parse(crlf("Content-Type: multipart/mixed\n\nhello\n"))
        #expect(noParam.problems.contains { $0.kind == .missingBoundaryParameter })
        #expect(noParam.parts.count == 1)
        let never = MIMEMessage.parse(crlf("Content-Type: multipart/mixed; boundary=zz\n\nhello\n"))
        #expect(never.problems.contains { $0.kind == .missingOpenBoundary })
        #expect(never.imapBodyStructure(extended: false) == #"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed")"#)
    }

    @Test func degenerateInputs() {
        for input in ["", "\r\n", "\n\n\n", ":", "no colon here\r\nat all", "From nobody Mon Jan 1 00:00:00 2024\nSubject: mbox\n\nx",
                      "Subject: x", "\u{0}\u{0}\u{0}", "--\r\n--\r\n", "Content-Type: message/rfc822\r\n\r\n"] {
            let m = MIMEMessage.parse(Array(input.utf8))
            #expect(!m.parts.isEmpty)
            Self.renderAll(m)
        }
        let mbox = MIMEMessage.parse(Array("From nobody Mon Jan 1 00:00:00 2024\nSubject: mbox\n\nx".utf8))
        #expect(mbox.text(named: "Subject") == "mbox")
    }

    @Test func binaryJunkDoesNotCrash() {
        var rng: UInt64 = 0x1234_5678
        for _ in 0..<200 {
            var bytes: [UInt8] = []
            for _ in 0..<512 {
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                let pick = Int(rng >> 59)
                let fragments = ["--b\r\n", "\r\n", "Content-Type: multipart/mixed; boundary=b\r\n", ":", "=?utf-8?B?", "?=",
                                 "Content-Transfer-Encoding: base64\r\n", "message/rfc822", "\"", "(", "<", ">", ",", "==", "=\r\n"]
                if pick < fragments.count { bytes += Array(fragments[pick].utf8) } else { bytes.append(UInt8(truncatingIfNeeded: rng >> 13)) }
            }
            let m = MIMEMessage.parse(bytes)
            Self.renderAll(m)
        }
    }
}

/// Inputs the fuzzer once crashed on (tools/fuzz/mime-regressions), replayed through every view.
@Suite struct FuzzRegressionTests {
    @Test func replayKeptCrashes() throws {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        dir.appendPathComponent("tools/fuzz/mime-regressions")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            let m = MIMEMessage.parse(bytes, limits: MIMELimits(nestingDepthMax: 32, partsMax: 500))
            PathologicalTests.renderAll(m)
            #expect(m.parts.count <= 500, "\(name)")
        }
    }
}

@Suite struct HostileFieldTests {
    @Test func manyCommentsAndUnterminatedWords() {
        let parens = [UInt8](repeating: UInt8(ascii: "("), count: 200_000)
        #expect(HeaderValue.urls(parens + Array("<http://x>".utf8)).isEmpty)
        var words: [UInt8] = []
        for _ in 0..<50_000 { words += Array("=?a?q?x".utf8) }
        #expect(EncodedWords.decode(words).utf8.count == words.count)
        let m = MIMEMessage.parse(Array("Subject: ".utf8) + words + Array("\r\nFrom: ".utf8) + parens + Array("\r\n\r\n".utf8))
        PathologicalTests.renderAll(m)
    }
}

@Suite struct StackDepthTests {
    /// The deepest allowed tree, parsed and rendered on a thread with a 512 KB stack
    /// (the size of secondary threads on some platforms), in a debug build. (128 levels
    /// overflowed here: a debug frame of the parser is over 4 KB.)
    @Test func deepestTreeFitsSmallStack() {
        let depth = 200
        var bytes: [UInt8] = []
        for i in 0..<depth {
            bytes += Array("Content-Type: \(i % 2 == 0 ? "multipart/mixed; boundary=b\(i)" : "message/rfc822")\r\n\r\n".utf8)
            if i % 2 == 0 { bytes += Array("--b\(i)\r\n".utf8) }
        }
        bytes += Array("Subject: deep\r\n\r\nx\r\n".utf8)
        let input = bytes
        let limits = MIMELimits(nestingDepthMax: 10_000)
        #expect(limits.nestingDepthMax == 64)
        let done = DispatchSemaphore(value: 0)
        let parts = Mutex(0)
        let thread = Thread {
            let m = MIMEMessage.parse(input, limits: limits)
            PathologicalTests.renderAll(m)
            parts.withLock { $0 = m.parts.count }
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        #expect(parts.withLock { $0 } == limits.nestingDepthMax + 1)
    }
}
