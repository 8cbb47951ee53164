import StalCore

/// Parsers for the structured field bodies other than addresses and Content-Type.
public enum HeaderValue {
    /// An unstructured field (RFC 5322 §3.2.5) as text: unfolded, encoded words decoded,
    /// outer whitespace trimmed, NFC-normalized (JMAP `asText`).
    /// NUL and other control characters are dropped (RFC 8621 §4.1.2.2).
    public static func text<C: Collection>(_ raw: C) -> String where C.Element == UInt8 {
        let decoded = EncodedWords.decode(raw)
        guard decoded.utf8.contains(where: { ($0 < 0x20 && $0 != ASCII.tab) || $0 == 0x7F }) else {
            return UnicodeNormalization.nfc(ASCII.trimmedString(decoded))
        }
        let kept = String(decoding: decoded.utf8.filter { !(($0 < 0x20 && $0 != ASCII.tab) || $0 == 0x7F) }, as: UTF8.self)
        return UnicodeNormalization.nfc(ASCII.trimmedString(kept))
    }

    /// Message-ID, In-Reply-To, References (RFC 5322 §3.6.4): ids without angle brackets.
    /// Ids written without brackets are accepted as whitespace-separated words.
    public static func messageIDs<C: Collection>(_ raw: C) -> [String] where C.Element == UInt8 {
        let bytes = ASCII.unfolded(raw)
        var ids: [String] = []
        var i = 0
        var sawBracket = false
        while i < bytes.count {
            if bytes[i] == ASCII.lessThan {
                sawBracket = true
                var j = i + 1
                while j < bytes.count, bytes[j] != ASCII.greaterThan, bytes[j] != ASCII.lessThan { j += 1 }
                let inner = ASCII.trimmed(bytes[(i + 1)..<j])
                if !inner.isEmpty { ids.append(String(decoding: inner, as: UTF8.self)) }
                i = j < bytes.count && bytes[j] == ASCII.greaterThan ? j + 1 : j
                if ids.count >= 10_000 { break }
            } else {
                i += 1
            }
        }
        if !sawBracket {
            var s = StructuredScanner(bytes)
            while true {
                s.skipCFWS()
                if s.atEnd { break }
                let w = s.readWhile { !ASCII.isWhitespace($0) && $0 != ASCII.openParen && $0 != ASCII.comma }
                if w.isEmpty { s.advance(); continue }
                ids.append(String(decoding: w, as: UTF8.self))
            }
        }
        return ids
    }

    /// A comma-separated phrase list (Keywords): each item decoded and whitespace-collapsed.
    public static func phraseList<C: Collection>(_ raw: C) -> [String] where C.Element == UInt8 {
        var items: [String] = []
        var current: [UInt8] = []
        var s = StructuredScanner(ASCII.unfolded(raw))
        func flush() {
            let t = ASCII.collapsingWhitespace(EncodedWords.decode(current))
            if !t.isEmpty { items.append(t) }
            current.removeAll()
        }
        while let b = s.peek {
            if b == ASCII.comma {
                flush(); s.advance()
            } else if b == ASCII.quote {
                current.append(contentsOf: s.readQuotedString())
            } else {
                current.append(b); s.advance()
            }
        }
        flush()
        return items
    }

