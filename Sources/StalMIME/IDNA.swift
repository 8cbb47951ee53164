/// Internationalized domain names in addresses (UTS #46 nontransitional processing as far
/// as lowercase + NFC mapping covers it; RFC 3492 Punycode; RFC 5890 label rules).
/// Addresses keep the form they were written in; `asciiDomain` gives the A-label form that
/// SMTP without SMTPUTF8, DNS and ASCII-only views need, `unicodeDomain` the display form.
public enum IDNA {
    public enum Failure: Error, Sendable, Equatable {
        case emptyLabel
        /// A label longer than 63 octets in its ASCII form (RFC 5890 §2.3.2.1).
        case labelTooLong
        /// More than 253 octets in ASCII form, trailing dot excluded (RFC 1035 §2.3.4).
        case domainTooLong
        /// A character outside letters, digits, hyphen and non-ASCII (UTS #46 STD3 rules).
        case disallowedCharacter
        /// Hyphen at the start or end of a label, or in positions 3-4 of a non-`xn--` label.
        case hyphenPosition
        /// A label starting with a combining mark (RFC 5891 §5.4).
        case leadingCombiningMark
        /// An `xn--` label that is not valid Punycode or does not round-trip to NFC lowercase.
        case invalidALabel
    }

    /// ToASCII: every label mapped (lowercase, NFC, ideographic full stops as dots),
    /// validated and, when not ASCII, Punycode-encoded with the `xn--` prefix.
    public static func asciiDomain(_ domain: String) throws(Failure) -> String {
        // Bounded before mapping: the result may hold 253 octets, and a label's Unicode form
        // is at most 4 octets per scalar of its ASCII form.
        guard domain.utf8.count <= 1024 else { throw .domainTooLong }
        var mapped = domain
        if mapped.utf8.contains(where: { $0 >= 0x80 }) {
            mapped = String(String.UnicodeScalarView(mapped.unicodeScalars.map {
                switch $0.value {
                case 0x3002, 0xFF0E, 0xFF61: "."
                default: $0
                }
            }))
            mapped = UnicodeNormalization.nfc(mapped.lowercased())
        } else {
            mapped = ASCII.lowercased(mapped)
        }
        var labels = mapped.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if labels.count > 1, labels.last == "" { labels.removeLast() }
        var out: [String] = []
        for label in labels {
            out.append(try asciiLabel(label))
        }
        let result = out.joined(separator: ".")
        guard result.utf8.count <= 253 else { throw .domainTooLong }
        return result
    }

    private static func asciiLabel(_ label: String) throws(Failure) -> String {
        guard !label.isEmpty else { throw .emptyLabel }
        let bytes = Array(label.utf8)
        guard bytes.first != ASCII.dash, bytes.last != ASCII.dash else { throw .hyphenPosition }
        if !bytes.contains(where: { $0 >= 0x80 }) {
            guard bytes.allSatisfy(isLDH) else { throw .disallowedCharacter }
            guard bytes.count <= 63 else { throw .labelTooLong }
            if bytes.count >= 4, bytes[2] == ASCII.dash, bytes[3] == ASCII.dash {
                guard label.hasPrefix("xn--"), let decoded = punycodeDecode(Array(bytes.dropFirst(4))),
                      decoded.unicodeScalars.contains(where: { $0.value >= 0x80 }),
                      UnicodeNormalization.nfc(decoded.lowercased()).unicodeScalars.elementsEqual(decoded.unicodeScalars),
                      (try? asciiLabel(decoded)) == label else { throw .invalidALabel }
            }
            return label
        }
        guard bytes.allSatisfy({ $0 >= 0x80 || isLDH($0) }) else { throw .disallowedCharacter }
        // `xn--`, and at least one digit per non-ASCII scalar.
        guard label.unicodeScalars.count <= 59 else { throw .labelTooLong }
        guard let first = label.unicodeScalars.first, UnicodeNormalization.combiningClass(first.value) == 0 else {
            throw .leadingCombiningMark
        }
        let encoded = "xn--" + punycodeEncode(Array(label.unicodeScalars))
        guard encoded.utf8.count <= 63 else { throw .labelTooLong }
        return encoded
    }

