/// A string argument after compilation: literal text with `${...}` references resolved into parts
/// when the variables extension is active (RFC 5229 §3).
public struct SieveTemplate: Hashable, Sendable {
    public enum Part: Hashable, Sendable {
        case literal(String)
        /// Lower-cased variable name, possibly with a namespace (`tst.path`, `env.x`).
        case variable(String)
        case matchVariable(Int)
    }

    public var parts: [Part]

    public init(parts: [Part]) { self.parts = parts }

    public init(literal: String) { parts = [.literal(literal)] }

    /// The text when the template holds no variable references.
    public var constant: String? {
        if parts.isEmpty { return "" }
        if parts.count == 1, case .literal(let s) = parts[0] { return s }
        return nil
    }

    /// Parses `${name}` / `${N}` references; anything malformed stays literal (RFC 5229 §3).
    static func parse(_ text: String) -> SieveTemplate {
        guard text.contains("${") else { return SieveTemplate(literal: text) }
        var parts: [Part] = []
        var literal = ""
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "$", i + 1 < scalars.count, scalars[i + 1] == "{" {
                var j = i + 2
                var name = ""
                while j < scalars.count, scalars[j] != "}", name.unicodeScalars.count < 256 {
                    name.unicodeScalars.append(scalars[j])
                    j += 1
                }
                if j < scalars.count, scalars[j] == "}", let part = reference(name) {
                    if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                    parts.append(part)
                    i = j + 1
                    continue
                }
            }
            literal.unicodeScalars.append(scalars[i])
            i += 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return SieveTemplate(parts: parts)
    }

    private static func reference(_ name: String) -> Part? {
        if name.isEmpty { return nil }
        if name.unicodeScalars.allSatisfy({ $0.properties.numericType != nil && $0.isASCII }) {
            guard name.count <= 9, let n = Int(name) else { return nil }
            return .matchVariable(n)
        }
        let pieces = name.split(separator: ".", omittingEmptySubsequences: false)
        for p in pieces {
            guard let f = p.unicodeScalars.first, f.isASCII, f == "_" || f.properties.isAlphabetic,
                  p.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) })
            else { return nil }
        }
        return .variable(name.lowercased())
    }
}

public enum SieveArgument: Hashable, Sendable {
    case flag
    case number(Int)
    case string(SieveTemplate)
    case list([SieveTemplate])

    var templates: [SieveTemplate] {
        switch self {
        case .string(let t): return [t]
        case .list(let l): return l
        case .flag, .number: return []
        }
    }
}

/// A validated command or test: tags by name, exclusive-group choices, positional arguments in
/// the order of the command's specification (nil where an optional one was omitted).
public struct SieveCall: Hashable, Sendable {
    public var name: String
    public var location: SieveSourceLocation
    public var tags: [String: SieveArgument]
    public var groups: [String: String]
    public var positional: [SieveArgument?]
    public var tests: [SieveCall]
    public var block: [SieveCall]?
    /// Set for commands of a host extension (`SieveCustomExtension`).
    public var isCustom: Bool
    /// For `if` over `ihave` naming an unavailable capability: the block was never compiled.
    var constantFalse: Bool = false

    public func tag(_ name: String) -> SieveArgument? { tags[name] }
    public func has(_ name: String) -> Bool { tags[name] != nil }
    public func group(_ name: String) -> String? { groups[name] }
}

/// A compiled script: the program and the capabilities it required.
public struct SieveScript: Sendable {
    /// The validated program tree (what diagnostics, the binary form and tools read); the
    /// interpreter runs `bytecode`, compiled from it whenever it is set.
    public var commands: [SieveCall] {
        didSet { bytecode = SieveBytecode(compiling: commands) }
    }
    public var capabilities: Set<String>
    public var warnings: [SieveDiagnostic]
    /// Number of calls in the program; a cheap size measure for caches.
    public var callCount: Int
    /// `:regex` keys that are constant, compiled once per script (both case modes).
    var regexes: [String: SieveRegex] = [:]
    private(set) var bytecode: SieveBytecode

    init(commands: [SieveCall], capabilities: Set<String>, warnings: [SieveDiagnostic], callCount: Int) {
        self.commands = commands
        self.capabilities = capabilities
        self.warnings = warnings
        self.callCount = callCount
        bytecode = SieveBytecode(compiling: commands)
    }

    static func regexKey(_ pattern: String, caseInsensitive: Bool) -> String {
        (caseInsensitive ? "i:" : "s:") + pattern
    }
}
