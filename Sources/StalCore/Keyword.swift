/// An IMAP flag or JMAP keyword. System flags are stored in their JMAP form (`$seen`) and
/// keywords compare case-insensitively (RFC 8621 §4.1.1), so they are stored lower-cased.
public struct Keyword: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name.lowercased() }

    public static let seen = Keyword("$seen")
    public static let answered = Keyword("$answered")
    public static let flagged = Keyword("$flagged")
    public static let draft = Keyword("$draft")
    public static let deleted = Keyword("$deleted")
    public static let forwarded = Keyword("$forwarded")
    public static let junk = Keyword("$junk")
    public static let notJunk = Keyword("$notjunk")

    private static let imapSystem: [(String, Keyword)] = [
        ("\\Seen", .seen), ("\\Answered", .answered), ("\\Flagged", .flagged),
        ("\\Draft", .draft), ("\\Deleted", .deleted),
    ]

    /// Maps an IMAP flag (`\Seen`, `$Forwarded`, `custom`) to a keyword; nil for `\Recent`
    /// and unknown system flags, which are not stored.
    public init?(imapFlag: String) {
        if imapFlag.hasPrefix("\\") {
            guard let match = Self.imapSystem.first(where: { $0.0.lowercased() == imapFlag.lowercased() }) else {
                return nil
            }
            self = match.1
        } else {
            self.init(imapFlag)
        }
    }

    public var imapFlag: String {
        if let match = Self.imapSystem.first(where: { $0.1 == self }) { return match.0 }
        return name
    }

    public static func < (lhs: Keyword, rhs: Keyword) -> Bool { lhs.name < rhs.name }
    public var description: String { name }
}

/// Special-use roles (RFC 6154) shared by IMAP LIST attributes and JMAP Mailbox.role.
public enum MailboxRole: String, Sendable, Hashable, CaseIterable {
    case inbox, drafts, sent, junk, trash, archive, all, flagged, important

    public var imapAttribute: String? {
        switch self {
        case .inbox: return nil
        case .drafts: return "\\Drafts"
        case .sent: return "\\Sent"
        case .junk: return "\\Junk"
        case .trash: return "\\Trash"
        case .archive: return "\\Archive"
        case .all: return "\\All"
        case .flagged: return "\\Flagged"
        case .important: return "\\Important"
        }
    }
}
