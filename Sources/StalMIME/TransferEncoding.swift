/// Content-Transfer-Encoding (RFC 2045 §6). Decoders accept what real mail contains:
/// junk between base64 groups, lines of any length, `=` not followed by hex.
public enum TransferEncoding: Sendable, Hashable {
    case sevenBit, eightBit, binary, base64, quotedPrintable
    case other(String)
    /// A value that is not even a token (RFC 2045 §6.1). IMAP reports it as 7bit, as Dovecot
    /// does, but its content is not trusted as text: Sieve's body test skips it like
    /// Pigeonhole, because the sender's intent cannot be known.
    case malformed(String)

    public init(label: String?) {
        guard let label else { self = .sevenBit; return }
        switch ASCII.lowercased(ASCII.trimmedString(label)) {
        case "", "7bit", "7-bit": self = .sevenBit
        case "8bit", "8-bit": self = .eightBit
        case "binary": self = .binary
        case "base64", "base-64": self = .base64
        case "quoted-printable", "quotedprintable", "qp": self = .quotedPrintable
        case let other:
            let tokenBytes = other.utf8.allSatisfy { $0 > 32 && $0 < 127 && !"()<>@,;:\\\"/[]?=".utf8.contains($0) }
            self = tokenBytes ? .other(other) : .malformed(other)
        }
    }

    /// The token IMAP BODYSTRUCTURE and JMAP report.
    public var name: String {
        switch self {
        case .sevenBit, .malformed: return "7bit"
        case .eightBit: return "8bit"
        case .binary: return "binary"
        case .base64: return "base64"
        case .quotedPrintable: return "quoted-printable"
        case .other(let s): return s
        }
    }

    public struct Decoded: Sendable {
        public var bytes: [UInt8]
        public var hadProblem: Bool
    }

    public func decode<C: Collection>(_ input: C) -> Decoded where C.Element == UInt8 {
        switch self {
        case .base64: return Base64.decode(input)
        case .quotedPrintable: return QuotedPrintable.decode(input)
        case .sevenBit, .eightBit, .binary: return Decoded(bytes: Array(input), hadProblem: false)
        case .other, .malformed: return Decoded(bytes: Array(input), hadProblem: true)
        }
    }
}

public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Skips every byte outside the alphabet; a trailing partial group is dropped and
    /// reported, as are stray bytes other than whitespace and padding.
    public static func decode<C: Collection>(_ input: C) -> TransferEncoding.Decoded where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3 + 3)
        var acc: UInt32 = 0
        var n = 0
        var problem = false
        reverse.withUnsafeBufferPointer { table in
            for b in input {
                let v = table[Int(b)]
                if v == 0xFF {
                    if !(b == 61 || ASCII.isWhitespace(b)) { problem = true }
                    continue
                }
                acc = acc << 6 | UInt32(v)
                n += 1
                if n == 4 {
                    out.append(UInt8(truncatingIfNeeded: acc >> 16))
                    out.append(UInt8(truncatingIfNeeded: acc >> 8))
                    out.append(UInt8(truncatingIfNeeded: acc))
                    acc = 0
                    n = 0
                }
            }
        }
        switch n {
        case 2: out.append(UInt8(truncatingIfNeeded: acc >> 4))
        case 3:
            out.append(UInt8(truncatingIfNeeded: acc >> 10))
            out.append(UInt8(truncatingIfNeeded: acc >> 2))
        case 1: problem = true
        default: break
        }
        return .init(bytes: out, hadProblem: problem)
    }

    /// Encodes with CRLF every `lineLength` characters (76 for MIME bodies, 0 for none).
    public static func encode<C: Collection>(_ input: C, lineLength: Int = 76) -> [UInt8] where C.Element == UInt8 {
        let bytes = Array(input)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4 / 3 + bytes.count / 38 + 8)
        var column = 0
        var i = 0
        func emit(_ c: UInt8) {
            if lineLength > 0 && column == lineLength { out.append(13); out.append(10); column = 0 }
            out.append(c)
            column += 1
        }
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            emit(alphabet[Int(v >> 18 & 63)]); emit(alphabet[Int(v >> 12 & 63)])
            emit(alphabet[Int(v >> 6 & 63)]); emit(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            emit(alphabet[Int(v >> 18 & 63)]); emit(alphabet[Int(v >> 12 & 63)])
            emit(rest == 2 ? alphabet[Int(v >> 6 & 63)] : 61)
            emit(61)
        }
        return out
    }
}

public enum QuotedPrintable {
    public static func decode<C: Collection>(_ input: C) -> TransferEncoding.Decoded where C.Element == UInt8 {
        if let fast = input.withContiguousStorageIfAvailable({ decode(buffer: $0) }) { return fast }
        return Array(input).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    static func decode(buffer bytes: UnsafeBufferPointer<UInt8>) -> TransferEncoding.Decoded {
        let n = bytes.count
        var problem = false
        let out = [UInt8](unsafeUninitializedCapacity: n) { out, written in
            var o = 0
            var i = 0
            while i < n {
                let b = bytes[i]
                if b == ASCII.equals {
                    // Soft line break: `=` then optional trailing blanks then a line end.
                    var j = i + 1
                    while j < n, ASCII.isBlank(bytes[j]) { j += 1 }
                    if j == n { i = n; continue }
                    if bytes[j] == ASCII.lf { i = j + 1; continue }
                    if bytes[j] == ASCII.cr {
                        i = j + 1 < n && bytes[j + 1] == ASCII.lf ? j + 2 : j + 1
                        continue
                    }
                    if i + 2 < n, let h = ASCII.hexValue(bytes[i + 1]), let l = ASCII.hexValue(bytes[i + 2]) {
                        out[o] = h << 4 | l; o += 1
                        i += 3
                        continue
                    }
                    problem = true
                    out[o] = b; o += 1
                    i += 1
                } else if b == ASCII.space || b == ASCII.tab {
                    // Trailing whitespace on an encoded line was added in transport (RFC 2045 §6.7 rule 3).
                    var j = i
                    while j < n, ASCII.isBlank(bytes[j]) { j += 1 }
                    if j == n || bytes[j] == ASCII.lf || bytes[j] == ASCII.cr {
                        i = j
                    } else {
                        while i < j { out[o] = bytes[i]; o += 1; i += 1 }
                    }
                } else {
                    out[o] = b; o += 1
                    i += 1
                }
            }
            written = o
        }
        return .init(bytes: out, hadProblem: problem)
    }

    /// Encodes for a body part: lines kept, CRLF line ends, soft breaks at 76 columns.
    public static func encode<C: Collection>(_ input: C) -> [UInt8] where C.Element == UInt8 {
        let bytes = Array(input)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        let hex = Array("0123456789ABCDEF".utf8)
        var column = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == ASCII.lf || (b == ASCII.cr && i + 1 < bytes.count && bytes[i + 1] == ASCII.lf) {
                out.append(13); out.append(10)
                column = 0
                i += b == ASCII.cr ? 2 : 1
                continue
            }
            let nextIsLineEnd = i + 1 == bytes.count || bytes[i + 1] == ASCII.lf || bytes[i + 1] == ASCII.cr
            let literal = (b >= 33 && b <= 126 && b != ASCII.equals) || ((b == ASCII.space || b == ASCII.tab) && !nextIsLineEnd)
            let width = literal ? 1 : 3
            if column + width > 75 {
                out.append(ASCII.equals); out.append(13); out.append(10)
                column = 0
            }
            if literal {
                out.append(b)
            } else {
                out.append(ASCII.equals); out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            }
            column += width
            i += 1
        }
        return out
    }
}
