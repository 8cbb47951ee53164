import StalCore

/// A client command with its tag.
public struct TaggedCommand: Hashable, Sendable {
    public var tag: String
    public var command: IMAPCommand

    public init(tag: String, command: IMAPCommand) {
        self.tag = tag
        self.command = command
    }
}

/// LIST's mailbox selection options (RFC 5258) that Stal honours.
public struct ListOptions: Hashable, Sendable {
    public var subscribedOnly = false
    public var specialUseOnly = false
    public var returnSpecialUse = false
    public var returnSubscribed = false
    public var returnChildren = false
    /// `RETURN (STATUS (...))` (RFC 5819).
    public var returnStatus: [StatusAttribute] = []
    /// Whether the command used the extended syntax, so attributes follow RFC 5258.
    public var extended = false

    public init() {}
}

/// Every command Stal understands, already validated by the grammar parser. Mailbox names
/// are decoded from modified UTF-7 into UTF-8.
public enum IMAPCommand: Hashable, Sendable {
    case capability
    case noop
    case logout
    case startTLS
    case login(username: String, password: String)
    case authenticate(mechanism: String, initialResponse: String?)
    case id([IDParameter]?)
    case enable([String])
    case namespace
    case list(reference: String, patterns: [String], options: ListOptions)
    case lsub(reference: String, pattern: String)
    case create(String)
    case delete(String)
    case rename(from: String, to: String)
    case subscribe(String)
    case unsubscribe(String)
    case select(String, readOnly: Bool)
    case status(String, [StatusAttribute])
    case append(mailbox: String, flags: [String], internalDate: Timestamp?, message: [UInt8])
    case check
    case close
    case unselect
    case expunge
    case uidExpunge(SequenceSet)
    case search(charset: String?, key: SearchKey, uid: Bool)
    case fetch(SequenceSet, [FetchAttribute], uid: Bool)
    case store(SequenceSet, StoreOperation, uid: Bool)
    case copy(SequenceSet, mailbox: String, uid: Bool)
    case move(SequenceSet, mailbox: String, uid: Bool)
    case idle

    /// The command name, for logs (never arguments: they may hold credentials).
    public var name: String {
        switch self {
        case .capability: return "CAPABILITY"
        case .noop: return "NOOP"
        case .logout: return "LOGOUT"
        case .startTLS: return "STARTTLS"
        case .login: return "LOGIN"
        case .authenticate: return "AUTHENTICATE"
        case .id: return "ID"
        case .enable: return "ENABLE"
        case .namespace: return "NAMESPACE"
        case .list: return "LIST"
        case .lsub: return "LSUB"
        case .create: return "CREATE"
        case .delete: return "DELETE"
        case .rename: return "RENAME"
        case .subscribe: return "SUBSCRIBE"
        case .unsubscribe: return "UNSUBSCRIBE"
        case .select(_, let readOnly): return readOnly ? "EXAMINE" : "SELECT"
        case .status: return "STATUS"
        case .append: return "APPEND"
        case .check: return "CHECK"
        case .close: return "CLOSE"
        case .unselect: return "UNSELECT"
        case .expunge: return "EXPUNGE"
        case .uidExpunge: return "UID EXPUNGE"
        case .search(_, _, let uid): return uid ? "UID SEARCH" : "SEARCH"
        case .fetch(_, _, let uid): return uid ? "UID FETCH" : "FETCH"
        case .store(_, _, let uid): return uid ? "UID STORE" : "STORE"
        case .copy(_, _, let uid): return uid ? "UID COPY" : "COPY"
        case .move(_, _, let uid): return uid ? "UID MOVE" : "MOVE"
        case .idle: return "IDLE"
        }
    }
}

/// One field of the ID command (RFC 2971); a nil value is NIL.
public struct IDParameter: Hashable, Sendable {
    public var key: String
    public var value: String?

    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}
