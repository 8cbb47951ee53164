/// What threading needs from a message: the RFC 5256 §2.1 base subject and the ids of
/// the messages it refers to.
public struct ThreadKeys: Sendable, Hashable {
    public var messageId: String?
    /// References, then In-Reply-To ids not already listed (RFC 5256 §2.2 REFERENCES).
    public var parentIds: [String]
    public var baseSubject: String

    public init(message m: MIMEMessage) {
        messageId = m.field(named: "Message-ID").flatMap { HeaderValue.messageIDs(m.rawValue($0)).first }
        var ids = m.field(named: "References").map { HeaderValue.messageIDs(m.rawValue($0)) } ?? []
        for id in m.field(named: "In-Reply-To").map({ HeaderValue.messageIDs(m.rawValue($0)) }) ?? [] where !ids.contains(id) {
            ids.append(id)
        }
        parentIds = ids
        baseSubject = Self.baseSubject(m.text(named: "Subject") ?? "")
    }

    /// RFC 5256 §2.1: strip `re:`/`fw:`/`fwd:` prefixes, `[blob]`s, `(fwd)` trailers and
    /// `[fwd: ...]` wrappers until nothing changes; whitespace collapsed, lower-cased.
    public static func baseSubject(_ subject: String) -> String {
        var s = ASCII.collapsingWhitespace(subject)
        while true {
            let before = s
            // (2) trailers
            while true {
                if s.lowercased().hasSuffix("(fwd)") { s = ASCII.trimmedString(String(s.dropLast(5))); continue }
                break
            }
            // (3)-(5) leaders, repeated
            var changed = true
            while changed {
                changed = false
                let stripped = stripBlobs(s)
                if let rest = stripReplyLeader(stripped) { s = rest; changed = true; continue }
                if stripped != s, !stripped.isEmpty { s = stripped; changed = true }
            }
            // (6) [fwd: ...]
            if s.lowercased().hasPrefix("[fwd:"), s.hasSuffix("]") {
                s = ASCII.trimmedString(String(s.dropFirst(5).dropLast()))
            }
            if s == before { break }
        }
        return s.lowercased()
    }

    private static func stripBlobs(_ s: String) -> String {
        var t = Substring(s)
        while t.first == "[", let close = t.firstIndex(of: "]"), !t[t.index(after: t.startIndex)..<close].contains("[") {
            t = t[t.index(after: close)...].drop { $0 == " " }
        }
        return String(t)
    }

    private static func stripReplyLeader(_ s: String) -> String? {
        let lower = s.lowercased()
        for prefix in ["re", "fwd", "fw"] where lower.hasPrefix(prefix) {
            var rest = Substring(s.dropFirst(prefix.count)).drop { $0 == " " }
            rest = Substring(stripBlobs(String(rest)))
            if rest.first == ":" { return String(rest.dropFirst().drop { $0 == " " }) }
        }
        return nil
    }
}
