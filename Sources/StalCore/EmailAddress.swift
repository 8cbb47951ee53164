/// An RFC 5321 mailbox (`local@domain`) as it appears in envelopes and the directory.
///
/// The domain is stored lower-cased because DNS names compare case-insensitively; the
/// local part keeps its case because RFC 5321 §2.4 lets the receiving host decide. Stal's
/// directory folds local parts to lower case when it looks them up.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let localPart: String
    public let domain: String

    public init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain.lowercased()
    }

    /// Parses `local@domain`, accepting a quoted local part. Returns nil for anything a
    /// directory could never hold (no `@`, empty parts, control characters, over-long parts).
    public init?(_ text: some StringProtocol) {
        let s = String(text)
        guard let at = s.lastIndex(of: "@") else { return nil }
        var local = String(s[s.startIndex..<at])
        let domain = String(s[s.index(after: at)...])
        if local.count >= 2, local.first == "\"", local.last == "\"" {
            local = String(local.dropFirst().dropLast())
        }
        guard !local.isEmpty, !domain.isEmpty,
              local.utf8.count <= Self.localPartOctetsMax,
              domain.utf8.count <= Self.domainOctetsMax,
              !local.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }),
              !domain.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0 == "@" })
        else { return nil }
        self.init(localPart: local, domain: domain)
    }

    /// RFC 5321 §4.5.3.1.1 and §4.5.3.1.2.
    public static let localPartOctetsMax = 64
    public static let domainOctetsMax = 255

    public var description: String { "\(localPart)@\(domain)" }

    /// The form the directory indexes: local part lower-cased too.
    public var canonical: String { "\(localPart.lowercased())@\(domain)" }

    /// Splits `user+tag` into `user` and `tag` at the first delimiter (RFC 5233 subaddress).
    public func detachingSubaddress(delimiter: Character = "+") -> (base: EmailAddress, detail: String?) {
        guard let i = localPart.firstIndex(of: delimiter), i != localPart.startIndex else {
            return (self, nil)
        }
        let base = String(localPart[..<i])
        let detail = String(localPart[localPart.index(after: i)...])
        return (EmailAddress(localPart: base, domain: domain), detail)
    }

    public static func < (lhs: EmailAddress, rhs: EmailAddress) -> Bool {
        lhs.canonical < rhs.canonical
    }
}
