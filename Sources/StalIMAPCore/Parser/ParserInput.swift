/// The grammar parser's error: the message for `tag BAD`, and the tag when one was read.
public struct IMAPParseError: Error, Hashable, Sendable {
    public var tag: String?
    public var message: String

    public init(tag: String?, message: String) {
        self.tag = tag
        self.message = message
    }
}

struct ParseFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A cursor over a complete frame. Literals are read when the cursor reaches a `{n}`
/// marker at the end of a line; the next line continues after the literal.
struct ParserInput {
    let frame: IMAPFrame
    private(set) var line = 0
    private(set) var position = 0

    init(frame: IMAPFrame) {
        self.frame = frame
    }

    private var current: [UInt8] { frame.lines[line] }

    func peek() -> UInt8? {
        position < current.count ? current[position] : nil
    }

    func peek(offset: Int) -> UInt8? {
        position + offset < current.count ? current[position + offset] : nil
    }

    var isAtEnd: Bool { line == frame.lines.count - 1 && position == current.count }

    mutating func advance(_ n: Int = 1) { position += n }

    mutating func expect(_ c: UInt8, _ what: String) throws {
        guard peek() == c else { throw ParseFailure("expected \(what)") }
        position += 1
    }

    mutating func expectSpace() throws { try expect(UInt8(ascii: " "), "space") }

    mutating func expectEnd() throws {
        guard isAtEnd else { throw ParseFailure("unexpected characters at end of command") }
    }

    mutating func skip(_ c: UInt8) -> Bool {
        guard peek() == c else { return false }
        position += 1
        return true
    }

    mutating func take(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
        let start = position
        while position < current.count, predicate(current[position]) { position += 1 }
        return current[start..<position]
    }

    mutating func atom() throws -> String {
        let bytes = take(while: IMAPGrammar.isAtomChar)
        guard !bytes.isEmpty else { throw ParseFailure("expected atom") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Tries to consume a case-insensitive keyword.
    mutating func keyword(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard position + w.count <= current.count else { return false }
        for (i, c) in w.enumerated() where asciiUpper(current[position + i]) != c { return false }
        position += w.count
        return true
    }

    mutating func number() throws -> UInt32 {
        let digits = take { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard !digits.isEmpty, digits.count <= 10 else { throw ParseFailure("expected number") }
        var v: UInt64 = 0
        for d in digits { v = v * 10 + UInt64(d - UInt8(ascii: "0")) }
        guard v <= UInt64(UInt32.max) else { throw ParseFailure("number out of range") }
        return UInt32(v)
    }

    mutating func nzNumber() throws -> UInt32 {
        let n = try number()
        guard n > 0 else { throw ParseFailure("expected non-zero number") }
        return n
    }

    mutating func quoted() throws -> [UInt8] {
        try expect(UInt8(ascii: "\""), "quoted string")
        var out: [UInt8] = []
        while let c = peek() {
            position += 1
            switch c {
            case UInt8(ascii: "\""):
                return out
            case UInt8(ascii: "\\"):
                guard let e = peek(), e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") else {
                    throw ParseFailure("invalid escape in quoted string")
                }
                position += 1
                out.append(e)
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"), 0:
                throw ParseFailure("invalid character in quoted string")
            default:
                out.append(c)
            }
        }
        throw ParseFailure("unterminated quoted string")
    }

    /// `{n}` or `{n+}` ending the current line, then the literal's octets.
    mutating func literal() throws -> [UInt8] {
        try expect(UInt8(ascii: "{"), "literal")
        let size = try number()
        _ = skip(UInt8(ascii: "+"))
        try expect(UInt8(ascii: "}"), "end of literal marker")
        guard position == current.count, line < frame.literals.count else {
            throw ParseFailure("literal marker must end the line")
        }
        let bytes = frame.literals[line]
        guard bytes.count == Int(size) else { throw ParseFailure("literal size mismatch") }
        line += 1
        position = 0
        return bytes
    }

    mutating func string() throws -> [UInt8] {
        switch peek() {
        case UInt8(ascii: "\""): return try quoted()
        case UInt8(ascii: "{"): return try literal()
        default: throw ParseFailure("expected string")
        }
    }

    mutating func astring() throws -> [UInt8] {
        switch peek() {
        case UInt8(ascii: "\""), UInt8(ascii: "{"): return try string()
        default:
            let bytes = take(while: IMAPGrammar.isAStringChar)
            guard !bytes.isEmpty else { throw ParseFailure("expected astring") }
            return Array(bytes)
        }
    }

    mutating func astringText() throws -> String {
        String(decoding: try astring(), as: UTF8.self)
    }

    /// nil for NIL.
    mutating func nstring() throws -> [UInt8]? {
        if peek() != UInt8(ascii: "\""), peek() != UInt8(ascii: "{"), keyword("NIL") { return nil }
        return try string()
    }

    mutating func listMailbox() throws -> String {
        switch peek() {
        case UInt8(ascii: "\""), UInt8(ascii: "{"):
            return String(decoding: try string(), as: UTF8.self)
        default:
            let bytes = take(while: IMAPGrammar.isListChar)
            guard !bytes.isEmpty else { throw ParseFailure("expected mailbox pattern") }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// A mailbox name decoded from modified UTF-7, with any case of INBOX folded.
    mutating func mailbox() throws -> String {
        let raw = try astringText()
        if raw.uppercased() == "INBOX" { return "INBOX" }
        guard let decoded = ModifiedUTF7.decode(raw) else { throw ParseFailure("invalid mailbox name encoding") }
        return decoded
    }
}

@inline(__always)
func asciiUpper(_ c: UInt8) -> UInt8 {
    c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") ? c - 32 : c
}
