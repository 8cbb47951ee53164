/// Header unfolding (RFC 5322 §2.2.3), encoded words (RFC 2047), transfer decodings (RFC 2045).
enum SieveHeaderDecoding {
    static func unfold(_ raw: String) -> String {
        var out = ""
        out.reserveCapacity(raw.utf8.count)
        for s in raw.unicodeScalars where s != "\r" && s != "\n" { out.unicodeScalars.append(s) }
        return out.trimmingSpaces()
    }

    /// Decodes `=?charset?B|Q?text?=` words; whitespace between adjacent encoded words is dropped.
    static func decode(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var out = ""
        var pendingSpace = ""
        var lastWasEncoded = false
        var rest = Substring(value)
        while !rest.isEmpty {
            if rest.hasPrefix("=?"), let (text, length) = encodedWord(rest) {
                if !lastWasEncoded { out += pendingSpace }
                pendingSpace = ""
                out += text
                lastWasEncoded = true
                rest = rest.dropFirst(length)
                continue
            }
            let c = rest.first!
            if c == " " || c == "\t" {
                pendingSpace.append(c)
            } else {
                out += pendingSpace
                pendingSpace = ""
                out.append(c)
                lastWasEncoded = false
            }
            rest = rest.dropFirst()
        }
        return out + pendingSpace
    }

    private static func encodedWord(_ s: Substring) -> (String, Int)? {
        let scalars = Array(s.utf8.prefix(1024))
        var i = 2
        func field() -> String? {
            let start = i
            while i < scalars.count, scalars[i] != UInt8(ascii: "?") {
                if scalars[i] == UInt8(ascii: " ") { return nil }
                i += 1
            }
            guard i < scalars.count else { return nil }
            let f = String(decoding: scalars[start..<i], as: UTF8.self)
            i += 1
            return f
        }
        guard var charset = field(), let encoding = field() else { return nil }
        let start = i
        while i + 1 < scalars.count, !(scalars[i] == UInt8(ascii: "?") && scalars[i + 1] == UInt8(ascii: "=")) {
            if scalars[i] == UInt8(ascii: " ") { return nil }
            i += 1
        }
        guard i + 1 < scalars.count else { return nil }
        let payload = Array(scalars[start..<i])
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }
        let bytes: [UInt8]
        switch encoding.lowercased() {
        case "b": bytes = base64(payload)
        case "q": bytes = quotedPrintable(payload, header: true)
        default: return nil
        }
        let consumed = String(decoding: scalars[0..<(i + 2)], as: UTF8.self).count
        return (SieveCharset.decode(bytes, charset: charset), consumed)
    }

    static func base64(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in input {
            let v: UInt32
            switch c {
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): return out
            default: continue
            }
            buffer = (buffer << 6) | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }

    static func base64Encode(_ input: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < input.count {
            let b0 = input[i], b1 = i + 1 < input.count ? input[i + 1] : 0, b2 = i + 2 < input.count ? input[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < input.count ? table[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < input.count ? table[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func quotedPrintable(_ input: [UInt8], header: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        while i < input.count {
            let c = input[i]
            if c == UInt8(ascii: "=") {
                if i + 2 < input.count + 0, i + 2 <= input.count - 1, let h = hex(input[i + 1]), let l = hex(input[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                var j = i + 1
                while j < input.count, input[j] == UInt8(ascii: " ") || input[j] == UInt8(ascii: "\t") { j += 1 }
                if j < input.count, input[j] == UInt8(ascii: "\r") { j += 1 }
                if j < input.count, input[j] == UInt8(ascii: "\n") { i = j + 1; continue }
                if j >= input.count { i = j; continue }
                out.append(c)
                i += 1
                continue
            }
            if header, c == UInt8(ascii: "_") { out.append(0x20) } else { out.append(c) }
            i += 1
        }
        return out
    }

    /// Splits on `;` outside quoted strings (Content-Type parameters).
    static func splitParameters(_ value: String) -> [Substring] {
        var pieces: [Substring] = []
        var start = value.startIndex
        var inQuote = false
        var escaped = false
        var i = value.startIndex
        while i < value.endIndex {
            let c = value[i]
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inQuote.toggle() } else if c == ";", !inQuote {
                pieces.append(value[start..<i])
                start = value.index(after: i)
            }
            i = value.index(after: i)
        }
        pieces.append(value[start...])
        return pieces
    }
}

/// Charset conversion for the charsets met in practice; unknown ones are read as UTF-8.
enum SieveCharset {
    private static let windows1252: [UInt16] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    static func decode(_ bytes: [UInt8], charset: String) -> String {
        switch charset.lowercased() {
        case "iso-8859-1", "latin1", "iso_8859-1", "l1":
            var s = ""
            s.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
            return s
        case "windows-1252", "cp1252":
            var s = ""
            s.unicodeScalars.append(contentsOf: bytes.map {
                $0 >= 0x80 && $0 < 0xA0 ? Unicode.Scalar(windows1252[Int($0 - 0x80)])! : Unicode.Scalar($0)
            })
            return s
        default:
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
