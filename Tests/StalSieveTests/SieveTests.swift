import Foundation
import StalCore
import StalSieve
import Testing

let testNow = Timestamp(secondsSinceEpoch: 1_700_000_000)

let sampleMessage = """
From: "Alice" <alice+lists@example.org>
To: bob@example.com, carol@example.net
Subject: Quarterly report
Date: Tue, 14 Nov 2023 22:13:20 +0100
Message-ID: <report-1@example.org>
X-Spam-Score: 7

Numbers attached.

"""

func run(_ script: String, message: String = sampleMessage, from: String = "alice@example.org", to: String = "bob@example.com",
         options: SieveRuntimeOptions = SieveRuntimeOptions(now: testNow), host: some SieveHost = SieveNullHost()) throws -> SieveRunOutcome {
    let compiled = try SieveCompiler.compile(script, options: options.compileOptions)
    var interpreter = SieveInterpreter(host: host, options: options)
    return interpreter.run(compiled, context: SieveExecutionContext(message: SieveMIMEMessage(message), envelope: SieveEnvelope(from: from, to: to)))
}

@Suite("Lexer, parser and validator")
struct SieveCompileTests {
    @Test("errors carry line and column")
    func errorLocation() {
        let script = "require \"fileinto\";\nif header :is \"Subject\" \"x\" {\n  fileinto 42;\n}\n"
        #expect(throws: SieveCompileError.self) { try SieveCompiler.compile(script) }
        do {
            _ = try SieveCompiler.compile(script)
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(error.diagnostics[0].location == SieveSourceLocation(line: 3, column: 12))
            #expect(error.diagnostics[0].message.contains("expects a string as argument 1 (folder)"))
        }
    }

    @Test("several errors are reported in one pass")
    func recovery() {
        do {
            _ = try SieveCompiler.compile("frop;\nkeep\nstop;\nfileinto \"x\";\n")
            Issue.record("compile should fail")
        } catch {
            #expect(error.diagnostics.map(\.location.line) == [1, 3, 4])
            #expect(error.diagnostics[1].message.contains("missing semicolon"))
        }
    }

    @Test("unterminated string and comment are lexer errors")
    func lexerErrors() {
        for script in ["keep \"abc", "/* open", "if size :over 99999999999999999999999 { stop; }"] {
            #expect(throws: SieveCompileError.self, "\(script)") { try SieveCompiler.compile(script) }
        }
    }

    @Test("capabilities must be required and known")
    func requireRules() {
        #expect(throws: SieveCompileError.self) { try SieveCompiler.compile("fileinto \"a\";") }
        #expect(throws: SieveCompileError.self) { try SieveCompiler.compile("require \"no-such-thing\";") }
        #expect(throws: SieveCompileError.self) { try SieveCompiler.compile("keep; require \"fileinto\";") }
        #expect(throws: SieveCompileError.self) {
            try SieveCompiler.compile("require \"fileinto\"; fileinto \"a\";", options: SieveCompileOptions(capabilities: ["envelope"]))
        }
    }

    @Test("multi-line strings, dot-stuffing and CRLF")
    func multiline() throws {
        let outcome = try run("require \"vacation\";\nvacation text:\nline one\n..dot\n.\n;\n")
        guard case .vacation(let v) = outcome.actions.first else { Issue.record("no vacation"); return }
        #expect(v.reason == "line one\r\n.dot\r\n")
    }
}

@Suite("Interpreter")
struct SieveInterpreterTests {
    @Test("implicit keep when nothing cancels it")
    func implicitKeep() throws {
        #expect(try run("if false { discard; }").actions == [.keep(flags: nil)])
        #expect(try run("discard;").actions == [.discard])
        #expect(try run("require \"fileinto\"; fileinto \"A\";").actions.map(\.name) == ["store"])
        #expect(try run("require [\"fileinto\", \"copy\"]; fileinto :copy \"A\";").actions.map(\.name) == ["store", "keep"])
        #expect(try run("redirect \"x@example.com\";").actions.map(\.name) == ["redirect"])
    }

    @Test("address parts, subaddress and envelope")
    func addressTests() throws {
        let script = """
        require ["envelope", "subaddress", "fileinto"];
        if allof (address :domain "from" "example.org", address :user "from" "alice", address :detail "from" "lists",
                  envelope :localpart "to" "bob", address :all :is "to" "carol@example.net") { fileinto "ok"; }
        """
        #expect(try run(script).actions == [.fileInto(SieveFileInto(mailbox: "ok", flags: nil, copy: false, create: false, specialUse: nil, mailboxID: nil))])
    }

    @Test("match variables and modifiers")
    func variables() throws {
        let script = """
        require ["variables", "fileinto"];
        if header :matches "Subject" "* report" { set :upperfirst "box" "${1}"; }
        fileinto "${box}";
        """
        guard case .fileInto(let f) = try run(script).actions.first else { Issue.record("no fileinto"); return }
        #expect(f.mailbox == "Quarterly")
    }

    @Test("relational with i;ascii-numeric")
    func relational() throws {
        let script = """
        require ["relational", "comparator-i;ascii-numeric"];
        if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "5" { discard; }
        """
        #expect(try run(script).actions == [.discard])
    }

