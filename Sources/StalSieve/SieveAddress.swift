/// An address as the address/envelope tests see it (RFC 5228 §2.7.4).
public struct SieveAddress: Hashable, Sendable {
    public var localPart: String
    public var domain: String?

    public init(localPart: String, domain: String?) {
        self.localPart = localPart
        self.domain = domain
    }

    public var all: String { domain.map { "\(localPart)@\($0)" } ?? localPart }
}

/// A small RFC 5322 address-list reader: comments, quoted strings, angle addresses, groups
/// and obsolete routes; enough for matching, not for rewriting.
enum SieveAddressParser {
    private enum Token: Equatable {
        case atom(String)
        case quoted(String)
        case special(Character)
    }

    private static func isSpecial(_ b: UInt8) -> Bool {
        switch b {
        case 0x20, 0x09, 0x0D, 0x0A, UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"),
             UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "["), UInt8(ascii: "]"),
             UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    /// Works on UTF-8 bytes: every delimiter is ASCII, so multi-byte text stays inside atoms.
    private static func tokenize(_ text: String) -> [Token]? {
        var tokens: [Token] = []
        let u = Array(text.utf8)
        var i = 0
        while i < u.count {
            let c = u[i]
            switch c {
            case 0x20, 0x09, 0x0D, 0x0A:
                i += 1
            case UInt8(ascii: "("):
                var depth = 1
                i += 1
                while i < u.count, depth > 0 {
                    if u[i] == UInt8(ascii: "\\") { i += 2; continue }
                    if u[i] == UInt8(ascii: "(") { depth += 1 }
                    if u[i] == UInt8(ascii: ")") { depth -= 1 }
                    i += 1
                }
                if depth > 0 { return nil }
            case UInt8(ascii: "\""):
                var bytes: [UInt8] = []
                i += 1
                var closed = false
                while i < u.count {
                    if u[i] == UInt8(ascii: "\\"), i + 1 < u.count { bytes.append(u[i + 1]); i += 2; continue }
                    if u[i] == UInt8(ascii: "\"") { closed = true; i += 1; break }
                    bytes.append(u[i])
                    i += 1
                }
                if !closed { return nil }
                tokens.append(.quoted(String(decoding: bytes, as: UTF8.self)))
            case UInt8(ascii: "["):
                let start = i
                while i < u.count, u[i] != UInt8(ascii: "]") { i += 1 }
                if i >= u.count { return nil }
                i += 1
                tokens.append(.atom(String(decoding: u[start..<i], as: UTF8.self)))
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: ";"),
                 UInt8(ascii: "@"), UInt8(ascii: "]"), UInt8(ascii: "."):
                tokens.append(.special(Character(Unicode.Scalar(c))))
                i += 1
            case UInt8(ascii: ")"):
                return nil
            default:
                let start = i
                while i < u.count, !isSpecial(u[i]) { i += 1 }
                tokens.append(.atom(String(decoding: u[start..<i], as: UTF8.self)))
            }
        }
        return tokens
    }

    /// Addresses in a header value; nil when the value cannot be read as an address list.
    static func parseList(_ text: String) -> [SieveAddress]? {
        guard let tokens = tokenize(text) else { return nil }
        var result: [SieveAddress] = []
        var current: [Token] = []
        var inGroup = false
        var angle: [Token]?
        var inAngle = false
        func finish() -> Bool {
            defer { current = []; angle = nil }
            if let a = angle {
                guard let addr = addrSpec(a, allowRoute: true) else { return a.isEmpty }
                result.append(addr)
                return true
            }
            if current.isEmpty { return true }
            guard let addr = addrSpec(current, allowRoute: false) else { return false }
            result.append(addr)
            return true
        }
        for t in tokens {
            if inAngle {
                if t == .special(">") { inAngle = false; continue }
                angle!.append(t)
                continue
            }
            switch t {
            case .special("<"):
                if angle != nil { return nil }
                inAngle = true
                angle = []
                current = []
            case .special(","):
                if !finish() { return nil }
            case .special(":") where !inGroup && angle == nil:
                inGroup = true
                current = []
            case .special(";") where inGroup:
                if !finish() { return nil }
                inGroup = false
            default:
                if angle != nil { return nil }
                current.append(t)
            }
        }
        if inAngle { return nil }
        if !finish() { return nil }
        return result
    }

    private static func addrSpec(_ tokensIn: [Token], allowRoute: Bool) -> SieveAddress? {
        var tokens = tokensIn
        if allowRoute, let colon = tokens.firstIndex(of: .special(":")), tokens.first == .special("@") {
            tokens = Array(tokens[(colon + 1)...])
        }
        if tokens.isEmpty { return nil }
        guard let at = tokens.lastIndex(of: .special("@")) else {
            return nil
        }
        guard let local = join(tokens[..<at], allowDots: true), !local.isEmpty,
              let domain = join(tokens[(at + 1)...], allowDots: true), !domain.isEmpty else { return nil }
        return SieveAddress(localPart: local, domain: domain)
    }

    private static func join(_ tokens: ArraySlice<Token>, allowDots: Bool) -> String? {
        var s = ""
        var expectWord = true
        for t in tokens {
            switch t {
            case .atom(let a):
                if !expectWord { return nil }
                s += a
                expectWord = false
            case .quoted(let q):
                if !expectWord { return nil }
                if isAtom(q) {
                    s += q
                } else {
                    s += "\""
                    for c in q {
                        if c == "\\" || c == "\"" { s.append("\\") }
                        s.append(c)
                    }
                    s += "\""
                }
                expectWord = false
            case .special("."):
                s += "."
                expectWord = true
            default:
                return nil
            }
        }
        return s
    }

    /// RFC 5322 dot-atom text: quoting is needed for anything else (normalised form).
    static func isAtom(_ s: String) -> Bool {
        !s.isEmpty && !s.hasPrefix(".") && !s.hasSuffix(".") && !s.contains("..")
            && s.unicodeScalars.allSatisfy { $0.value > 127 || (0x21...0x7E).contains($0.value) && !"()<>[]:;@\\,\"".unicodeScalars.contains($0) }
    }

    /// A single address as used by redirect, vacation :from/:addresses (display name allowed).
    static func parseSingle(_ text: String) -> SieveAddress? {
        guard let list = parseList(text), list.count == 1, let a = list.first, a.domain != nil else { return nil }
        return a
    }

    /// Envelope paths: `<>` is the null path; angle brackets are optional.
    static func parsePath(_ text: String) -> SieveAddress? {
        var t = text.trimmingSpaces()
        if t.hasPrefix("<"), t.hasSuffix(">") { t = String(t.dropFirst().dropLast()) }
        if t.isEmpty { return nil }
        if let at = t.lastIndex(of: "@") {
            return SieveAddress(localPart: String(t[..<at]), domain: String(t[t.index(after: at)...]))
        }
        return SieveAddress(localPart: t, domain: nil)
    }
}
