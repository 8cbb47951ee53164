/// Compile-time options: which capabilities a script may require and the structural limits.
public struct SieveCompileOptions: Sendable {
    public var capabilities: Set<String>
    public var customExtensions: [SieveCustomExtension]
    public var maxScriptBytes: Int
    public var maxNesting: Int
    public var maxStringBytes: Int
    /// Variable namespaces a host provides besides `global` (e.g. the test harness's `tst`).
    public var variableNamespaces: Set<String> = []

    public init(capabilities: Set<String> = SieveCapabilities.all, customExtensions: [SieveCustomExtension] = [],
                maxScriptBytes: Int = 1024 * 1024, maxNesting: Int = 32, maxStringBytes: Int = 1024 * 1024) {
        self.capabilities = capabilities
        self.customExtensions = customExtensions
        self.maxScriptBytes = maxScriptBytes
        self.maxNesting = maxNesting
        self.maxStringBytes = maxStringBytes
    }
}

public enum SieveCompiler {
    static func precompiledRegexes(_ calls: [SieveCall]) -> [String: SieveRegex] {
        var out: [String: SieveRegex] = [:]
        func visit(_ call: SieveCall) {
            if call.group("match-type") == "regex", let keys = call.positional.last ?? nil {
                let comparator = call.tag("comparator").flatMap { $0.templates.first?.constant } ?? "i;ascii-casemap"
                let insensitive = comparator.lowercased() != "i;octet"
                for t in keys.templates {
                    guard let pattern = t.constant else { continue }
                    let key = SieveScript.regexKey(pattern, caseInsensitive: insensitive)
                    if out[key] == nil, let r = SieveRegex(pattern, caseInsensitive: insensitive) { out[key] = r }
                }
            }
            call.tests.forEach(visit)
            call.block?.forEach(visit)
        }
        calls.forEach(visit)
        return out
    }

    /// Lexes, parses and validates `text`; every diagnostic found is reported together.
    public static func compile(_ text: String, options: SieveCompileOptions = SieveCompileOptions()) throws(SieveCompileError) -> SieveScript {
        let (script, errors) = compileCollecting(text, options: options)
        if !errors.isEmpty { throw SieveCompileError(errors) }
        return script!
    }

    /// The program (when the syntax was readable) and every error; linking uses both.
    static func compileCollecting(_ text: String, options: SieveCompileOptions) -> (SieveScript?, [SieveDiagnostic]) {
        if text.utf8.count > options.maxScriptBytes {
            return (nil, [SieveDiagnostic(at: SieveSourceLocation(line: 1, column: 1), "script is too large (max \(options.maxScriptBytes) bytes)")])
        }
        var lexer = SieveLexer(text)
        let tokens = lexer.tokenize()
        var parser = SieveParser(tokens: tokens, maxNesting: options.maxNesting)
        let nodes = parser.parseScript()
        let syntaxErrors = lexer.diagnostics + parser.diagnostics
        if !syntaxErrors.isEmpty {
            return (nil, syntaxErrors.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) })
        }
        var validator = SieveValidator(options: options)
        let commands = validator.validateScript(nodes)
        let errors = validator.diagnostics.filter { $0.severity == .error }
            .sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        var script = SieveScript(commands: commands, capabilities: validator.required,
                                 warnings: validator.diagnostics.filter { $0.severity == .warning }, callCount: validator.callCount)
        if errors.isEmpty { script.regexes = precompiledRegexes(commands) }
        return (script, errors)
    }
}

struct SieveValidator {
    let options: SieveCompileOptions
    var diagnostics: [SieveDiagnostic] = []
    var required: Set<String> = []
    var callCount = 0
    private var customCommands: [String: SieveCommandSpec] = [:]
    private var customTests: [String: SieveCommandSpec] = [:]
    private var customOwner: [String: String] = [:]
    private var reportedUnknown: Set<String> = []
    private var assignedLocals: Set<String> = []
    private var unknownTagSeen = false