    @Test("date test converts zones")
    func date() throws {
        let script = """
        require ["date", "relational"];
        if allof (date :originalzone "date" "hour" "22", date :zone "+0000" "date" "hour" "21", date "date" "date" "2023-11-14") { discard; }
        """
        #expect(try run(script).actions == [.discard])
    }

    @Test("imap4flags follow the internal variable into the implicit keep")
    func flags() throws {
        let outcome = try run("require \"imap4flags\"; addflag \"\\\\Seen\"; addflag [\"$Work\", \"\\\\seen\"];")
        #expect(outcome.actions == [.keep(flags: ["\\Seen", "$Work"])])
    }

    @Test("vacation period defaults and limits")
    func vacation() throws {
        let outcome = try run("require \"vacation\"; vacation :days 1000 :subject \"Away\" \"Gone fishing\";")
        guard case .vacation(let v) = outcome.actions.first else { Issue.record("no vacation"); return }
        #expect(v.periodSeconds == 90 * 86400)
        #expect(v.subject == "Away")
    }

    @Test("reject conflicts with fileinto at runtime and the message is kept")
    func rejectConflict() throws {
        let outcome = try run("require [\"reject\", \"fileinto\"]; fileinto \"A\"; reject \"no\";")
        #expect(outcome.error?.kind == .actionConflict)
        #expect(outcome.actions == [.keep(flags: nil)])
    }

    @Test("body test reads decoded text parts")
    func body() throws {
        let message = """
        From: a@example.org
        Content-Type: multipart/mixed; boundary="b"

        --b
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: base64

        SGVsbG8gd29ybGQ=
        --b
        Content-Type: application/pdf

        JVBERi0=
        --b--

        """
        let outcome = try run("require \"body\"; if body :contains \"hello world\" { discard; }", message: message)
        #expect(outcome.actions == [.discard])
    }

    @Test("editheader changes what later tests see")
    func editheader() throws {
        let script = """
        require ["editheader"];
        addheader "X-Filtered" "yes";
        deleteheader "Subject";
        if allof (header :is "X-Filtered" "yes", not exists "Subject") { discard; }
        """
        #expect(try run(script).actions == [.discard])
    }
}

@Suite("Compiled-script binary form")
struct SieveBinaryTests {
    @Test("encode then decode gives the same program for the RFC and Pigeonhole scripts")
    func roundTrip() throws {
        var texts = RFCExampleTests.files.compactMap { try? String(contentsOf: RFCExampleTests.directory.appendingPathComponent($0), encoding: .utf8) }
        let examples = PigeonholeConformanceTests.pigeonholeDirectory + "/examples"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: examples)) ?? [] where name.hasSuffix(".sieve") {
            texts.append(try String(contentsOfFile: examples + "/" + name, encoding: .utf8))
        }
        #expect(texts.count >= 34)
        for text in texts {
            let script = try SieveCompiler.compile(text)
            let bytes = SieveBinary.encode(script)
            let decoded = try SieveBinary.decode(bytes)
            #expect(decoded.commands == script.commands)
            #expect(decoded.capabilities == script.capabilities)
            #expect(SieveBinary.encode(decoded) == bytes)
        }
    }

    @Test("truncated or corrupted input is rejected, never trusted")
    func corrupt() throws {
        let bytes = SieveBinary.encode(try SieveCompiler.compile("require \"fileinto\"; if header :is \"a\" \"b\" { fileinto \"x\"; }"))
        for cut in [0, 3, 5, bytes.count / 2, bytes.count - 1] {
            #expect(throws: SieveBinary.DecodingError.self) { try SieveBinary.decode(Array(bytes[0..<cut])) }
        }
        var wrongVersion = bytes
        wrongVersion[4] = 99
        #expect(throws: SieveBinary.DecodingError.self) { try SieveBinary.decode(wrongVersion) }
        #expect(throws: SieveBinary.DecodingError.self) { try SieveBinary.decode(bytes + [0]) }
    }

    @Test("a well-formed encoding of a malformed program is rejected")
    func shapeChecked() throws {
        let good = SieveBinary.encode(try SieveCompiler.compile("keep;"))
        // "keep" -> "kept": same length, unknown command.
        var unknown = good
        if let i = unknown.firstIndex(of: UInt8(ascii: "p")) { unknown[i] = UInt8(ascii: "t") }
        #expect(unknown != good)
        #expect(throws: SieveBinary.DecodingError.self) { try SieveBinary.decode(unknown) }
        // "stop" encoded where a test is expected: a command in test position.
        let ifScript = SieveBinary.encode(try SieveCompiler.compile("if true { stop; }"))
        var swapped = ifScript
        if let i = swapped.firstIndex(of: UInt8(ascii: "t")), Array(swapped[i..<(i + 4)]) == Array("true".utf8) {
            swapped.replaceSubrange(i..<(i + 4), with: Array("stop".utf8))
        }
        #expect(swapped != ifScript)
        #expect(throws: SieveBinary.DecodingError.self) { try SieveBinary.decode(swapped) }
    }
}
