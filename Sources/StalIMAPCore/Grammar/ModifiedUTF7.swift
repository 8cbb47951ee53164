/// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): printable ASCII stands for itself,
/// `&` is `&-`, other characters are UTF-16 in modified base64 between `&` and `-`.
public enum ModifiedUTF7 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    public static func encode(_ name: String) -> String {
        var out: [UInt8] = []
        var pending: [UInt16] = []

        func flush() {
            guard !pending.isEmpty else { return }
            out.append(UInt8(ascii: "&"))
            var bits: UInt32 = 0
            var count = 0
            for unit in pending {
                bits = bits << 16 | UInt32(unit)
                count += 16
                while count >= 6 {
                    count -= 6
                    out.append(alphabet[Int((bits >> UInt32(count)) & 0x3F)])
                }
            }
            if count > 0 { out.append(alphabet[Int((bits << UInt32(6 - count)) & 0x3F)]) }
            out.append(UInt8(ascii: "-"))
            pending = []
        }

        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: String(scalar).utf16)
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a name; nil when the encoding is malformed. Names that are already UTF-8
    /// (clients that ignore the rule) pass through unchanged.
    public static func decode(_ text: String) -> String? {
        var result = ""
        var bytes = Array(text.utf8)[...]
        var literalRun: [UInt8] = []
        while let c = bytes.first {
            bytes = bytes.dropFirst()
            guard c == UInt8(ascii: "&") else {
                literalRun.append(c)
                continue
            }
            result += String(decoding: literalRun, as: UTF8.self)
            literalRun = []
            guard let end = bytes.firstIndex(of: UInt8(ascii: "-")) else { return nil }
            let encoded = bytes[bytes.startIndex..<end]
            bytes = bytes[(end + 1)...]
            if encoded.isEmpty {
                result += "&"
                continue
            }
            var units: [UInt16] = []
            var bits: UInt32 = 0
            var count = 0
            for e in encoded {
                guard let v = alphabet.firstIndex(of: e) else { return nil }
                bits = bits << 6 | UInt32(v)
                count += 6
                if count >= 16 {
                    count -= 16
                    units.append(UInt16((bits >> UInt32(count)) & 0xFFFF))
                }
            }
            guard count < 6, bits & ((1 << UInt32(count)) - 1) == 0 else { return nil }
            var decoded = ""
            for scalar in Unicode.UTF16.decode(units) {
                guard let scalar else { return nil }
                decoded.unicodeScalars.append(scalar)
            }
            result += decoded
        }
        result += String(decoding: literalRun, as: UTF8.self)
        return result
    }
}

extension Unicode.UTF16 {
    /// Decodes UTF-16 units to scalars; nil entries mark invalid surrogates.
    static func decode(_ units: [UInt16]) -> [Unicode.Scalar?] {
        var out: [Unicode.Scalar?] = []
        var iterator = units.makeIterator()
        var decoder = Unicode.UTF16()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): out.append(s)
            case .emptyInput: break loop
            case .error: out.append(nil)
            }
        }
        return out
    }
}
