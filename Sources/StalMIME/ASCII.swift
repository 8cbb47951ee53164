/// Byte classes shared by the header and body grammars. Mail is bytes first: every
/// grammar here works on `UInt8` and only turns text into `String` at the edge.
enum ASCII {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let space: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58
    static let semicolon: UInt8 = 59
    static let equals: UInt8 = 61
    static let dash: UInt8 = 45
    static let quote: UInt8 = 34
    static let backslash: UInt8 = 92
    static let openParen: UInt8 = 40
    static let closeParen: UInt8 = 41
    static let lessThan: UInt8 = 60
    static let greaterThan: UInt8 = 62
    static let at: UInt8 = 64
    static let comma: UInt8 = 44
    static let question: UInt8 = 63
    static let slash: UInt8 = 47
    static let dot: UInt8 = 46

    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool {
        b == space || b == tab || b == cr || b == lf
    }

    @inline(__always) static func isBlank(_ b: UInt8) -> Bool { b == space || b == tab }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 {
        b >= 65 && b <= 90 ? b | 0x20 : b
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: return b - 48
        case 65...70: return b - 55
        case 97...102: return b - 87
        default: return nil
        }
    }

    static func equalsIgnoringCase<C: Collection>(_ bytes: C, _ text: StaticString) -> Bool where C.Element == UInt8 {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        var i = 0
        let p = text.utf8Start
        for b in bytes {
            if lower(b) != lower(p[i]) { return false }
            i += 1
        }
        return true
    }

    static func lowercased(_ s: String) -> String {
        var needs = false
        for b in s.utf8 where b >= 65 && b <= 90 { needs = true; break }
        return needs ? String(decoding: s.utf8.map(lower), as: UTF8.self) : s
    }

    static func trimmed<C: BidirectionalCollection>(_ bytes: C) -> C.SubSequence where C.Element == UInt8 {
        var s = bytes.startIndex
        var e = bytes.endIndex
        while s < e, isWhitespace(bytes[s]) { s = bytes.index(after: s) }
        while e > s, isWhitespace(bytes[bytes.index(before: e)]) { e = bytes.index(before: e) }
        return bytes[s..<e]
    }

    static func trimmedString(_ s: String) -> String {
        String(decoding: trimmed(Array(s.utf8)), as: UTF8.self)
    }

    /// Collapses every run of whitespace (folding included) into one space and trims.
    static func collapsingWhitespace(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var pendingSpace = false
        for b in s.utf8 {
            if isWhitespace(b) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(space); pendingSpace = false }
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Removes line breaks that fold a header field (RFC 5322 §2.2.3), keeping the
    /// whitespace that follows them.
    static func unfolded<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes where b != cr && b != lf { out.append(b) }
        return out
    }
}
