import StalCore

/// Mailbox names: "/" separates levels and the top-level INBOX is case-insensitive
/// (RFC 3501 §5.1), so it is stored as "INBOX" whatever case the client used.
public enum MailboxNames {
    public static let separator: Character = "/"
    public static let nameOctetsMax = 1024
    public static let depthMax = 32

    /// The canonical form of a client-supplied name, or an `.invalidArgument` error.
    public static func normalize(_ name: String) throws -> String {
        let parts = try components(name)
        return parts.joined(separator: String(separator))
    }

    public static func components(_ name: String) throws -> [String] {
        guard !name.isEmpty, name.utf8.count <= nameOctetsMax else {
            throw StalError(.invalidArgument, "mailbox name is empty or longer than \(nameOctetsMax) octets")
        }
        var parts = name.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= depthMax, !parts.contains(where: \.isEmpty) else {
            throw StalError(.invalidArgument, "mailbox name has an empty level or more than \(depthMax) levels")
        }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw StalError(.invalidArgument, "mailbox name contains control characters")
        }
        if parts[0].uppercased() == "INBOX" { parts[0] = "INBOX" }
        return parts
    }
}
