/// STORE's data item: `FLAGS`, `+FLAGS`, `-FLAGS`, each optionally `.SILENT`.
public struct StoreOperation: Hashable, Sendable {
    public enum Mode: Hashable, Sendable {
        case replace
        case add
        case remove
    }

    public var mode: Mode
    public var silent: Bool
    public var flags: [String]

    public init(mode: Mode, silent: Bool, flags: [String]) {
        self.mode = mode
        self.silent = silent
        self.flags = flags
    }
}

/// STATUS data items (RFC 3501 §6.3.10).
public enum StatusAttribute: String, Hashable, Sendable, CaseIterable {
    case messages = "MESSAGES"
    case recent = "RECENT"
    case uidNext = "UIDNEXT"
    case uidValidity = "UIDVALIDITY"
    case unseen = "UNSEEN"
}
