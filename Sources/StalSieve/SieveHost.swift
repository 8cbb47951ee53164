import StalCore

/// An argument value after variable expansion, as handed to host extensions.
public enum SieveValue: Hashable, Sendable {
    case flag
    case number(Int)
    case string(String)
    case list([String])

    public var string: String? {
        switch self {
        case .string(let s): return s
        case .list(let l): return l.first
        default: return nil
        }
    }

    public var strings: [String] {
        switch self {
        case .string(let s): return [s]
        case .list(let l): return l
        default: return []
        }
    }

    public var number: Int? { if case .number(let n) = self { return n } else { return nil } }
}

public struct SieveEvaluatedCall: Sendable {
    public var name: String
    public var location: SieveSourceLocation
    public var tags: [String: SieveValue]
    public var groups: [String: String]
    public var positional: [SieveValue?]
}

/// The message, envelope and pending result of a run; host extensions may change all three.
public struct SieveExecutionContext: Sendable {
    public var message: any SieveMessage
    public var envelope: SieveEnvelope
    public var result: SieveResult
    /// Runtime errors and `error` command messages, in order (for logs and the test harness).
    public var errors: [String] = []
    /// Set by a host extension to replace the imap4flags internal variable (the test harness
    /// loads a stored message together with its flags).
    public var replacementInternalFlags: [String]?
    /// Set by a host extension to change limits and settings of the running interpreter (the
    /// test harness's `test_config_set`).
    public var replacementOptions: SieveRuntimeOptions?

    public init(message: any SieveMessage, envelope: SieveEnvelope, result: SieveResult = SieveResult()) {
        self.message = message
        self.envelope = envelope
        self.result = result
    }
}

public enum SieveExtensionOutcome: Sendable {
    /// Command done; continue with the next command.
    case done
    /// Test result.
    case test(Bool)
    /// Test result decided by the test's own match-type and comparator tags over these values,
    /// with its last positional argument as the key list.
    case matchValues([String])
    /// For commands with a block: run it, then call `extensionBlockEnded`.
    case runBlock
    /// Abandon the innermost running extension block (the test harness's `test_fail`).
    case unwindBlock
}

public enum SieveIncludeLocation: String, Hashable, Sendable { case personal, global }

/// The questions a script may ask while it runs. Everything has a conservative default, so a
/// host implements only what it supports. No method is called after `run` returns.
public protocol SieveHost {
    mutating func mailboxExists(_ name: String) -> Bool
    mutating func mailboxIDExists(_ id: String) -> Bool
    mutating func specialUseExists(mailbox: String?, flags: [String]) -> Bool
    /// Script text for `include`, or nil when there is no such script.
    mutating func includeScript(name: String, location: SieveIncludeLocation) -> String?
    /// True when `id` was already recorded under `handle` and has not expired.
    mutating func duplicateSeen(handle: String, id: String) -> Bool
    func environment(_ name: String) -> String?
    func namespaceVariable(_ name: String) -> String?
    func mailboxMetadata(mailbox: String, name: String) -> String?
    func serverMetadata(name: String) -> String?
    /// `X-Spam-Score`-like verdict 0...10 (or percent with `percent`), nil when not tested.
    func spamScore(percent: Bool) -> String?
    func virusScore() -> String?
    /// RFC 6134 external lists: membership (nil when the list is unknown) and members.
    func externalListContains(list: String, value: String) -> Bool?
    func externalListMembers(list: String) -> [String]?
    /// RFC 6558: convert one part's decoded content between media types; nil = not possible.
    mutating func convert(_ content: [UInt8], from: String, to: String, parameters: [String]) -> [UInt8]?
    mutating func executeExtension(_ call: SieveEvaluatedCall, context: inout SieveExecutionContext) -> SieveExtensionOutcome
    mutating func extensionBlockEnded(_ call: SieveEvaluatedCall, unwound: Bool, context: inout SieveExecutionContext)
}