    init(options: SieveCompileOptions) {
        self.options = options
        for ext in options.customExtensions {
            for spec in ext.commands {
                if spec.role == .test { customTests[spec.name] = spec } else { customCommands[spec.name] = spec }
                customOwner[spec.name] = ext.name
            }
        }
    }

    static let addressHeaders: Set<String> = [
        "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-to", "resent-cc",
        "resent-bcc", "return-path", "disposition-notification-to", "delivered-to", "envelope-to", "x-original-to",
        "errors-to", "mail-followup-to", "mail-reply-to", "original-recipient", "x-envelope-to", "x-envelope-from",
        "apparently-to", "resent-reply-to", "abuse-reports-to", "for-approval", "for-comment", "for-handling",
        "read-receipt-to", "registered-mail-reply-requested-by", "return-receipt-requested", "return-receipt-to",
        "x-admin", "x-beenthere", "x-complaints-to", "x-confirm-reading-to", "x-original-from", "x-report-abuse-to",
        "generate-delivery-report", "notice-requested-upon-delivery-to", "posted-to", "x-loop",
    ]
    static let datePartNames: Set<String> = ["year", "month", "day", "date", "julian", "hour", "minute", "second",
                                             "time", "iso8601", "std11", "zone", "weekday"]
    static let relationalOps: Set<String> = ["gt", "ge", "lt", "le", "eq", "ne"]

    private mutating func error(_ location: SieveSourceLocation, _ message: String) {
        diagnostics.append(SieveDiagnostic(at: location, message))
    }

    private mutating func warning(_ location: SieveSourceLocation, _ message: String) {
        diagnostics.append(SieveDiagnostic(.warning, at: location, message))
    }

    func isKnownCapability(_ name: String) -> Bool {
        if options.capabilities.contains(name) { return true }
        return options.customExtensions.contains { $0.name == name }
    }

    mutating func validateScript(_ nodes: [SieveCommandNode]) -> [SieveCall] {
        var seenOther = false
        var rest: [SieveCommandNode] = []
        for node in nodes {
            if node.name.lowercased() == "require" {
                if seenOther {
                    error(node.location, "require command can only be placed at top level at the beginning of the file")
                    continue
                }
                validateRequire(node)
            } else {
                seenOther = true
                rest.append(node)
            }
        }
        return validateBlock(rest, topLevel: true)
    }

    private mutating func validateRequire(_ node: SieveCommandNode) {
        if !node.tests.isEmpty {
            error(node.location, "the require command accepts no tests, but tests are specified")
            return
        }
        if node.block != nil {
            error(node.location, "the require command accepts no command block, but one is specified")
            _ = validateBlock(node.block!, topLevel: false)
            return
        }
        guard let spec = SieveSpecs.command("require"), let call = validateArguments(node.name, node.location, node.arguments, spec: spec, isTest: false),
              case .list(let names)? = call.positional.first else { return }
        for (i, t) in names.enumerated() {
            guard let name = t.constant else { continue }
            let loc = stringLocation(node.arguments.first, i) ?? node.location
            if isKnownCapability(name) {
                required.insert(name)
                if name == "vacation-seconds" { required.insert("vacation") }
                if name == "spamtestplus" { required.insert("spamtest") }
                if name == "ereject" { required.insert("reject") }
                if name.hasPrefix("comparator-") { required.insert(name) }
            } else {
                error(loc, "require command: unknown Sieve capability '\(name)'")
            }
        }
    }

    private func stringLocation(_ argument: SieveArgumentNode?, _ index: Int) -> SieveSourceLocation? {
        if case .strings(let items, _, _)? = argument, index < items.count { return items[index].location }
        return argument?.location
    }

