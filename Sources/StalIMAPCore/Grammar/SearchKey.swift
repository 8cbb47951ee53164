import StalCore

/// A SEARCH criterion (RFC 3501 §6.4.4). `and` is the implicit conjunction of a
/// parenthesised or top-level key list.
public indirect enum SearchKey: Hashable, Sendable {
    case all
    case answered, deleted, draft, flagged, seen, recent, new, old
    case unanswered, undeleted, undraft, unflagged, unseen
    case keyword(String)
    case unkeyword(String)
    case bcc(String), cc(String), from(String), to(String), subject(String)
    case body(String)
    case text(String)
    case header(name: String, value: String)
    /// Internal date comparisons use the date only, in the server's time zone (UTC here).
    case before(IMAPDate), on(IMAPDate), since(IMAPDate)
    case sentBefore(IMAPDate), sentOn(IMAPDate), sentSince(IMAPDate)
    case larger(UInt32), smaller(UInt32)
    case uid(SequenceSet)
    case sequenceSet(SequenceSet)
    case not(SearchKey)
    case or(SearchKey, SearchKey)
    case and([SearchKey])

    /// Whether evaluating the key needs header fields from the message.
    public var needsHeaders: Bool {
        switch self {
        case .bcc, .cc, .from, .to, .subject, .header, .sentBefore, .sentOn, .sentSince: return true
        case .not(let k): return k.needsHeaders
        case .or(let a, let b): return a.needsHeaders || b.needsHeaders
        case .and(let ks): return ks.contains { $0.needsHeaders }
        default: return false
        }
    }

    /// Whether evaluating the key needs the message body text.
    public var needsBody: Bool {
        switch self {
        case .body, .text: return true
        case .not(let k): return k.needsBody
        case .or(let a, let b): return a.needsBody || b.needsBody
        case .and(let ks): return ks.contains { $0.needsBody }
        default: return false
        }
    }
}

/// A calendar date as SEARCH uses it (`1-Feb-1994`).
public struct IMAPDate: Hashable, Sendable, Comparable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(_ timestamp: Timestamp, utcOffsetMinutes: Int = 0) {
        let civil = CivilDateTime(timestamp, utcOffsetMinutes: utcOffsetMinutes)
        self.init(year: civil.year, month: civil.month, day: civil.day)
    }

    var dayNumber: Int { CivilDateTime.daysFromCivil(year: year, month: month, day: day) }

    public static func < (lhs: IMAPDate, rhs: IMAPDate) -> Bool { lhs.dayNumber < rhs.dayNumber }
}
