/// The untyped syntax tree of RFC 5228 §8.2, before any command is known.
public struct SieveStringLiteral: Hashable, Sendable {
    public var value: String
    public var location: SieveSourceLocation
    public var isMultiline: Bool
}

public enum SieveArgumentNode: Hashable, Sendable {
    case tag(String, SieveSourceLocation)
    case number(Int, SieveSourceLocation)
    /// `isList` is true when written with brackets, even with a single element.
    case strings([SieveStringLiteral], isList: Bool, SieveSourceLocation)

    var location: SieveSourceLocation {
        switch self {
        case .tag(_, let l), .number(_, let l), .strings(_, _, let l): return l
        }
    }
}

public struct SieveTestNode: Hashable, Sendable {
    public var name: String
    public var location: SieveSourceLocation
    public var arguments: [SieveArgumentNode]
    public var tests: [SieveTestNode]
    /// True when the tests were written as a parenthesised test-list.
    public var hasTestList: Bool
}

public struct SieveCommandNode: Hashable, Sendable {
    public var name: String
    public var location: SieveSourceLocation
    public var arguments: [SieveArgumentNode]
    public var tests: [SieveTestNode]
    public var hasTestList: Bool
    public var block: [SieveCommandNode]?
}

/// Recursive-descent parser over the token stream; recovers at `;` / `}` so that one pass
/// reports several errors, as CHECKSCRIPT users expect.
struct SieveParser {
    private var tokens: [SieveToken]
    private var position = 0
    private(set) var diagnostics: [SieveDiagnostic] = []
    let maxNesting: Int
    private var depth = 0
    private var testDepth = 0
    static let maxArguments = 32

    init(tokens: [SieveToken], maxNesting: Int) {
        self.tokens = tokens
        self.maxNesting = maxNesting
    }

    private struct Abort: Error {}

    private var current: SieveToken { tokens[position] }

    private mutating func next() { if position < tokens.count - 1 { position += 1 } }

    private mutating func fail(_ message: String, at location: SieveSourceLocation? = nil) -> Abort {
        diagnostics.append(SieveDiagnostic(at: location ?? current.location, message))
        return Abort()
    }

    private static func describe(_ kind: SieveTokenKind) -> String {
        switch kind {
        case .identifier(let s): return "identifier '\(s)'"
        case .tag(let s): return "tag ':\(s)'"
        case .number(let n): return "number \(n)"
        case .quotedString, .multilineString: return "string"
        case .leftBracket: return "'['"
        case .rightBracket: return "']'"
        case .leftParen: return "'('"
        case .rightParen: return "')'"
        case .leftBrace: return "'{'"
        case .rightBrace: return "'}'"
        case .semicolon: return "';'"
        case .comma: return "','"
        case .end: return "end of script"
        case .invalid: return "invalid characters"
        }
    }

    mutating func parseScript() -> [SieveCommandNode] {
        var commands: [SieveCommandNode] = []
        while current.kind != .end {
            if current.kind == .rightBrace {
                diagnostics.append(SieveDiagnostic(at: current.location, "unexpected '}' found at top level"))
                next()
                continue
            }
            if let c = parseCommandRecovering() { commands.append(c) }
        }
        return commands
    }

    private mutating func parseCommandRecovering() -> SieveCommandNode? {
        do {
            return try parseCommand()
        } catch {
            recover()
            return nil
        }
    }

    /// Skips to just after the next `;` or balanced block at this level.
    private mutating func recover() {
        var nesting = 0
        while true {
            switch current.kind {
            case .end: return
            case .semicolon where nesting == 0:
                next(); return
            case .leftBrace: nesting += 1
            case .rightBrace:
                if nesting == 0 { return }
                nesting -= 1
                if nesting == 0 { next(); return }
            default: break
            }
            next()
        }
    }

