import StalCore

/// What SEARCH needs to know about one message. Header and body accessors are only called
/// when the key needs them (`SearchKey.needsHeaders` / `needsBody`), so the caller can skip
/// reading and parsing message bytes for flag-only searches.
public protocol SearchableMessage {
    var uid: UInt32 { get }
    var sequenceNumber: UInt32 { get }
    var keywords: Set<Keyword> { get }
    var internalDate: Timestamp { get }
    var size: Int { get }
    /// Decoded (RFC 2047) values of every header field with this name, case-insensitive.
    func headerValues(_ name: String) -> [String]
    /// All header fields as decoded text, for TEXT.
    var headerText: String { get }
    /// The decoded text of the message's text parts, for BODY and TEXT.
    var bodyText: String { get }
    /// The Date header's calendar date in its own time zone (RFC 3501: SENT* ignore the zone).
    var sentDate: IMAPDate? { get }
}

/// SEARCH evaluation (RFC 3501 §6.4.4) as a pure function over message data. Strings match
/// as case-insensitive substrings.
public enum SearchEvaluator {
    public struct Context: Sendable {
        public var largestSequenceNumber: UInt32
        public var largestUID: UInt32

        public init(largestSequenceNumber: UInt32, largestUID: UInt32) {
            self.largestSequenceNumber = largestSequenceNumber
            self.largestUID = largestUID
        }
    }

    public static func matches(_ key: SearchKey, _ m: some SearchableMessage, context: Context) -> Bool {
        switch key {
        case .all: return true
        case .answered: return m.keywords.contains(.answered)
        case .deleted: return m.keywords.contains(.deleted)
        case .draft: return m.keywords.contains(.draft)
        case .flagged: return m.keywords.contains(.flagged)
        case .seen: return m.keywords.contains(.seen)
        // Stal does not track \Recent (RFC 9051 removed it): no message is recent.
        case .recent, .new: return false
        case .old: return true
        case .unanswered: return !m.keywords.contains(.answered)
        case .undeleted: return !m.keywords.contains(.deleted)
        case .undraft: return !m.keywords.contains(.draft)
        case .unflagged: return !m.keywords.contains(.flagged)
        case .unseen: return !m.keywords.contains(.seen)
        case .keyword(let flag): return Keyword(imapFlag: flag).map(m.keywords.contains) ?? false
        case .unkeyword(let flag): return !(Keyword(imapFlag: flag).map(m.keywords.contains) ?? false)
        case .bcc(let s): return headerContains(m, "bcc", s)
        case .cc(let s): return headerContains(m, "cc", s)
        case .from(let s): return headerContains(m, "from", s)
        case .to(let s): return headerContains(m, "to", s)
        case .subject(let s): return headerContains(m, "subject", s)
        case .header(let name, let value):
            let values = m.headerValues(name)
            if value.isEmpty { return !values.isEmpty }
            return values.contains { contains($0, value) }
        case .body(let s): return contains(m.bodyText, s)
        case .text(let s): return contains(m.headerText, s) || contains(m.bodyText, s)
        case .before(let d): return IMAPDate(m.internalDate) < d
        case .on(let d): return IMAPDate(m.internalDate) == d
        case .since(let d): return IMAPDate(m.internalDate) >= d
        case .sentBefore(let d): return m.sentDate.map { $0 < d } ?? false
        case .sentOn(let d): return m.sentDate == d
        case .sentSince(let d): return m.sentDate.map { $0 >= d } ?? false
        case .larger(let n): return m.size > Int(n)
        case .smaller(let n): return m.size < Int(n)
        case .uid(let set): return set.contains(m.uid, largest: context.largestUID)
        case .sequenceSet(let set): return set.contains(m.sequenceNumber, largest: context.largestSequenceNumber)
        case .not(let k): return !matches(k, m, context: context)
        case .or(let a, let b): return matches(a, m, context: context) || matches(b, m, context: context)
        case .and(let keys): return keys.allSatisfy { matches($0, m, context: context) }
        }
    }

    private static func headerContains(_ m: some SearchableMessage, _ name: String, _ needle: String) -> Bool {
        m.headerValues(name).contains { contains($0, needle) }
    }

    static func contains(_ haystack: String, _ needle: String) -> Bool {
        if needle.isEmpty { return true }
        return haystack.lowercased().contains(needle.lowercased())
    }
}
