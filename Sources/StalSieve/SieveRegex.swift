/// `:regex` match type (draft-ietf-sieve-regex): POSIX extended syntax, run on the Swift
/// standard library's regex engine, whose syntax is a superset for the constructs used in practice.
struct SieveRegex: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    // Regex values are immutable once built; sharing one across runs is safe.
    init?(_ pattern: String, caseInsensitive: Bool) {
        guard !Self.hasNestedQuantifier(pattern), let r = try? Regex(pattern) else { return nil }
        regex = caseInsensitive ? r.ignoresCase() : r
    }

    /// A quantified group that itself contains a quantifier (`(a+)+`, `(x*y)*`) can make a
    /// backtracking engine take exponential time, and the instruction budget cannot interrupt
    /// a running match; such patterns are refused outright.
    static func hasNestedQuantifier(_ pattern: String) -> Bool {
        let u = Array(pattern.utf8)
        var quantifiedInside: [Bool] = [false]
        var i = 0
        func isQuantifier(_ at: Int) -> Bool {
            at < u.count && (u[at] == UInt8(ascii: "*") || u[at] == UInt8(ascii: "+") || u[at] == UInt8(ascii: "{"))
        }
        while i < u.count {
            switch u[i] {
            case UInt8(ascii: "\\"):
                i += 2
                if isQuantifier(i) { quantifiedInside[quantifiedInside.count - 1] = true }
                continue
            case UInt8(ascii: "["):
                i += 1
                if i < u.count, u[i] == UInt8(ascii: "]") { i += 1 }
                while i < u.count, u[i] != UInt8(ascii: "]") { i += u[i] == UInt8(ascii: "\\") ? 2 : 1 }
            case UInt8(ascii: "("):
                quantifiedInside.append(false)
            case UInt8(ascii: ")"):
                let inner = quantifiedInside.count > 1 ? quantifiedInside.removeLast() : false
                if inner, isQuantifier(i + 1) { return true }
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "{"):
                quantifiedInside[quantifiedInside.count - 1] = true
            default:
                break
            }
            i += 1
        }
        return false
    }

    /// Captures ${0}..${9} of the first match, or nil when the value does not match.
    func firstMatch(in value: String) -> [String]? {
        guard let m = try? regex.firstMatch(in: value) else { return nil }
        var captures: [String] = []
        for i in 0..<min(m.output.count, 10) {
            captures.append(m.output[i].substring.map(String.init) ?? "")
        }
        return captures
    }
}
