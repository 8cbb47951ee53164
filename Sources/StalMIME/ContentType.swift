public struct MIMEParameter: Sendable, Hashable {
    /// Lower-cased, without RFC 2231 section or charset markers.
    public var name: String
    /// Decoded: continuations joined, RFC 2231 charset applied, RFC 2047 words decoded.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A parsed Content-Type or Content-Disposition (RFC 2045 §5.1, RFC 2183, RFC 2231).
/// Disposition uses the same shape with an empty `subtype`.
public struct ContentType: Sendable, Hashable {
    public var type: String
    public var subtype: String
    public var parameters: [MIMEParameter]

    public init(type: String, subtype: String, parameters: [MIMEParameter] = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public static let textPlain = ContentType(type: "text", subtype: "plain",
                                              parameters: [MIMEParameter(name: "charset", value: "us-ascii")])
    public static let messageRFC822 = ContentType(type: "message", subtype: "rfc822")

    public var mimeType: String { subtype.isEmpty ? type : "\(type)/\(subtype)" }

    public func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    public var isMultipart: Bool { type == "multipart" }
    public var isText: Bool { type == "text" }
    /// message/rfc822 and message/global (RFC 6532) carry a whole message to parse.
    public var isEncapsulatedMessage: Bool {
        type == "message" && (subtype == "rfc822" || subtype == "global")
    }

    /// Parses a field body; nil when there is no type token at all.
    public static func parse<C: Collection>(_ value: C) -> ContentType? where C.Element == UInt8 {
        var s = StructuredScanner(Array(value))
        s.skipCFWS()
        let type = s.readWhile { $0 != ASCII.slash && $0 != ASCII.semicolon && !ASCII.isWhitespace($0) && $0 != ASCII.openParen }
        guard !type.isEmpty else { return nil }
        s.skipCFWS()
        var subtype: [UInt8] = []
        if s.peek == ASCII.slash {
            s.advance()
            s.skipCFWS()
            subtype = s.readWhile { $0 != ASCII.semicolon && !ASCII.isWhitespace($0) && $0 != ASCII.openParen }
        }
        let params = parseParameters(&s)
        return ContentType(type: lowercase(type), subtype: lowercase(subtype), parameters: params)
    }

    private static func lowercase(_ b: [UInt8]) -> String {
        String(decoding: b.map(ASCII.lower), as: UTF8.self)
    }

    private struct Section {
        var index: Int
        var extended: Bool
        var raw: [UInt8]
    }

    static func parseParameters(_ s: inout StructuredScanner) -> [MIMEParameter] {
        var order: [String] = []
        var sections: [String: [Section]] = [:]
        var sectionCount = 0
        while !s.atEnd {
            s.skipCFWS()
            if s.peek == ASCII.semicolon { s.advance(); continue }
            if s.atEnd { break }
            let name = s.readWhile { $0 != ASCII.equals && $0 != ASCII.semicolon && !ASCII.isWhitespace($0) && $0 != ASCII.openParen && $0 != ASCII.quote }
            s.skipCFWS()
            guard s.peek == ASCII.equals else {
                if name.isEmpty { s.advance() }
                continue
            }
            s.advance()
            s.skipCFWS()
            var value: [UInt8]
            var quoted = false
            if s.peek == ASCII.quote {
                value = s.readQuotedString()
                quoted = true
            } else {
                value = s.readWhile { $0 != ASCII.semicolon && !ASCII.isWhitespace($0) && $0 != ASCII.openParen }
                // Unquoted encoded words separated by blanks still form one value.
                while EncodedWords.containsWordStart(value) {
                    let save = s.position
                    s.skipWhitespace()
                    guard s.peek == ASCII.equals, s.position + 1 < s.bytes.count, s.bytes[s.position + 1] == ASCII.question else {
                        s.position = save
                        break
                    }
                    value.append(ASCII.space)
                    value.append(contentsOf: s.readWhile { $0 != ASCII.semicolon && !ASCII.isWhitespace($0) && $0 != ASCII.openParen })
                }
            }
            guard !name.isEmpty, quoted || !value.isEmpty else { continue }
            // Bound the work an attacker can cause with thousands of sections.
            sectionCount += 1
            if sectionCount > 1000 { break }
            var base = name.map(ASCII.lower)
            var extended = false
            var index = 0
            if base.last == UInt8(ascii: "*") {
                extended = true
                base.removeLast()
            }
            if let star = base.firstIndex(of: UInt8(ascii: "*")) {
                let digits = base[(star + 1)...]
                guard !digits.isEmpty, digits.count <= 6, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { continue }
                index = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
                base = Array(base[..<star])
                guard !base.isEmpty else { continue }
            }
            guard !base.isEmpty else { continue }
            let key = String(decoding: base, as: UTF8.self)
            if sections[key] == nil { order.append(key) }
            if extended, !quoted || value.contains(UInt8(ascii: "'")) || value.contains(UInt8(ascii: "%")) {
                sections[key, default: []].append(Section(index: index, extended: true, raw: value))
            } else {
                sections[key, default: []].append(Section(index: index, extended: false, raw: value))
            }
        }
        var result: [MIMEParameter] = []
        for key in order {
            let parts = sections[key]!.sorted { $0.index < $1.index }
            var charset: String? = nil
            var bytes: [UInt8] = []
            var anyExtended = false
            for (n, part) in parts.enumerated() {
                if part.extended {
                    anyExtended = true
                    var raw = part.raw[...]
                    if n == 0 || charset == nil, let q1 = raw.firstIndex(of: UInt8(ascii: "'")),
                       let q2 = raw[(q1 + 1)...].firstIndex(of: UInt8(ascii: "'")) {
                        charset = String(decoding: raw[raw.startIndex..<q1], as: UTF8.self)
                        raw = raw[(q2 + 1)...]
                    } else if let cs = charset, !cs.isEmpty, raw.count > cs.utf8.count,
                              raw[raw.startIndex + cs.utf8.count] == UInt8(ascii: "'"),
                              ASCII.lowercased(String(decoding: raw.prefix(cs.utf8.count), as: UTF8.self)) == ASCII.lowercased(cs) {
                        // Some senders repeat the charset on every section.
                        raw = raw[(raw.startIndex + cs.utf8.count + 1)...]
                    }
                    bytes.append(contentsOf: percentDecoded(raw))
                } else {
                    bytes.append(contentsOf: part.raw)
                }
            }
            let text: String
            if anyExtended {
                text = Charset.decode(bytes, charset: (charset?.isEmpty ?? true) ? "utf-8" : charset).text
            } else {
                text = EncodedWords.decode(bytes)
            }
            result.append(MIMEParameter(name: key, value: text))
        }
        return result
    }

    static func percentDecoded(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            if raw[i] == UInt8(ascii: "%"), i + 2 < raw.endIndex,
               let h = ASCII.hexValue(raw[i + 1]), let l = ASCII.hexValue(raw[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return out
    }
}

/// A cursor over a structured field body: comments, quoted strings and folding.
struct StructuredScanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }
    mutating func advance() { position += 1 }

    mutating func readWhile(_ keep: (UInt8) -> Bool) -> [UInt8] {
        let start = position
        while position < bytes.count, keep(bytes[position]) { position += 1 }
        return Array(bytes[start..<position])
    }

    mutating func skipWhitespace() {
        while position < bytes.count, ASCII.isWhitespace(bytes[position]) { position += 1 }
    }

    /// Skips folding whitespace and comments; returns the comments' texts.
    @discardableResult
    mutating func skipCFWS() -> [[UInt8]] {
        var comments: [[UInt8]] = []
        while true {
            skipWhitespace()
            if peek == ASCII.openParen {
                comments.append(readComment())
            } else {
                return comments
            }
        }
    }

    /// Reads a (possibly nested) comment, starting at `(`; unterminated ones end the field.
    mutating func readComment() -> [UInt8] {
        var depth = 0
        var out: [UInt8] = []
        while position < bytes.count {
            let b = bytes[position]
            position += 1
            if b == ASCII.backslash, position < bytes.count {
                out.append(bytes[position]); position += 1
                continue
            }
            if b == ASCII.openParen {
                depth += 1
                if depth == 1 { continue }
            } else if b == ASCII.closeParen {
                depth -= 1
                if depth == 0 { break }
            }
            if b == ASCII.cr || b == ASCII.lf { continue }
            out.append(b)
        }
        return out
    }

    /// Reads a quoted string starting at `"`, unescaping and unfolding it.
    mutating func readQuotedString() -> [UInt8] {
        position += 1
        var out: [UInt8] = []
        while position < bytes.count {
            let b = bytes[position]
            position += 1
            if b == ASCII.quote { break }
            if b == ASCII.backslash, position < bytes.count {
                out.append(bytes[position]); position += 1
                continue
            }
            if b == ASCII.cr || b == ASCII.lf { continue }
            out.append(b)
        }
        return out
    }
}
