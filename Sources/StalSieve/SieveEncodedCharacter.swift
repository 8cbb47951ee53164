/// RFC 5228 §2.4.2.4 `${hex:...}` and `${unicode:...}` substitutions, applied at compile time.
enum SieveEncodedCharacter {
    static func decode(_ text: String) -> (String, String?) {
        guard text.contains("${") else { return (text, nil) }
        let scalars = Array(text.unicodeScalars)
        var out: [UInt8] = []
        var problem: String?
        var i = 0
        func appendScalar(_ s: Unicode.Scalar) { out.append(contentsOf: Array(String(s).utf8)) }
        while i < scalars.count {
            if scalars[i] == "$", i + 1 < scalars.count, scalars[i + 1] == "{",
               let colon = scalars[(i + 2)...].firstIndex(of: ":"), colon - i <= 10,
               let close = scalars[colon...].firstIndex(of: "}") {
                let kind = String(String.UnicodeScalarView(scalars[(i + 2)..<colon])).lowercased()
                let body = String(String.UnicodeScalarView(scalars[(colon + 1)..<close]))
                let items = body.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                let bodyIsHexWords = body.allSatisfy { $0.isHexDigit || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
                if kind == "hex", bodyIsHexWords, items.allSatisfy({ $0.count <= 2 }) {
                    for item in items { out.append(UInt8(item, radix: 16)!) }
                    i = close + 1
                    continue
                }
                if kind == "unicode", bodyIsHexWords {
                    var valid: [Unicode.Scalar] = []
                    var bad: String?
                    for item in items {
                        if let v = UInt32(item, radix: 16), let s = Unicode.Scalar(v) { valid.append(s) } else { bad = String(item) }
                    }
                    if let bad {
                        problem = "invalid unicode character 0x\(bad) in encoded character substitution"
                    } else {
                        valid.forEach(appendScalar)
                        i = close + 1
                        continue
                    }
                }
            }
            appendScalar(scalars[i])
            i += 1
        }
        return (String(decoding: out, as: UTF8.self), problem)
    }
}