    private static func isLDH(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == ASCII.dash
    }

    /// ToUnicode for display and search: each valid `xn--` label decoded; labels that are
    /// not valid Punycode stay as written.
    public static func unicodeDomain(_ domain: String) -> String {
        guard domain.utf8.count <= 255, ASCII.lowercased(domain).contains("xn--") else { return domain }
        return domain.split(separator: ".", omittingEmptySubsequences: false).map { label -> String in
            let lower = ASCII.lowercased(String(label))
            guard lower.hasPrefix("xn--"), let decoded = punycodeDecode(Array(lower.utf8.dropFirst(4))) else { return String(label) }
            return decoded
        }.joined(separator: ".")
    }

    private static let base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    /// RFC 3492 §6.1.
    private static func adapt(_ delta: Int, _ points: Int, _ first: Bool) -> Int {
        var d = first ? delta / damp : delta / 2
        d += d / points
        var k = 0
        while d > ((base - tmin) * tmax) / 2 { d /= base - tmin; k += base }
        return k + (base - tmin + 1) * d / (d + skew)
    }

    private static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? 97 + d : 22 + d)))
    }

    /// RFC 3492 §6.3. Labels are at most 63 octets, so the arithmetic cannot overflow.
    static func punycodeEncode(_ input: [Unicode.Scalar]) -> String {
        var output = String(String.UnicodeScalarView(input.filter(\.isASCII)))
        let basicCount = output.unicodeScalars.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        let codes = input.map { Int($0.value) }
        while handled < codes.count {
            let m = codes.filter { $0 >= n }.min()!
            delta += (m - n) * (handled + 1)
            n = m
            for c in codes {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// RFC 3492 §6.2.
    static func punycodeDecode(_ input: [UInt8]) -> String? {
        guard input.count <= 63 else { return nil }
        var n = initialN
        var i = 0
        var bias = initialBias
        var output: [Unicode.Scalar] = []
        var position = 0
        if let delimiter = input.lastIndex(of: ASCII.dash) {
            for b in input[..<delimiter] {
                guard b < 0x80 else { return nil }
                output.append(Unicode.Scalar(b))
            }
            position = delimiter + 1
        }
        while position < input.count {
            let oldi = i
            var w = 1
            var k = base
            while true {
                guard position < input.count else { return nil }
                let c = input[position]
                position += 1
                let digit: Int
                switch c {
                case 97...122: digit = Int(c) - 97
                case 65...90: digit = Int(c) - 65
                case 48...57: digit = Int(c) - 22
                default: return nil
                }
                let (product, overflow1) = digit.multipliedReportingOverflow(by: w)
                let (sum, overflow2) = i.addingReportingOverflow(product)
                guard !overflow1, !overflow2 else { return nil }
                i = sum
                let t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias)
                if digit < t { break }
                let (nextW, overflow3) = w.multipliedReportingOverflow(by: base - t)
                guard !overflow3 else { return nil }
                w = nextW
                k += base
            }
            bias = adapt(i - oldi, output.count + 1, oldi == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard n <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(n)) else { return nil }
            output.insert(scalar, at: i)
            i += 1
        }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: output)
        return String(s)
    }
}

extension MailAddress {
    /// The domain with `xn--` labels decoded, for display and search.
    public var unicodeDomain: String? { domain.map(IDNA.unicodeDomain) }

    /// The domain in A-label form (`IDNA.asciiDomain`); nil when there is no domain or it
    /// is not a valid IDN.
    public var asciiDomain: String? { domain.flatMap { try? IDNA.asciiDomain($0) } }

    /// `local@A-label`, the form an SMTP client without SMTPUTF8 must use: nil when the
    /// local part is not ASCII too (RFC 6531 has no ASCII form for it) or the domain is invalid.
    public var asciiAddress: String? {
        guard let localPart, !localPart.utf8.contains(where: { $0 >= 0x80 }), let asciiDomain else { return nil }
        return "\(localPart)@\(asciiDomain)"
    }
}