    private mutating func parseCommand() throws -> SieveCommandNode {
        guard case .identifier(let name) = current.kind else {
            throw fail("expected command identifier but found \(Self.describe(current.kind))")
        }
        let location = current.location
        next()
        let (arguments, tests, hasList) = try parseArguments()
        switch current.kind {
        case .semicolon:
            next()
            return SieveCommandNode(name: name, location: location, arguments: arguments, tests: tests, hasTestList: hasList, block: nil)
        case .leftBrace:
            let braceLocation = current.location
            depth += 1
            defer { depth -= 1 }
            if depth > maxNesting {
                throw fail("cannot nest command blocks deeper than \(maxNesting) levels", at: braceLocation)
            }
            next()
            var block: [SieveCommandNode] = []
            while true {
                if current.kind == .rightBrace { next(); break }
                if current.kind == .end {
                    throw fail("end of script before end of block started at line \(braceLocation.line)")
                }
                if let c = parseCommandRecovering() { block.append(c) }
            }
            return SieveCommandNode(name: name, location: location, arguments: arguments, tests: tests, hasTestList: hasList, block: block)
        default:
            throw fail("expected ';' or '{' after \(name) command but found \(Self.describe(current.kind))")
        }
    }

    private mutating func parseArguments() throws -> ([SieveArgumentNode], [SieveTestNode], Bool) {
        var arguments: [SieveArgumentNode] = []
        while true {
            let location = current.location
            if arguments.count > Self.maxArguments {
                throw fail("too many arguments (more than \(Self.maxArguments))")
            }
            switch current.kind {
            case .tag(let t):
                arguments.append(.tag(t, location)); next()
            case .number(let n):
                arguments.append(.number(n, location)); next()
            case .quotedString(let s):
                arguments.append(.strings([SieveStringLiteral(value: s, location: location, isMultiline: false)], isList: false, location)); next()
            case .multilineString(let s):
                arguments.append(.strings([SieveStringLiteral(value: s, location: location, isMultiline: true)], isList: false, location)); next()
            case .leftBracket:
                arguments.append(try parseStringList())
            case .identifier:
                let test = try parseTest()
                return (arguments, [test], false)
            case .leftParen:
                return (arguments, try parseTestList(), true)
            default:
                return (arguments, [], false)
            }
        }
    }

    private mutating func parseStringList() throws -> SieveArgumentNode {
        let location = current.location
        next()
        var items: [SieveStringLiteral] = []
        while true {
            switch current.kind {
            case .quotedString(let s):
                items.append(SieveStringLiteral(value: s, location: current.location, isMultiline: false))
            case .multilineString(let s):
                items.append(SieveStringLiteral(value: s, location: current.location, isMultiline: true))
            default:
                throw fail("expected string in string list but found \(Self.describe(current.kind))")
            }
            next()
            if current.kind == .comma { next(); continue }
            if current.kind == .rightBracket { next(); break }
            throw fail("expected ',' or end of string list ']' but found \(Self.describe(current.kind))")
        }
        return .strings(items, isList: true, location)
    }

    private mutating func parseTest() throws -> SieveTestNode {
        guard case .identifier(let name) = current.kind else {
            throw fail("expected test identifier but found \(Self.describe(current.kind))")
        }
        let location = current.location
        testDepth += 1
        defer { testDepth -= 1 }
        if testDepth > maxNesting {
            throw fail("cannot nest tests deeper than \(maxNesting) levels")
        }
        next()
        let (arguments, tests, hasList) = try parseArguments()
        return SieveTestNode(name: name, location: location, arguments: arguments, tests: tests, hasTestList: hasList)
    }

    private mutating func parseTestList() throws -> [SieveTestNode] {
        next()
        var tests: [SieveTestNode] = []
        while true {
            tests.append(try parseTest())
            if current.kind == .comma { next(); continue }
            if current.kind == .rightParen { next(); break }
            throw fail("expected ',' or end of test list ')' but found \(Self.describe(current.kind))")
        }
        return tests
    }
}
