import StalCore

public enum ResponseStatus: String, Hashable, Sendable {
    case ok = "OK"
    case no = "NO"
    case bad = "BAD"
    case bye = "BYE"
    case preauth = "PREAUTH"
}

/// Response codes in `[...]` (RFC 3501 §7.1, RFC 5530, RFC 4315, RFC 7888).
public enum ResponseCode: Hashable, Sendable {
    case alert
    case badCharset([String])
    case capability([String])
    case parse
    case permanentFlags([String])
    case readOnly
    case readWrite
    case tryCreate
    case uidNext(UInt32)
    case uidValidity(UInt32)
    case unseen(UInt32)
    case appendUID(uidValidity: UInt32, uid: UInt32)
    case copyUID(uidValidity: UInt32, source: [UInt32], destination: [UInt32])
    case uidNotSticky
    case authenticationFailed
    case authorizationFailed
    case unavailable
    case serverBug
    case cannot
    case limit
    case tooBig
    case nonexistent
    case alreadyExists
    case noPerm
    case inUse
    case expungeIssued
    case privacyRequired
    case clientBug
    case overQuota
    case closed

    var text: String {
        switch self {
        case .alert: return "ALERT"
        case .badCharset(let c): return c.isEmpty ? "BADCHARSET" : "BADCHARSET (" + c.joined(separator: " ") + ")"
        case .capability(let c): return "CAPABILITY " + c.joined(separator: " ")
        case .parse: return "PARSE"
        case .permanentFlags(let f): return "PERMANENTFLAGS (" + f.joined(separator: " ") + ")"
        case .readOnly: return "READ-ONLY"
        case .readWrite: return "READ-WRITE"
        case .tryCreate: return "TRYCREATE"
        case .uidNext(let n): return "UIDNEXT \(n)"
        case .uidValidity(let n): return "UIDVALIDITY \(n)"
        case .unseen(let n): return "UNSEEN \(n)"
        case .appendUID(let v, let u): return "APPENDUID \(v) \(u)"
        case .copyUID(let v, let s, let d):
            return "COPYUID \(v) \(SequenceSet.compactText(s)) \(SequenceSet.compactText(d))"
        case .uidNotSticky: return "UIDNOTSTICKY"
        case .authenticationFailed: return "AUTHENTICATIONFAILED"
        case .authorizationFailed: return "AUTHORIZATIONFAILED"
        case .unavailable: return "UNAVAILABLE"
        case .serverBug: return "SERVERBUG"
        case .cannot: return "CANNOT"
        case .limit: return "LIMIT"
        case .tooBig: return "TOOBIG"
        case .nonexistent: return "NONEXISTENT"
        case .alreadyExists: return "ALREADYEXISTS"
        case .noPerm: return "NOPERM"
        case .inUse: return "INUSE"
        case .expungeIssued: return "EXPUNGEISSUED"
        case .privacyRequired: return "PRIVACYREQUIRED"
        case .clientBug: return "CLIENTBUG"
        case .overQuota: return "OVERQUOTA"
        case .closed: return "CLOSED"
        }
    }
}

/// A mailbox as LIST/LSUB report it. `name` is UTF-8; the encoder applies modified UTF-7.
public struct ListEntry: Hashable, Sendable {
    public var attributes: [String]
    public var delimiter: Character?
    public var name: String

    public init(attributes: [String], delimiter: Character? = "/", name: String) {
        self.attributes = attributes
        self.delimiter = delimiter
        self.name = name
    }
}

public enum UntaggedResponse: Hashable, Sendable {
    case condition(ResponseStatus, ResponseCode?, String)
    case capability([String])
    case enabled([String])
    case id([IDParameter]?)
    /// Personal namespace only: `(("" "/")) NIL NIL`.
    case namespace(prefix: String, delimiter: Character)
    case list(ListEntry)
    case lsub(ListEntry)
    case status(mailbox: String, [StatusItem])
    case flags([String])
    case exists(UInt32)
    case recent(UInt32)
    case expunge(UInt32)
    case search([UInt32])
    case fetch(UInt32, [FetchItem])
}

public struct StatusItem: Hashable, Sendable {
    public var attribute: StatusAttribute
    public var value: UInt32

    public init(_ attribute: StatusAttribute, _ value: UInt32) {
        self.attribute = attribute
        self.value = value
    }
}

public enum IMAPResponse: Hashable, Sendable {
    case tagged(tag: String, ResponseStatus, ResponseCode?, String)
    case untagged(UntaggedResponse)
    case continuation(String)
}

/// One data item of an untagged FETCH response.
public enum FetchItem: Hashable, Sendable {
    case flags([String])
    case uid(UInt32)
    case internalDate(Timestamp)
    case rfc822Size(Int)
    /// ENVELOPE, BODY and BODYSTRUCTURE values arrive already in wire form (StalMIME
    /// renders them from the parsed message).
    case envelope([UInt8])
    case body([UInt8])
    case bodyStructure([UInt8])
    /// `BODY[section]<origin>`; nil data is NIL.
    case bodySection(SectionSpec, origin: UInt32?, [UInt8]?)
    case rfc822([UInt8])
    case rfc822Header([UInt8])
    case rfc822Text([UInt8])
}
