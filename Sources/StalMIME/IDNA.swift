/// Internationalized domain names in addresses: `xn--` labels (RFC 3492 Punycode) shown
/// as Unicode for display and search. Addresses keep the form they were written in.
public enum IDNA {
    /// Each `xn--` label decoded; labels that are not valid Punycode stay as written.
    public static func unicodeDomain(_ domain: String) -> String {
        guard domain.utf8.count <= 255, ASCII.lowercased(domain).contains("xn--") else { return domain }
        return domain.split(separator: ".", omittingEmptySubsequences: false).map { label -> String in
            let lower = ASCII.lowercased(String(label))
            guard lower.hasPrefix("xn--"), let decoded = punycodeDecode(Array(lower.utf8.dropFirst(4))) else { return String(label) }
            return decoded
        }.joined(separator: ".")
    }

    /// RFC 3492 §6.2.
    static func punycodeDecode(_ input: [UInt8]) -> String? {
        let base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700
        guard input.count <= 63 else { return nil }
        var n = 128
        var i = 0
        var bias = 72
        var output: [Unicode.Scalar] = []
        var position = 0
        if let delimiter = input.lastIndex(of: ASCII.dash) {
            for b in input[..<delimiter] {
                guard b < 0x80 else { return nil }
                output.append(Unicode.Scalar(b))
            }
            position = delimiter + 1
        }
        func adapt(_ delta: Int, _ points: Int, _ first: Bool) -> Int {
            var d = first ? delta / damp : delta / 2
            d += d / points
            var k = 0
            while d > ((base - tmin) * tmax) / 2 { d /= base - tmin; k += base }
            return k + (base - tmin + 1) * d / (d + skew)
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
}
