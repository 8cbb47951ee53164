import StalCore

/// What a selected mailbox view tracks per message.
public struct MessageMetadata: Hashable, Sendable {
    public var uid: UInt32
    public var keywords: Set<Keyword>

    public init(uid: UInt32, keywords: Set<Keyword>) {
        self.uid = uid
        self.keywords = keywords
    }
}

/// The client's picture of the selected mailbox: the UID ↔ sequence-number map and the
/// flags last reported. It changes only in `synchronize`, which the driver calls at the
/// RFC 3501 sync points, so sequence numbers never shift in the middle of a command.
public struct MailboxView: Sendable {
    public let uidValidity: UInt32
    public let readOnly: Bool
    /// `uids[seq - 1]`; strictly increasing.
    public private(set) var uids: [UInt32]
    private var flags: [UInt32: Set<Keyword>]
    /// Expunged in the store but still numbered here until an EXPUNGE may be sent.
    public private(set) var pendingExpunges: Set<UInt32> = []

    public init(uidValidity: UInt32, messages: [MessageMetadata], readOnly: Bool) {
        self.uidValidity = uidValidity
        self.readOnly = readOnly
        let sorted = messages.sorted { $0.uid < $1.uid }
        self.uids = sorted.map(\.uid)
        self.flags = Dictionary(sorted.map { ($0.uid, $0.keywords) }, uniquingKeysWith: { a, _ in a })
    }

    public var count: UInt32 { UInt32(uids.count) }

    public func sequenceNumber(of uid: UInt32) -> UInt32? {
        let i = lowerBound(uid)
        return i < uids.count && uids[i] == uid ? UInt32(i + 1) : nil
    }

    public func uid(at sequenceNumber: UInt32) -> UInt32? {
        guard sequenceNumber >= 1, sequenceNumber <= count else { return nil }
        return uids[Int(sequenceNumber) - 1]
    }

    public func keywords(of uid: UInt32) -> Set<Keyword>? { flags[uid] }

    public func isExpunged(_ uid: UInt32) -> Bool { pendingExpunges.contains(uid) }

    private func lowerBound(_ uid: UInt32) -> Int {
        var lo = 0
        var hi = uids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if uids[mid] < uid { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The messages a sequence set names, in ascending order, without duplicates. Numbers
    /// beyond the mailbox are ignored; `*` is the last message (or the largest UID).
    public func resolve(_ set: SequenceSet, uid: Bool) -> [(sequenceNumber: UInt32, uid: UInt32)] {
        guard !uids.isEmpty else { return [] }
        var indexes: [ClosedRange<Int>] = []
        for range in set.ranges {
            if uid {
                let bounds = range.bounds(largest: uids[uids.count - 1])
                let lo = lowerBound(bounds.lowerBound)
                let end = bounds.upperBound == UInt32.max ? uids.count : lowerBound(bounds.upperBound + 1)
                if lo < end { indexes.append(lo...(end - 1)) }
            } else {
                let bounds = range.bounds(largest: count)
                let lo = Int(max(bounds.lowerBound, 1)) - 1
                let hi = Int(min(bounds.upperBound, count)) - 1
                if lo <= hi { indexes.append(lo...hi) }
            }
        }
        indexes.sort { $0.lowerBound < $1.lowerBound }
        var result: [(sequenceNumber: UInt32, uid: UInt32)] = []
        var next = 0
        for r in indexes {
            var i = max(r.lowerBound, next)
            while i <= r.upperBound {
                result.append((UInt32(i + 1), uids[i]))
                i += 1
            }
            next = max(next, r.upperBound + 1)
        }
        return result
    }

    /// Records flags the session itself reported (STORE's FETCH), so the next sync does
    /// not announce them again.
    public mutating func recordKeywords(_ keywords: Set<Keyword>, uid: UInt32) {
        if flags[uid] != nil { flags[uid] = keywords }
    }

    /// Brings the view up to date with the store and returns the untagged responses that
    /// tell the client: EXPUNGE (only when `allowExpunge`; RFC 3501 §7.4.1 forbids them
    /// during FETCH, STORE and SEARCH), then EXISTS for new messages, then FETCH FLAGS for
    /// flag changes made elsewhere.
    public mutating func synchronize(with current: [MessageMetadata], allowExpunge: Bool) -> [UntaggedResponse] {
        var responses: [UntaggedResponse] = []
        var currentFlags: [UInt32: Set<Keyword>] = [:]
        currentFlags.reserveCapacity(current.count)
        for m in current { currentFlags[m.uid] = m.keywords }

        for uid in uids where currentFlags[uid] == nil { pendingExpunges.insert(uid) }
        if allowExpunge && !pendingExpunges.isEmpty {
            var i = uids.count - 1
            while i >= 0 {
                if pendingExpunges.contains(uids[i]) {
                    responses.append(.expunge(UInt32(i + 1)))
                    flags[uids[i]] = nil
                    uids.remove(at: i)
                }
                i -= 1
            }
            pendingExpunges = []
        }

        let last = uids.last ?? 0
        let added = current.filter { $0.uid > last }.sorted { $0.uid < $1.uid }
        if !added.isEmpty {
            for m in added {
                uids.append(m.uid)
                flags[m.uid] = m.keywords
            }
            responses.append(.exists(count))
        }

        for (index, uid) in uids.enumerated() {
            guard let now = currentFlags[uid], let before = flags[uid], now != before else { continue }
            flags[uid] = now
            responses.append(.fetch(UInt32(index + 1), [.uid(uid), .flags(IMAPFlags.flags(for: now))]))
        }
        return responses
    }
}

/// Keyword ↔ IMAP flag text, with the conventional capitalisation for well-known keywords.
public enum IMAPFlags {
    private static let wellKnown: [String: String] = [
        "$forwarded": "$Forwarded", "$junk": "$Junk", "$notjunk": "$NotJunk", "$mdnsent": "$MDNSent",
        "$phishing": "$Phishing",
    ]

    public static func text(for keyword: Keyword) -> String {
        let flag = keyword.imapFlag
        return wellKnown[flag] ?? flag
    }

    /// Flags for a FETCH response: system flags first, then keywords, each sorted.
    public static func flags(for keywords: Set<Keyword>) -> [String] {
        keywords.map(text(for:)).sorted { a, b in
            let sa = a.hasPrefix("\\"), sb = b.hasPrefix("\\")
            return sa != sb ? sa : a < b
        }
    }

    /// FLAGS of a SELECT response.
    public static let defined = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Forwarded", "$Junk", "$NotJunk"]
    public static let permanent = defined + ["\\*"]

    /// Keywords for flags a client sent; `\Recent` and unknown system flags are dropped.
    public static func keywords(for flags: [String]) -> Set<Keyword> {
        Set(flags.compactMap { Keyword(imapFlag: $0) })
    }
}