    mutating func validateBlock(_ nodes: [SieveCommandNode], topLevel: Bool) -> [SieveCall] {
        var out: [SieveCall] = []
        var previous: String?
        for node in nodes {
            let name = node.name.lowercased()
            if name == "require" {
                error(node.location, "require command can only be placed at top level at the beginning of the file")
                previous = name
                continue
            }
            if name == "elsif" || name == "else", previous != "if", previous != "elsif" {
                error(node.location, "the \(name) command must follow an if or elsif command")
            }
            if let call = validateCommand(node) { out.append(call) }
            previous = name
        }
        return out
    }

    private mutating func validateCommand(_ node: SieveCommandNode) -> SieveCall? {
        let name = node.name.lowercased()
        let spec: SieveCommandSpec
        var isCustom = false
        if let s = SieveSpecs.command(name), s.requires.map({ required.contains($0) }) ?? true {
            spec = s
        } else if let s = customCommands[name], let owner = customOwner[name], required.contains(owner) {
            spec = s
            isCustom = true
        } else {
            if SieveSpecs.test(name) != nil || customTests[name] != nil {
                error(node.location, "\(name) is a test, not a command; perhaps you meant to use test '\(name)' within an if command")
            } else if !reportedUnknown.contains("command:" + name) {
                error(node.location, "unknown command '\(name)' (only reported once at first occurrence)")
                reportedUnknown.insert("command:" + name)
            } else {
                error(node.location, "unknown command '\(name)'")
            }
            return nil
        }
        var ok = true
        switch spec.subTests {
        case .none:
            if let first = node.tests.first {
                let testName = first.name.lowercased()
                if !node.hasTestList, SieveSpecs.test(testName) == nil, customTests[testName] == nil {
                    error(first.location, "missing semicolon ';' after \(name) command")
                } else {
                    error(node.location, "the \(name) command accepts no tests, but tests are specified")
                }
                ok = false
            }
        case .one:
            if node.tests.isEmpty {
                error(node.location, "the \(name) command requires one test argument, but none was specified")
                ok = false
            } else if node.hasTestList || node.tests.count > 1 {
                error(node.location, "the \(name) command requires one test argument, but a test list was specified")
                ok = false
            }
        case .list:
            break
        }
        var structureOK = ok
        var blockProblem: String?
        if structureOK {
            switch (spec.block, node.block) {
            case (.required, nil):
                blockProblem = "the \(name) command requires a command block, but it is missing"
                structureOK = false
            case (.none, .some):
                blockProblem = "the \(name) command accepts no command block, but one is specified"
                structureOK = false
            default:
                break
            }
        }
        guard var call = validateArguments(name, node.location, node.arguments, spec: spec, isTest: false) else {
            if let blockProblem { error(node.location, blockProblem) }
            _ = node.block.map { validateBlock($0, topLevel: false) }
            return nil
        }
        // An unknown tag in the command's test abandons the whole command, as Pigeonhole does,
        // so a missing block is then not reported on top of it.
        unknownTagSeen = false
        call.isCustom = isCustom
        callCount += 1
        let testsOK = ok
        ok = structureOK
        var ihaveCapabilities: [String]?
        // Tests are checked whenever their own structure is right, even if the block is wrong,
        // so `if setflag;` reports both problems.
        if testsOK {
            var tests: [SieveCall] = []
            for t in node.tests {
                if let c = validateTest(t) {
                    tests.append(c)
                    if (name == "if" || name == "elsif"), c.name == "ihave", case .list(let caps)? = c.positional.first {
                        ihaveCapabilities = caps.compactMap(\.constant)
                    }
                } else { ok = false }
            }
            call.tests = tests
        }
        if let blockProblem, !unknownTagSeen { error(node.location, blockProblem) }
        switch (spec.block, node.block) {
        case (.required, nil):
            break
        case (.none, .some(let b)):
            _ = validateBlock(b, topLevel: false)
        case (.required, .some(let b)):
            if let caps = ihaveCapabilities {
                if caps.allSatisfy({ isKnownCapability($0) && !SieveCapabilities.notTestableByIhave.contains($0) }) {
                    let saved = required
                    for c in caps { required.insert(c) }
                    call.block = validateBlock(b, topLevel: false)
                    required = saved
                } else {
                    call.block = []
                    call.constantFalse = true
                }
            } else {
                call.block = validateBlock(b, topLevel: false)
            }
        case (.none, nil):
            break
        }
        if ok { validateSemantics(&call, node.arguments) }
        return ok ? call : nil
    }

