import StalCore
import StalSieve
import Testing

/// Serves scripts from a dictionary, as a ManageSieve store would.
struct ScriptStore: SieveHost {
    var scripts: [String: String]

    mutating func includeScript(name: String, location: SieveIncludeLocation) -> String? { scripts[name] }
}

@Suite("Limits: every runaway is stopped and the message is kept")
struct SieveLimitTests {
    @Test("include recursion is a compile-time error with linking and a runtime error without")
    func includeRecursion() throws {
        var store = ScriptStore(scripts: ["a": "require \"include\"; include \"b\";", "b": "require \"include\"; include \"a\";"])
        #expect(throws: SieveCompileError.self) {
            try SieveCompiler.compile("require \"include\"; include \"a\";", options: SieveCompileOptions(), limits: SieveIncludeLimits(), linkingWith: &store)
        }
        let outcome = try run("require \"include\"; discard; include \"a\";", host: store)
        #expect(outcome.error?.kind == .includeCycle)
        #expect(outcome.actions == [.keep(flags: nil)])
    }

    @Test("check reports compile and link errors together, sorted by position")
    func check() {
        var store = ScriptStore(scripts: ["ok": "keep;"])
        let script = "require \"include\";\ninclude \"missing\";\ninclude \"ok\";\nfrop;\n"
        let diagnostics = SieveCompiler.check(script, options: SieveCompileOptions(), limits: SieveIncludeLimits(), linkingWith: &store)
        #expect(diagnostics.map(\.location.line) == [2, 4])
        #expect(diagnostics[0].message.contains("does not exist"))
        #expect(SieveCompiler.check("require \"include\"; include \"ok\";", options: SieveCompileOptions(), limits: SieveIncludeLimits(), linkingWith: &store).isEmpty)
    }

    @Test("include depth limit")
    func includeDepth() throws {
        var scripts: [String: String] = [:]
        for i in 0..<20 { scripts["s\(i)"] = "require \"include\"; include \"s\(i + 1)\";" }
        scripts["s20"] = "keep;"
        let outcome = try run("require \"include\"; include \"s0\";", host: ScriptStore(scripts: scripts))
        #expect(outcome.error?.kind == .includeDepthExceeded)
        #expect(outcome.actions == [.keep(flags: nil)])
    }

    @Test("a runaway script exhausts the instruction budget")
    func instructionBudget() throws {
        var options = SieveRuntimeOptions(now: testNow)
        options.limits.maxInstructions = 1000
        let body = String(repeating: "if header :contains \"subject\" \"zzz\" { stop; }\n", count: 2000)
        let outcome = try run("discard;\n" + body, options: options)
        #expect(outcome.error?.kind == .instructionBudgetExceeded)
        #expect(outcome.actions == [.keep(flags: nil)])
    }

    @Test("a huge variable stops the script with an error and the message is kept")
    func hugeVariable() throws {
        var script = "require [\"variables\", \"fileinto\"]; fileinto \"A\"; set \"v\" \"0123456789\";\n"
        for _ in 0..<20 { script += "set \"v\" \"${v}${v}\";\n" }
        let outcome = try run(script)
        #expect(outcome.error?.kind == .variableTooLarge)
        #expect(outcome.error?.description.contains("max 4096") == true)
        #expect(outcome.actions == [.keep(flags: nil)])
    }

    @Test("with truncation configured, a huge variable is cut at the size limit")
    func hugeVariableTruncated() throws {
        var options = SieveRuntimeOptions(now: testNow)
        options.limits.maxVariableBytes = 1000
        options.limits.variableOverflow = .truncate
        var script = "require [\"variables\", \"fileinto\"]; set \"v\" \"0123456789\";\n"
        for _ in 0..<20 { script += "set \"v\" \"${v}${v}\";\n" }
        script += "set :length \"n\" \"${v}\"; fileinto \"${n}\";"
        let outcome = try run(script, options: options)
        guard case .fileInto(let f) = outcome.actions.first else { Issue.record("no fileinto"); return }
        #expect(f.mailbox == "1000")
    }

    @Test("1,000 redirects stop at the redirect limit")
    func thousandRedirects() throws {
        var script = ""
        for i in 0..<1000 { script += "redirect \"user\(i)@example.com\";\n" }
        let outcome = try run(script)
        #expect(outcome.error?.kind == .tooManyRedirects)
        #expect(outcome.actions == [.keep(flags: nil)])
    }

    @Test("outgoing messages are bounded separately from redirects")
    func outgoingMessages() throws {
        var options = SieveRuntimeOptions(now: testNow)
        options.limits.maxOutgoingMessages = 3
        var script = "require \"enotify\";\n"
        for i in 0..<5 { script += "notify :message \"n\(i)\" \"mailto:ops\(i)@example.org\";\n" }
        let outcome = try run(script, options: options)
        #expect(outcome.error?.kind == .tooManyOutgoingMessages)
        #expect(outcome.actions == [.keep(flags: nil)])
    }

    @Test("matching large text is charged to the instruction budget")
    func matchingCost() throws {
        var options = SieveRuntimeOptions(now: testNow)
        options.limits.maxInstructions = 100
        let big = sampleMessage + String(repeating: "lorem ipsum dolor sit amet\r\n", count: 40_000)
        let script = "require \"body\"; discard; if body :raw :contains [\"x1\", \"x2\"] { stop; }"
        let outcome = try run(script, message: big, options: options)
        #expect(outcome.error?.kind == .instructionBudgetExceeded)
        #expect(outcome.actions == [.keep(flags: nil)])
        #expect(try run(script, message: big).error == nil)
    }

    @Test("regexes with nested quantifiers are refused at compile time and at run time")
    func catastrophicRegex() throws {
        #expect(throws: SieveCompileError.self) { try SieveCompiler.compile("require \"regex\"; if header :regex \"subject\" \"^(a+)+$\" { stop; }") }
        #expect(throws: Never.self) { try SieveCompiler.compile("require \"regex\"; if header :regex \"subject\" \"^(ab)+[0-9]*$\" { stop; }") }
        let outcome = try run("require [\"regex\", \"variables\"]; set \"p\" \"(x*)*y\"; discard; if header :regex \"subject\" \"${p}\" { stop; }")
        #expect(outcome.error?.kind == .invalidArgument)
        #expect(outcome.actions == [.keep(flags: nil)])
    }

    @Test("trusted profile allows more than untrusted")
    func profiles() {
        #expect(SieveRuntimeOptions.trusted(now: testNow).limits.maxRedirects > SieveRuntimeOptions.untrusted(now: testNow).limits.maxRedirects)
        #expect(!SieveCapabilities.untrusted.contains("servermetadata"))
    }
}
