/// A lexical token of RFC 5228 §8.1.
public enum SieveTokenKind: Hashable, Sendable {
    case identifier(String)
    case tag(String)
    case number(Int)
    case quotedString(String)
    case multilineString(String)
    case leftBracket, rightBracket, leftParen, rightParen, leftBrace, rightBrace
    case semicolon, comma
    /// Characters that start no token; the lexer already reported them.
    case invalid
    case end
}

public struct SieveToken: Hashable, Sendable {
    public var kind: SieveTokenKind
    public var location: SieveSourceLocation
}

/// Turns script text into tokens. Line ends inside strings are normalised to CRLF (RFC 5228 §2.4.2); invalid
/// input yields a diagnostic and the lexer skips one character so later errors still surface.
struct SieveLexer {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private(set) var diagnostics: [SieveDiagnostic] = []
    let maxNumber: Int

    static let maxIdentifierLength = 32

    init(_ text: String, maxNumber: Int = Int.max) {
        bytes = Array(text.utf8)
        self.maxNumber = maxNumber
    }

    private var location: SieveSourceLocation {
        var column = 1
        var i = lineStart
        while i < index {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return SieveSourceLocation(line: line, column: column)
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let i = index + offset
        return i < bytes.count ? bytes[i] : nil
    }

    private mutating func advance() {
        if bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    private mutating func error(_ message: String, at location: SieveSourceLocation) {
        diagnostics.append(SieveDiagnostic(at: location, message))
    }

    mutating func tokenize() -> [SieveToken] {
        var tokens: [SieveToken] = []
        while true {
            skipWhitespaceAndComments()
            let start = location
            guard let c = peek() else {
                tokens.append(SieveToken(kind: .end, location: start))
                return tokens
            }
            if let kind = lexToken(first: c, start: start) {
                tokens.append(SieveToken(kind: kind, location: start))
            }
        }
    }

    private mutating func skipWhitespaceAndComments() {
        while let c = peek() {
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                advance()
            case UInt8(ascii: "#"):
                while let d = peek(), d != UInt8(ascii: "\n") { advance() }
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                let start = location
                advance(); advance()
                var closed = false
                while let d = peek() {
                    if d == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
                        advance(); advance()
                        closed = true
                        break
                    }
                    advance()
                }
                if !closed { error("end of file before end of bracket comment ('/* ... */') started", at: start) }
            default:
                return
            }
        }
    }