    private mutating func validateTest(_ node: SieveTestNode) -> SieveCall? {
        let name = node.name.lowercased()
        let spec: SieveCommandSpec
        var isCustom = false
        if let s = SieveSpecs.test(name), s.requires.map({ required.contains($0) }) ?? true {
            spec = s
        } else if let s = customTests[name], let owner = customOwner[name], required.contains(owner) {
            spec = s
            isCustom = true
        } else {
            if SieveSpecs.command(name) != nil || customCommands[name] != nil {
                error(node.location, "\(name) is a command, not a test")
            } else {
                error(node.location, "unknown test '\(name)' (only reported once at first occurrence)")
            }
            for t in node.tests { _ = validateTest(t) }
            return nil
        }
        let validated = validateArguments(name, node.location, node.arguments, spec: spec, isTest: true)
        switch spec.subTests {
        case .none:
            if let first = node.tests.first {
                let tagNames = Set(spec.tags.map(\.name))
                if !node.hasTestList, tagNames.contains(first.name.lowercased()) {
                    error(first.location, "missing colon ':' before ':\(first.name.lowercased())' tag in \(name) test")
                } else {
                    error(node.location, "the \(name) test accepts no sub-tests, but tests are specified")
                }
                return nil
            }
        case .one:
            if node.tests.count != 1 || node.hasTestList {
                error(node.location, "the \(name) test requires one sub-test, but \(node.tests.isEmpty ? "none was" : "a test list was") specified")
                return nil
            }
        case .list:
            if !node.hasTestList {
                error(node.location, "the \(name) test requires a test list, but \(node.tests.isEmpty ? "none was" : "a single test was") specified")
                return nil
            }
        }
        guard var call = validated else {
            for t in node.tests { _ = validateTest(t) }
            return nil
        }
        call.isCustom = isCustom
        callCount += 1
        var tests: [SieveCall] = []
        var ok = true
        for t in node.tests {
            if let c = validateTest(t) { tests.append(c) } else { ok = false }
        }
        call.tests = tests
        if ok { validateSemantics(&call, node.arguments) }
        return ok ? call : nil
    }

    private func convert(_ literal: SieveStringLiteral) -> (SieveTemplate, String?) {
        var text = literal.value
        var problem: String?
        if required.contains("encoded-character") {
            (text, problem) = SieveEncodedCharacter.decode(text)
        }
        if required.contains("variables") {
            return (SieveTemplate.parse(text), problem)
        }
        return (SieveTemplate(literal: text), problem)
    }

