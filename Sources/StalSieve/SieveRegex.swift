/// `:regex` match type (draft-ietf-sieve-regex): POSIX extended syntax, run on the Swift
/// standard library's regex engine, whose syntax is a superset for the constructs used in practice.
struct SieveRegex: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    // Regex values are immutable once built; sharing one across runs is safe.
    init?(_ pattern: String, caseInsensitive: Bool) {
        guard let r = try? Regex(pattern) else { return nil }
        regex = caseInsensitive ? r.ignoresCase() : r
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