    private static func isIdentifierStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_")
    }

    private static func isIdentifierPart(_ c: UInt8) -> Bool {
        isIdentifierStart(c) || (c >= 0x30 && c <= 0x39)
    }

    private mutating func lexToken(first c: UInt8, start: SieveSourceLocation) -> SieveTokenKind? {
        switch c {
        case UInt8(ascii: "["): advance(); return .leftBracket
        case UInt8(ascii: "]"): advance(); return .rightBracket
        case UInt8(ascii: "("): advance(); return .leftParen
        case UInt8(ascii: ")"): advance(); return .rightParen
        case UInt8(ascii: "{"): advance(); return .leftBrace
        case UInt8(ascii: "}"): advance(); return .rightBrace
        case UInt8(ascii: ";"): advance(); return .semicolon
        case UInt8(ascii: ","): advance(); return .comma
        case UInt8(ascii: "\""): return lexQuoted(start: start)
        case UInt8(ascii: ":"):
            advance()
            guard let d = peek(), Self.isIdentifierStart(d) else {
                error("unexpected character ':' (tag without name)", at: start)
                return nil
            }
            return .tag(checkedIdentifier(start: start, kind: "tag"))
        case 0x30...0x39:
            return lexNumber(start: start)
        default:
            if Self.isIdentifierStart(c) {
                let name = checkedIdentifier(start: start, kind: "identifier")
                if name.lowercased() == "text", peek() == UInt8(ascii: ":") {
                    advance()
                    return lexMultiline(start: start)
                }
                return .identifier(name)
            }
            let shown = c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : "0x\(String(c, radix: 16))"
            error("unexpected character(s) starting with \(shown)", at: start)
            advance()
            while let d = peek(), !Self.startsToken(d) { advance() }
            return .invalid
        }
    }

    private static func startsToken(_ c: UInt8) -> Bool {
        isIdentifierStart(c) || (c >= 0x30 && c <= 0x39) || " \t\r\n[](){};,\":#/".utf8.contains(c)
    }

    private mutating func checkedIdentifier(start: SieveSourceLocation, kind: String) -> String {
        let name = lexIdentifierText()
        if name.utf8.count > Self.maxIdentifierLength {
            error("encountered impossibly long \(kind) '\(name.prefix(32))...'", at: start)
        }
        return name
    }

    private mutating func lexIdentifierText() -> String {
        let begin = index
        while let d = peek(), Self.isIdentifierPart(d) { advance() }
        return String(decoding: bytes[begin..<index], as: UTF8.self)
    }

    private mutating func lexNumber(start: SieveSourceLocation) -> SieveTokenKind? {
        var value: UInt64 = 0
        var overflow = false
        while let d = peek(), d >= 0x30, d <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d - 0x30))
            if o1 || o2 { overflow = true } else { value = s }
            advance()
        }
        if let q = peek() {
            var factor: UInt64 = 1
            switch q {
            case UInt8(ascii: "K"), UInt8(ascii: "k"): factor = 1024
            case UInt8(ascii: "M"), UInt8(ascii: "m"): factor = 1024 * 1024
            case UInt8(ascii: "G"), UInt8(ascii: "g"): factor = 1024 * 1024 * 1024
            default: break
            }
            if factor > 1 {
                advance()
                let (m, o) = value.multipliedReportingOverflow(by: factor)
                if o { overflow = true } else { value = m }
            }
        }
        if let d = peek(), Self.isIdentifierStart(d) {
            error("invalid character(s) after number", at: start)
            while let e = peek(), Self.isIdentifierPart(e) { advance() }
            return nil
        }
        if overflow {
            error("number is too large (exceeds 2^64-1)", at: start)
        }
        return .number(value > UInt64(maxNumber) ? maxNumber : Int(value))
    }

    private mutating func lexQuoted(start: SieveSourceLocation) -> SieveTokenKind? {
        advance()
        var out: [UInt8] = []
        while let c = peek() {
            if c == UInt8(ascii: "\"") {
                advance()
                return .quotedString(String(decoding: out, as: UTF8.self))
            }
            if c == UInt8(ascii: "\\") {
                advance()
                guard let e = peek() else { break }
                out.append(e)
                advance()
                continue
            }
            if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") {
                advance()
                continue
            }
            if c == UInt8(ascii: "\n") { out.append(0x0D) }
            out.append(c)
            advance()
        }
        error("end of file before end of quoted string", at: start)
        return nil
    }

    private mutating func lexMultiline(start: SieveSourceLocation) -> SieveTokenKind? {
        while let c = peek(), c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { advance() }
        if peek() == UInt8(ascii: "#") {
            while let c = peek(), c != UInt8(ascii: "\n") { advance() }
        }
        if peek() == UInt8(ascii: "\r") { advance() }
        guard peek() == UInt8(ascii: "\n") else {
            error("invalid character(s) after 'text:' (expected a line end)", at: start)
            while let c = peek(), c != UInt8(ascii: "\n") { advance() }
            if peek() != nil { advance() }
            return nil
        }
        advance()
        var out: [UInt8] = []
        while peek() != nil {
            let begin = index
            while let c = peek(), c != UInt8(ascii: "\n") { advance() }
            var end = index
            if end > begin, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let atEOF = peek() == nil
            if peek() != nil { advance() }
            let lineBytes = bytes[begin..<end]
            if lineBytes.count == 1, lineBytes.first == UInt8(ascii: ".") {
                return .multilineString(String(decoding: out, as: UTF8.self))
            }
            if lineBytes.first == UInt8(ascii: "."), lineBytes.count > 1, bytes[begin + 1] == UInt8(ascii: ".") {
                out.append(contentsOf: lineBytes.dropFirst())
            } else {
                out.append(contentsOf: lineBytes)
            }
            if !atEOF { out.append(contentsOf: [0x0D, 0x0A]) }
        }
        error("end of file before end of multi-line string", at: start)
        return nil
    }
}