    private mutating func validateArguments(_ name: String, _ location: SieveSourceLocation, _ arguments: [SieveArgumentNode],
                                            spec: SieveCommandSpec, isTest: Bool) -> SieveCall? {
        let what = "\(name) \(isTest ? "test" : "command")"
        var call = SieveCall(name: name, location: location, tags: [:], groups: [:], positional: [], tests: [], block: nil, isCustom: false)
        var positional: [SieveArgumentNode] = []
        var i = 0
        func value(_ node: SieveArgumentNode) -> SieveArgument? {
            switch node {
            case .tag: return nil
            case .number(let n, _): return .number(n)
            case .strings(let items, let isList, _):
                var templates: [SieveTemplate] = []
                for item in items {
                    let (t, problem) = convert(item)
                    if let problem { error(item.location, problem) }
                    if let problem = templateProblem(t) { error(item.location, problem) }
                    if item.value.utf8.count > options.maxStringBytes {
                        error(item.location, "string is too long (max \(options.maxStringBytes) bytes)")
                    }
                    templates.append(t)
                }
                return isList ? .list(templates) : .string(templates[0])
            }
        }
        while i < arguments.count {
            let arg = arguments[i]
            if case .tag(let rawTag, let loc) = arg {
                let tagName = rawTag.lowercased()
                guard let tagSpec = spec.tags.first(where: { $0.name == tagName }),
                      tagSpec.requires.map({ required.contains($0) }) ?? true else {
                    error(loc, "unknown tagged argument ':\(tagName)' for the \(what) (reported only once at first occurrence)")
                    unknownTagSeen = true
                    return nil
                }
                if !positional.isEmpty {
                    error(loc, "unexpected tagged argument ':\(tagName)' after positional arguments of the \(what)")
                    return nil
                }
                if let group = tagSpec.group {
                    if let previous = call.groups[group] {
                        error(loc, "unexpected tagged argument ':\(tagName)' for the \(what): conflicts with earlier ':\(previous)' (\(group))")
                        return nil
                    }
                    call.groups[group] = tagName
                } else if call.tags[tagName] != nil, !SieveSpecs.modifierTags.contains(where: { $0.name == tagName }) {
                    error(loc, "tagged argument ':\(tagName)' specified more than once for the \(what)")
                    return nil
                }
                if let kind = tagSpec.value {
                    guard i + 1 < arguments.count, let v = value(arguments[i + 1]), matches(v, kind) else {
                        error(loc, "the :\(tagName) tag for the \(what) requires \(kind.article) argument, but \(i + 1 < arguments.count ? describe(arguments[i + 1]) : "none") was found")
                        return nil
                    }
                    call.tags[tagName] = normalise(v, kind)
                    i += 2
                } else {
                    call.tags[tagName] = .flag
                    i += 1
                }
                continue
            }
            positional.append(arg)
            i += 1
        }
        let requiredCount = spec.positional.filter { !$0.optional }.count
        if positional.count < requiredCount {
            error(location, "the \(what) requires \(requiredCount) positional argument\(requiredCount == 1 ? "" : "s"), but \(positional.count) \(positional.count == 1 ? "was" : "were") specified")
            return nil
        }
        if positional.count > spec.positional.count {
            error(positional[spec.positional.count].location,
                  "the \(what) accepts only \(spec.positional.count) positional argument\(spec.positional.count == 1 ? "" : "s"), but \(positional.count) were specified")
            return nil
        }
        var optionalToFill = positional.count - requiredCount
        var next = 0
        for (index, p) in spec.positional.enumerated() {
            if p.optional {
                if optionalToFill == 0 { call.positional.append(nil); continue }
                optionalToFill -= 1
            }
            let node = positional[next]
            next += 1
            guard let v = value(node), matches(v, p.kind) else {
                error(node.location, "the \(what) expects \(p.kind.article) as argument \(index + 1) (\(p.label)), but \(describe(node)) was found")
                return nil
            }
            call.positional.append(normalise(v, p.kind))
        }
        return call
    }

    static let maxMatchIndex = 32

    private func templateProblem(_ t: SieveTemplate) -> String? {
        for part in t.parts {
            switch part {
            case .matchVariable(let n) where n > Self.maxMatchIndex:
                return "match value index \(n) is out of range (max \(Self.maxMatchIndex))"
            case .variable(let name) where name.contains("."):
                let namespace = String(name.split(separator: ".")[0])
                let known = (namespace == "global" && required.contains("include")) || options.variableNamespaces.contains(namespace)
                if !known { return "variable namespace '\(namespace)' is unknown" }
            default:
                break
            }
        }
        return nil
    }

    private func matches(_ v: SieveArgument, _ kind: SieveArgumentKind) -> Bool {
        switch (v, kind) {
        case (.number, .number), (.string, .string), (.string, .stringList), (.list, .stringList): return true
        default: return false
        }
    }

