#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Converts text in any charset glibc's iconv knows into UTF-8. Labels in mail are often
/// wrong (`us-ascii` on UTF-8 text, `iso-8859-1` on Windows-1252 quotes), so decoding
/// never fails: it falls back to UTF-8 when the bytes are valid UTF-8, else Windows-1252,
/// and reports that it had to.
public enum Charset {
    public struct Decoded: Sendable, Hashable {
        public var text: String
        /// True when the label was unknown or the bytes did not fit it.
        public var hadProblem: Bool
    }

    /// Maps the labels mail software writes to names iconv accepts; supersets replace
    /// subsets because mislabelled mail uses the superset's extra characters.
    static func canonicalName(_ label: String) -> String {
        var name = ASCII.lowercased(ASCII.trimmedString(label))
        if name.hasPrefix("\"") && name.hasSuffix("\"") && name.count >= 2 {
            name = String(name.dropFirst().dropLast())
        }
        if let star = name.firstIndex(of: "*") { name = String(name[..<star]) }  // RFC 2231 language
        switch name {
        case "", "us-ascii", "ascii", "ansi_x3.4-1968", "646", "iso646-us", "us", "ibm367", "cp367", "csascii",
             "default", "unknown", "x-unknown", "unknown-8bit", "x-user-defined":
            return "us-ascii"
        case "utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "x-unicode20utf8", "utf-8-sig":
            return "utf-8"
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "l1", "cp819",
             "ibm819", "windows-1252", "cp1252", "x-cp1252", "win-1252", "iso-ir-100", "csisolatin1":
            return "windows-1252"
        case "gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "x-euc-cn", "csgb2312", "chinese", "gb_2312-80": return "GB18030"
        case "ks_c_5601-1987", "ks_c_5601", "ksc5601", "ksc_5601", "euc-kr", "x-euc-kr", "korean", "cp949", "windows-949":
            return "CP949"
        case "big5", "big-5", "x-big5", "cn-big5", "csbig5", "big5-hkscs": return "BIG5-HKSCS"
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932", "ms932":
            return "CP932"
        case "iso-8859-8-i", "iso-8859-8-e", "logical", "visual": return "ISO-8859-8"
        case "iso-8859-6-i", "iso-8859-6-e": return "ISO-8859-6"
        case "tis-620", "tis620", "iso-8859-11", "windows-874", "cp874": return "CP874"
        case "unicode-1-1-utf-7", "utf7", "x-utf-7": return "UTF-7"
        case "unicode", "ucs-2", "utf-16": return "UTF-16"
        case "x-mac-roman", "mac", "macintosh", "macroman", "x-mac": return "MACINTOSH"
        case "koi8r": return "KOI8-R"
        case "koi8u": return "KOI8-U"
        case "iso-2022-jp-2", "iso-2022-jp-3", "csiso2022jp": return "ISO-2022-JP-2"
        default:
            if name.hasPrefix("x-"), name.count > 2 { return String(name.dropFirst(2)) }
            if name.hasPrefix("cp-") { return "cp" + name.dropFirst(3) }
            if name.hasPrefix("win-") { return "windows-" + name.dropFirst(4) }
            if name.hasPrefix("iso8859-") { return "iso-8859-" + name.dropFirst(8) }
            if name.hasPrefix("iso_8859-") { return "iso-8859-" + name.dropFirst(9) }
            if name.hasPrefix("iso8859"), name.count > 7 { return "iso-8859-" + name.dropFirst(7) }
            return name
        }
    }

    public static func decode<C: Collection>(_ bytes: C, charset label: String?) -> Decoded where C.Element == UInt8 {
        let name = canonicalName(label ?? "us-ascii")
        switch name {
        case "us-ascii", "utf-8":
            if let s = validUTF8(bytes) { return Decoded(text: s, hadProblem: false) }
            return Decoded(text: windows1252(bytes), hadProblem: true)
        case "windows-1252":
            return Decoded(text: windows1252(bytes), hadProblem: false)
        default:
            if let decoded = iconvToUTF8(Array(bytes), from: name) { return decoded }
            if let s = validUTF8(bytes) { return Decoded(text: s, hadProblem: true) }
            return Decoded(text: windows1252(bytes), hadProblem: true)
        }
    }

    /// Whether iconv (or the built-in tables) can decode this label.
    public static func isKnown(_ label: String) -> Bool {
        let name = canonicalName(label)
        if name == "us-ascii" || name == "utf-8" || name == "windows-1252" { return true }
        let cd = iconv_open("UTF-8", name)
        if Int(bitPattern: cd) == -1 { return false }
        iconv_close(cd)
        return true
    }

    static func validUTF8<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        var ascii = true
        for b in bytes where b >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        let s = String(validating: bytes, as: UTF8.self)
        return s
    }

    private static let cp1252High: [UInt32] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ]

    static func windows1252<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = String.UnicodeScalarView()
        for b in bytes {
            let v: UInt32 = (b >= 0x80 && b < 0xA0) ? cp1252High[Int(b - 0x80)] : UInt32(b)
            out.append(Unicode.Scalar(v)!)
        }
        return String(out)
    }

    private static func iconvToUTF8(_ input: [UInt8], from name: String) -> Decoded? {
        let cd = iconv_open("UTF-8", name)
        if Int(bitPattern: cd) == -1 { return nil }
        defer { iconv_close(cd) }
        if input.isEmpty { return Decoded(text: "", hadProblem: false) }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 2 + 16)
        var problem = false
        var chunk = [UInt8](repeating: 0, count: max(256, input.count * 4 + 16))
        var consumed = 0
        input.withUnsafeBufferPointer { inBuf in
            let base = UnsafeMutablePointer(mutating: inBuf.baseAddress!)
            while consumed < input.count {
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(base + consumed).assumingMemoryBound(to: CChar.self)
                var inLeft = input.count - consumed
                let (produced, result, err): (Int, Int, Int32) = chunk.withUnsafeMutableBufferPointer { outBuf in
                    var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                    var outLeft = outBuf.count
                    let r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    return (outBuf.count - outLeft, r, r == -1 ? errno : 0)
                }
                output.append(contentsOf: chunk[0..<produced])
                consumed = input.count - inLeft
                if result != -1 { break }
                switch err {
                case E2BIG:
                    continue
                default:
                    // EILSEQ or a truncated sequence at the end: replace one byte and go on.
                    problem = true
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    consumed += 1
                    _ = iconv(cd, nil, nil, nil, nil)
                }
            }
        }
        return Decoded(text: String(decoding: output, as: UTF8.self), hadProblem: problem)
    }
}