    /// URLs in angle brackets (List-* fields, RFC 2369; JMAP `asURLs`).
    public static func urls<C: Collection>(_ raw: C) -> [String] where C.Element == UInt8 {
        let bytes = ASCII.unfolded(raw)
        var urls: [String] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == ASCII.lessThan {
                var j = i + 1
                while j < bytes.count, bytes[j] != ASCII.greaterThan { j += 1 }
                let inner = bytes[(i + 1)..<j].filter { !ASCII.isWhitespace($0) }
                if !inner.isEmpty { urls.append(String(decoding: inner, as: UTF8.self)) }
                i = j + 1
            } else if bytes[i] == ASCII.openParen {
                var s = StructuredScanner(bytes)
                s.position = i
                _ = s.readComment()
                i = max(s.position, i + 1)
            } else {
                i += 1
            }
        }
        return urls
    }

    // MARK: Dates

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let zones: [(String, Int)] = [
        ("ut", 0), ("utc", 0), ("gmt", 0), ("z", 0), ("est", -300), ("edt", -240), ("cst", -360), ("cdt", -300),
        ("mst", -420), ("mdt", -360), ("pst", -480), ("pdt", -420), ("cet", 60), ("cest", 120), ("bst", 60),
        ("jst", 540), ("ist", 330), ("met", 60), ("mest", 120), ("eet", 120), ("eest", 180),
    ]

    enum DateToken: Equatable {
        case number(Int, digits: Int)
        case word(String)
        case time(Int, Int, Int)
        case offset(Int)
    }

    /// RFC 5322 §3.3 date-time, the obsolete forms of §4.3 (two-digit years, named and
    /// military zones, comments) and common broken forms: numeric months, asctime order,
    /// ISO 8601, missing zone, text before a `;` as in Received.
    public static func date<C: Collection>(_ raw: C) -> CivilDateTime? where C.Element == UInt8 {
        var bytes = ASCII.unfolded(raw)
        if let semi = bytes.lastIndex(of: ASCII.semicolon) { bytes = Array(bytes[(semi + 1)...]) }
        if bytes.count > 500 { return nil }
        if let iso = isoDate(bytes) { return iso }
        let tokens = dateTokens(bytes)
        var i = 0
        func isMonth(_ t: DateToken) -> Int? {
            if case .word(let w) = t, w.count >= 3, let m = months.firstIndex(of: String(w.prefix(3))) { return m + 1 }
            return nil
        }
        while i < tokens.count, case .word = tokens[i], isMonth(tokens[i]) == nil { i += 1 }
        guard i < tokens.count else { return nil }
        var day = 0, month = 0, year = 0
        var time: (Int, Int, Int)? = nil
        if let m = isMonth(tokens[i]) {
            // asctime: Mon Jan  5 12:00:00 2024, or "Jan 5 2024 12:00:00".
            month = m
            i += 1
            guard i < tokens.count, case .number(let d, _) = tokens[i] else { return nil }
            day = d
            i += 1
            if i < tokens.count, case .time(let h, let mi, let s) = tokens[i] { time = (h, mi, s); i += 1 }
            guard i < tokens.count, case .number(let y, let digits) = tokens[i] else { return nil }
            year = fullYear(y, digits: digits)
            i += 1
        } else {
            guard case .number(let d, _) = tokens[i] else { return nil }
            day = d
            i += 1
            guard i < tokens.count else { return nil }
            if let m = isMonth(tokens[i]) {
                month = m
            } else if case .number(let m, _) = tokens[i] {
                month = m
            } else {
                return nil
            }
            i += 1
            guard i < tokens.count, case .number(let y, let digits) = tokens[i] else { return nil }
            year = fullYear(y, digits: digits)
            i += 1
        }
        if time == nil {
            guard i < tokens.count, case .time(let h, let mi, let s) = tokens[i] else { return nil }
            time = (h, mi, s)
            i += 1
        }
        var offset = 0
        if i < tokens.count {
            switch tokens[i] {
            case .offset(let o): offset = o
            case .word(let w): offset = zoneOffset(w)
            case .number(let y, let digits) where digits == 4 && year == 0: year = y
            default: break
            }
        }
        guard let t = time, (1...12).contains(month), (1...31).contains(day), (0...23).contains(t.0),
              (0...59).contains(t.1), (0...60).contains(t.2), year > 0 else { return nil }
        return CivilDateTime(year: year, month: month, day: day, hour: t.0, minute: t.1, second: min(t.2, 59),
                             utcOffsetMinutes: offset)
    }

    private static func fullYear(_ y: Int, digits: Int) -> Int {
        if digits <= 2 { return y < 50 ? 2000 + y : 1900 + y }
        if digits == 3 { return 1900 + y }
        return y
    }

    private static func zoneOffset(_ w: String) -> Int {
        if let z = zones.first(where: { $0.0 == w }) { return z.1 }
        // Prefixes such as EST5EDT; military letters and unknown names mean "no information".
        if let z = zones.first(where: { $0.0.count == 3 && w.hasPrefix($0.0) }) { return z.1 }
        return 0
    }

    private static func dateTokens(_ bytes: [UInt8]) -> [DateToken] {
        var tokens: [DateToken] = []
        var s = StructuredScanner(bytes)
        while !s.atEnd {
            s.skipCFWS()
            guard let b = s.peek else { break }
            if b == ASCII.comma || b == ASCII.dot { s.advance(); continue }
            if b == UInt8(ascii: "+") || b == ASCII.dash {
                s.advance()
                let digits = s.readWhile { $0 >= 48 && $0 <= 57 || $0 == ASCII.colon }.filter { $0 != ASCII.colon }
                if digits.count == 4 || digits.count == 2 {
                    let v = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
                    let minutes = digits.count == 4 ? v / 100 * 60 + v % 100 : v * 60
                    tokens.append(.offset(b == ASCII.dash ? -minutes : minutes))
                } else if !digits.isEmpty {
                    tokens.append(.word("?"))
                }
                continue
            }
            if b >= 48 && b <= 57 {
                let digits = s.readWhile { $0 >= 48 && $0 <= 57 }
                guard digits.count <= 9 else { tokens.append(.word("?")); continue }
                let first = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
                if s.peek == ASCII.colon {
                    s.advance()
                    let m = s.readWhile { $0 >= 48 && $0 <= 57 }
                    var sec: [UInt8] = []
                    if s.peek == ASCII.colon { s.advance(); sec = s.readWhile { $0 >= 48 && $0 <= 57 } }
                    if s.peek == ASCII.dot { s.advance(); _ = s.readWhile { $0 >= 48 && $0 <= 57 } }
                    guard !m.isEmpty, m.count <= 2, sec.count <= 2 else { tokens.append(.word("?")); continue }
                    tokens.append(.time(first, m.reduce(0) { $0 * 10 + Int($1 - 48) }, sec.reduce(0) { $0 * 10 + Int($1 - 48) }))
                } else {
                    tokens.append(.number(first, digits: digits.count))
                }
                continue
            }
            let w = s.readWhile { !ASCII.isWhitespace($0) && $0 != ASCII.comma && $0 != ASCII.openParen && !($0 >= 48 && $0 <= 57) && $0 != UInt8(ascii: "+") && $0 != ASCII.dash }
            if w.isEmpty { s.advance(); continue }
            tokens.append(.word(String(decoding: w.map(ASCII.lower), as: UTF8.self)))
            if tokens.count > 64 { break }
        }
        return tokens
    }

    /// 2024-01-02T03:04:05Z and 2024-01-02 03:04:05 +0000, which some software writes.
    private static func isoDate(_ bytes: [UInt8]) -> CivilDateTime? {
        let t = Array(ASCII.trimmed(bytes))
        func num(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= t.count else { return nil }
            var v = 0
            for i in r { guard t[i] >= 48 && t[i] <= 57 else { return nil }; v = v * 10 + Int(t[i] - 48) }
            return v
        }
        guard t.count >= 16, let y = num(0..<4), t[4] == ASCII.dash, let mo = num(5..<7), t[7] == ASCII.dash,
              let d = num(8..<10), t[10] == UInt8(ascii: "T") || t[10] == ASCII.space,
              let h = num(11..<13), t[13] == ASCII.colon, let mi = num(14..<16) else { return nil }
        var i = 16
        var sec = 0
        if i < t.count, t[i] == ASCII.colon, let s = num((i + 1)..<(i + 3)) { sec = s; i += 3 }
        while i < t.count, t[i] == ASCII.dot || (t[i] >= 48 && t[i] <= 57) { i += 1 }
        while i < t.count, t[i] == ASCII.space { i += 1 }
        var offset = 0
        if i < t.count, t[i] == UInt8(ascii: "+") || t[i] == ASCII.dash {
            let digits = t[(i + 1)...].filter { $0 >= 48 && $0 <= 57 }.prefix(4).map { Int($0 - 48) }
            if digits.count == 4 {
                offset = (digits[0] * 10 + digits[1]) * 60 + digits[2] * 10 + digits[3]
                if t[i] == ASCII.dash { offset = -offset }
            }
        }
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec <= 60 else { return nil }
        return CivilDateTime(year: y, month: mo, day: d, hour: h, minute: mi, second: min(sec, 59), utcOffsetMinutes: offset)
    }
}