extension SieveHost {
    public mutating func mailboxExists(_ name: String) -> Bool { false }
    public mutating func mailboxIDExists(_ id: String) -> Bool { false }
    public mutating func specialUseExists(mailbox: String?, flags: [String]) -> Bool { false }
    public mutating func includeScript(name: String, location: SieveIncludeLocation) -> String? { nil }
    public mutating func duplicateSeen(handle: String, id: String) -> Bool { false }
    public func environment(_ name: String) -> String? { nil }
    public func namespaceVariable(_ name: String) -> String? { nil }
    public func mailboxMetadata(mailbox: String, name: String) -> String? { nil }
    public func serverMetadata(name: String) -> String? { nil }
    public func spamScore(percent: Bool) -> String? { nil }
    public func virusScore() -> String? { nil }
    public func externalListContains(list: String, value: String) -> Bool? { nil }
    public func externalListMembers(list: String) -> [String]? { nil }
    public mutating func convert(_ content: [UInt8], from: String, to: String, parameters: [String]) -> [UInt8]? { nil }
    public mutating func executeExtension(_ call: SieveEvaluatedCall, context: inout SieveExecutionContext) -> SieveExtensionOutcome { .done }
    public mutating func extensionBlockEnded(_ call: SieveEvaluatedCall, unwound: Bool, context: inout SieveExecutionContext) {}
}

/// A host that knows nothing: every question gets the default answer.
public struct SieveNullHost: SieveHost {
    public init() {}
}

/// Named runtime limits (one place, with defaults).
public struct SieveRuntimeLimits: Hashable, Sendable {
    public enum VariableOverflow: Hashable, Sendable { case fail, truncate }

    public var maxInstructions = 100_000
    public var maxVariableBytes = 4096
    /// What a value longer than `maxVariableBytes` does: stop the script (message kept), or be
    /// cut at the limit (Pigeonhole's behaviour, which its tests expect).
    public var variableOverflow: VariableOverflow = .fail
    public var maxVariables = 255
    public var maxRedirects = 4
    public var maxActions = 32
    public var maxOutgoingMessages = 16
    public var maxIncludeDepth = 10
    public var maxIncludes = 255
    public var maxMatchVariables = 33
    public var minVacationPeriodSeconds = 24 * 3600
    public var maxVacationPeriodSeconds = 90 * 24 * 3600
    public var defaultVacationPeriodSeconds = 7 * 24 * 3600
    public var maxDuplicatePeriodSeconds = 7 * 24 * 3600

    public init() {}
}

/// Runtime configuration: profile limits, delimiter, time and identity. Time is a parameter so
/// the interpreter never reads a clock.
public struct SieveRuntimeOptions: Sendable {
    public var limits: SieveRuntimeLimits
    public var compileOptions: SieveCompileOptions
    public var now: Timestamp
    public var localUTCOffsetMinutes: Int
    public var recipientDelimiters: String
    public var environment: [String: String]

    public init(limits: SieveRuntimeLimits = SieveRuntimeLimits(), compileOptions: SieveCompileOptions = SieveCompileOptions(),
                now: Timestamp, localUTCOffsetMinutes: Int = 0, recipientDelimiters: String = "+",
                environment: [String: String] = [:]) {
        self.limits = limits
        self.compileOptions = compileOptions
        self.now = now
        self.localUTCOffsetMinutes = localUTCOffsetMinutes
        self.recipientDelimiters = recipientDelimiters
        self.environment = environment
    }

    /// User scripts at delivery.
    public static func untrusted(now: Timestamp) -> SieveRuntimeOptions {
        SieveRuntimeOptions(compileOptions: SieveCompileOptions(capabilities: SieveCapabilities.untrusted), now: now)
    }

    /// Administrator scripts at SMTP stages: larger budgets, every capability.
    public static func trusted(now: Timestamp) -> SieveRuntimeOptions {
        var limits = SieveRuntimeLimits()
        limits.maxInstructions = 1_000_000
        limits.maxRedirects = 100
        limits.maxActions = 1000
        limits.maxOutgoingMessages = 100
        return SieveRuntimeOptions(limits: limits, compileOptions: SieveCompileOptions(capabilities: SieveCapabilities.trusted), now: now)
    }
}
