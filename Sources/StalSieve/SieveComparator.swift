/// Comparators of RFC 4790 / RFC 5051 as Sieve uses them (RFC 5228 §2.7.3).
public enum SieveComparator: Hashable, Sendable {
    case octet, asciiCasemap, asciiNumeric, unicodeCasemap

    init?(name: String) {
        switch name.lowercased() {
        case "i;octet": self = .octet
        case "i;ascii-casemap": self = .asciiCasemap
        case "i;ascii-numeric": self = .asciiNumeric
        case "i;unicode-casemap": self = .unicodeCasemap
        default: return nil
        }
    }

    func fold(_ s: String) -> [Unicode.Scalar] {
        switch self {
        case .octet, .asciiNumeric:
            return Array(s.unicodeScalars)
        case .asciiCasemap:
            return s.unicodeScalars.map { ($0.value >= 0x41 && $0.value <= 0x5A) ? Unicode.Scalar($0.value + 32)! : $0 }
        case .unicodeCasemap:
            return Array(s.lowercased().unicodeScalars)
        }
    }

    /// Leading decimal digits without leading zeros; nil stands for "positive infinity" (RFC 4790 §9.1).
    static func numericValue(_ s: String) -> Substring? {
        let digits = s.utf8.prefix { $0 >= 0x30 && $0 <= 0x39 }
        if digits.isEmpty { return nil }
        let trimmed = Substring(digits).drop { $0 == "0" }
        return trimmed
    }

    /// -1, 0, 1 ordering used by :value.
    func compare(_ a: String, _ b: String) -> Int {
        if self == .asciiNumeric {
            switch (Self.numericValue(a), Self.numericValue(b)) {
            case (nil, nil): return 0
            case (nil, _): return 1
            case (_, nil): return -1
            case (let x?, let y?):
                if x.count != y.count { return x.count < y.count ? -1 : 1 }
                return x == y ? 0 : (x < y ? -1 : 1)
            }
        }
        let x = fold(a), y = fold(b)
        for (p, q) in zip(x, y) where p != q { return p.value < q.value ? -1 : 1 }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }

    func equals(_ a: String, _ b: String) -> Bool {
        if self == .asciiNumeric { return compare(a, b) == 0 }
        if self == .octet { return a.utf8.elementsEqual(b.utf8) }
        return fold(a) == fold(b)
    }

    func contains(_ haystack: String, _ needle: String) -> Bool {
        if self == .octet || self == .asciiCasemap {
            var h = haystack
            var n = needle
            return h.withUTF8 { hb in n.withUTF8 { nb in Self.byteContains(hb, nb, foldASCII: self == .asciiCasemap) } }
        }
        let h = fold(haystack), n = fold(needle)
        if n.isEmpty { return true }
        if n.count > h.count { return false }
        var i = 0
        while i + n.count <= h.count {
            if h[i] == n[0], h[i..<(i + n.count)].elementsEqual(n) { return true }
            i += 1
        }
        return false
    }

    /// Substring search on UTF-8 bytes; ASCII case folding keeps multi-byte sequences intact.
    static func byteContains(_ h: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>, foldASCII: Bool) -> Bool {
        if needle.isEmpty { return true }
        if needle.count > h.count { return false }
        let mask: UInt8 = foldASCII ? 0x20 : 0
        @inline(__always) func f(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | mask : b }
        let n = needle.map(f)
        let first = n[0]
        let firstOther = foldASCII && first &- 0x61 < 26 ? first & ~0x20 : first
        let last = h.count - n.count
        var i = 0
        while i <= last {
            let b = h[i]
            if b == first || b == firstOther {
                var j = 1
                while j < n.count, f(h[i + j]) == n[j] { j += 1 }
                if j == n.count { return true }
            }
            i += 1
        }
        return false
    }

    private enum WildcardToken { case literal(Unicode.Scalar), one, any }

    /// `:matches` with `*` and `?` (and `\` escapes). Each wildcard matches as little as possible,
    /// left to right; returns ${0} and one capture per wildcard, or nil.
    func wildcardMatch(_ value: String, _ pattern: String) -> [String]? {
        let original = Array(value.unicodeScalars)
        let folded = self == .unicodeCasemap ? fold(value) : fold(value)
        let source = folded.count == original.count ? original : folded
        var tokens: [WildcardToken] = []
        var escaped = false
        for s in fold(pattern) {
            if escaped { tokens.append(.literal(s)); escaped = false; continue }
            switch s {
            case "\\": escaped = true
            case "*": tokens.append(.any)
            case "?": tokens.append(.one)
            default: tokens.append(.literal(s))
            }
        }
        if escaped { tokens.append(.literal("\\")) }
        var starts = [Int](repeating: 0, count: tokens.count)
        var ends = [Int](repeating: 0, count: tokens.count)
        var vi = 0, pi = 0
        var starToken = -1, starValue = -1
        while vi < folded.count {
            if pi < tokens.count {
                switch tokens[pi] {
                case .any:
                    starToken = pi
                    starValue = vi
                    starts[pi] = vi
                    ends[pi] = vi
                    pi += 1
                    continue
                case .one:
                    starts[pi] = vi
                    ends[pi] = vi + 1
                    vi += 1
                    pi += 1
                    continue
                case .literal(let c) where c == folded[vi]:
                    vi += 1
                    pi += 1
                    continue
                default:
                    break
                }
            }
            guard starToken >= 0 else { return nil }
            starValue += 1
            vi = starValue
            ends[starToken] = vi
            pi = starToken + 1
        }
        while pi < tokens.count, case .any = tokens[pi] {
            starts[pi] = vi
            ends[pi] = vi
            pi += 1
        }
        guard pi == tokens.count else { return nil }
        var captures = [String(String.UnicodeScalarView(source))]
        for (i, t) in tokens.enumerated() {
            switch t {
            case .any, .one: captures.append(String(String.UnicodeScalarView(source[starts[i]..<ends[i]])))
            case .literal: break
            }
        }
        return captures
    }
}

/// Relational operators of RFC 5231.
enum SieveRelation: String, Sendable {
    case gt, ge, lt, le, eq, ne

    func holds(_ order: Int) -> Bool {
        switch self {
        case .gt: return order > 0
        case .ge: return order >= 0
        case .lt: return order < 0
        case .le: return order <= 0
        case .eq: return order == 0
        case .ne: return order != 0
        }
    }
}