    private func normalise(_ v: SieveArgument, _ kind: SieveArgumentKind) -> SieveArgument {
        if kind == .stringList, case .string(let t) = v { return .list([t]) }
        return v
    }

    private func describe(_ node: SieveArgumentNode) -> String {
        switch node {
        case .tag(let t, _): return "a tag ':\(t)'"
        case .number: return "a number"
        case .strings(_, let isList, _): return isList ? "a string list" : "a string"
        }
    }

    /// Checks that need argument values: comparators, relational operators, header names, etc.
    private mutating func validateSemantics(_ call: inout SieveCall, _ nodes: [SieveArgumentNode]) {
        let location = call.location
        let what = call.name
        if let op = call.tag("value") ?? call.tag("count"), case .string(let t) = op, let s = t.constant,
           !Self.relationalOps.contains(s.lowercased()) {
            error(location, "invalid relational match type operator '\(s)' for the \(what) test")
        }
        if case .string(let t)? = call.tag("comparator"), t.constant == nil {
            error(location, "the :comparator argument of the \(what) test must be a constant string")
        }
        if case .string(let t)? = call.tag("comparator"), let name = t.constant {
            let lower = name.lowercased()
            if !SieveCapabilities.comparators.contains(lower) {
                error(location, "unknown comparator '\(name)'")
            } else if lower == "i;ascii-numeric", !required.contains("comparator-" + lower) {
                error(location, "comparator '\(name)' requires \"comparator-\(lower)\" in the require command")
            } else if lower == "i;ascii-numeric", let mt = call.group("match-type"), mt == "contains" || mt == "matches" || mt == "regex" {
                error(location, "the :\(mt) match type cannot be used with the i;ascii-numeric comparator (no substring matching)")
            }
        }
        if call.group("match-type") == "regex", let keys = call.positional.last ?? nil {
            for t in keys.templates {
                if let c = t.constant, SieveRegex(c, caseInsensitive: false) == nil {
                    error(location, SieveRegex.hasNestedQuantifier(c)
                        ? "regular expression '\(c)' nests quantifiers (exponential matching time); not allowed"
                        : "invalid regular expression '\(c)' for regex match")
                }
            }
        }
        switch call.name {
        case "size":
            if call.group("size") == nil { error(location, "the size test requires either the :under or the :over tag") }
        case "address":
            if case .list(let headers)? = call.positional[0] {
                for h in headers {
                    if let c = h.constant, !Self.addressHeaders.contains(c.lowercased()) {
                        error(location, "specified header '\(c)' is not allowed for the address test (must be an address header)")
                    }
                }
            }
        case "envelope":
            if case .list(let parts)? = call.positional[0] {
                for p in parts {
                    if let c = p.constant, !["from", "to", "auth", "orcpt", "notify", "ret", "envid", "bytimeabsolute", "bytimerelative", "bymode", "bytrace"].contains(c.lowercased()) {
                        error(location, "specified envelope part '\(c)' is not supported by the envelope test")
                    }
                }
            }
        case "header", "exists":
            if case .list(let headers)? = call.positional[0] {
                for h in headers {
                    if let c = h.constant, !Self.isValidHeaderName(c) {
                        warning(location, "specified header field name '\(c)' is invalid")
                    }
                }
            }
        case "date", "currentdate":
            let partIndex = call.name == "date" ? 1 : 0
            if case .string(let t)? = call.positional[partIndex], let c = t.constant, !Self.datePartNames.contains(c.lowercased()) {
                error(location, "invalid date part '\(c)' for the \(what) test")
            }
            if case .string(let z)? = call.tag("zone"), let c = z.constant, SieveDate.parseZone(c) == nil {
                warning(location, "specified :zone argument '\(c)' is not a valid timezone")
            }
        case "set":
            if case .string(let t)? = call.positional[0], t.constant == nil {
                error(location, "the variable name of the set command must be a constant string")
            }
            if case .string(let t)? = call.positional[0], let c = t.constant {
                if !Self.isValidVariableName(c) {
                    error(location, "invalid variable name '\(c)'")
                } else if c.contains(".") {
                    let pieces = c.lowercased().split(separator: ".")
                    if pieces[0] != "global" || !required.contains("include") {
                        error(location, "variable namespace '\(pieces[0])' is unknown or cannot be assigned")
                    } else if pieces.count != 2 {
                        error(location, "invalid global variable name '\(c)' (sub-namespaces are not allowed)")
                    }
                } else {
                    assignedLocals.insert(c.lowercased())
                    if assignedLocals.count == SieveRuntimeLimits().maxVariables + 1 {
                        error(location, "too many variables declared (max \(SieveRuntimeLimits().maxVariables))")
                    }
                }
            }
        case "global":
            if !required.contains("variables") {
                error(location, "the global command requires the variables extension")
            }
            if case .list(let names)? = call.positional[0] {
                for n in names {
                    guard let c = n.constant else { continue }
                    if !Self.isValidVariableName(c, allowNamespace: false) {
                        error(location, "invalid variable name '\(c)'")
                    } else if assignedLocals.contains(c.lowercased()) {
                        error(location, "variable '\(c)' is already used as a local variable and cannot be declared global")
                    }
                }
            }
        case "setflag", "addflag", "removeflag":
            if case .string(let t)? = call.positional[0], let c = t.constant, !Self.isValidVariableName(c) {
                error(location, "invalid variable name '\(c)'")
            }
        case "hasflag":
            if case .list(let names)? = call.positional[0] {
                for n in names where n.constant.map({ !Self.isValidVariableName($0) }) ?? false {
                    error(location, "invalid variable name '\(n.constant!)'")
                }
            }
        case "vacation":
            if case .string(let t)? = call.tag("from"), let c = t.constant, SieveAddressParser.parseSingle(c) == nil {
                error(location, "specified :from address '\(c)' is invalid for the vacation action")
            }
            if case .list(let l)? = call.tag("addresses") {
                for a in l where a.constant.map({ SieveAddressParser.parseSingle($0) == nil }) ?? false {
                    error(location, "specified :addresses item '\(a.constant!)' is invalid for the vacation action")
                }
            }
        case "redirect":
            if !call.has("list"), case .string(let t)? = call.positional[0], let c = t.constant,
               SieveAddressParser.parseSingle(c) == nil || !c.unicodeScalars.allSatisfy(\.isASCII) {
                error(location, "specified redirect address '\(c)' is invalid")
            }
        case "include":
            if case .string(let t)? = call.positional[0] {
                if let c = t.constant {
                    if !Self.isValidScriptName(c) { error(location, "include: invalid script name '\(c)'") }
                } else {
                    error(location, "the include command requires a constant script name (variables are not allowed)")
                }
            }
        case "fileinto":
            if case .string(let t)? = call.positional[0], let c = t.constant, c.isEmpty {
                error(location, "the fileinto command requires a non-empty folder name")
            }
        default:
            break
        }
    }

    static func isValidHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }
    }

    static func isValidVariableName(_ name: String, allowNamespace: Bool = true) -> Bool {
        let pieces = name.split(separator: ".", omittingEmptySubsequences: false)
        if pieces.count > 1, !allowNamespace { return false }
        for p in pieces {
            guard p.utf8.count <= 64, let f = p.utf8.first, f == UInt8(ascii: "_") || (f | 0x20 >= 0x61 && f | 0x20 <= 0x7A) else { return false }
            if !p.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) {
                return false
            }
        }
        return true
    }

    static func isValidScriptName(_ name: String) -> Bool {
        if name.isEmpty || name.contains("/") || name.utf8.count > 1024 { return false }
        return name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && !(0x80..<0xA0).contains($0.value) && $0 != "\u{2028}" && $0 != "\u{2029}" }
    }
}
