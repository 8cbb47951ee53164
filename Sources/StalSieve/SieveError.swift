/// A position in a script, 1-based, counted in Unicode scalars on the line.
public struct SieveSourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// One compile-time diagnostic, worded for ManageSieve CHECKSCRIPT / JMAP SieveScript/validate.
public struct SieveDiagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public var severity: Severity
    public var location: SieveSourceLocation
    public var message: String

    public init(_ severity: Severity = .error, at location: SieveSourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    public var description: String { "line \(location.line), column \(location.column): \(severity.rawValue): \(message)" }
}

/// Compilation failed; `diagnostics` holds every error found (the parser recovers at `;` and `}`).
public struct SieveCompileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var diagnostics: [SieveDiagnostic]

    public init(_ diagnostics: [SieveDiagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// A run-time failure. The interpreter stops, discards the script's own actions and keeps the
/// message (RFC 5228 §2.10.6), so a runtime error never loses mail.
public struct SieveRuntimeError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case instructionBudgetExceeded = "instruction budget exceeded"
        case variableTooLarge = "variable too large"
        case tooManyRedirects = "too many redirects"
        case tooManyActions = "too many actions"
        case tooManyOutgoingMessages = "too many outgoing messages"
        case includeDepthExceeded = "include nesting too deep"
        case tooManyIncludes = "too many includes"
        case includeCycle = "circular include"
        case includeNotFound = "included script not found"
        case includeInvalid = "included script does not compile"
        case actionConflict = "conflicting actions"
        case invalidMailboxName = "invalid mailbox name"
        case invalidAddress = "invalid address"
        case userError = "error command"
        case invalidArgument = "invalid argument"
    }

    public var kind: Kind
    public var location: SieveSourceLocation?
    public var context: String

    public init(_ kind: Kind, at location: SieveSourceLocation? = nil, _ context: String = "") {
        self.kind = kind
        self.location = location
        self.context = context
    }

    public var description: String {
        let prefix = location.map { "line \($0.line), column \($0.column): " } ?? ""
        return context.isEmpty ? prefix + kind.rawValue : "\(prefix)\(kind.rawValue): \(context)"
    }
}
