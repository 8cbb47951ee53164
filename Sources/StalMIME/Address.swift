/// One mailbox of an address field (RFC 5322 §3.4), in two forms: decoded for JMAP and
/// Sieve, and raw (encoded words intact) for IMAP ENVELOPE.
public struct MailAddress: Sendable, Hashable {
    /// Display name, RFC 2047 decoded; a comment stands in when there is no phrase.
    public var name: String?
    /// `local@domain` (or whatever stood there when the field was not an addr-spec).
    public var address: String?
    /// The display name as written, quotes and escapes removed, encoded words kept.
    public var rawName: String?
    /// Obsolete source route (`@a,@b`), without the final colon.
    public var route: String?
    public var localPart: String?
    public var domain: String?

    public init(name: String?, address: String?, rawName: String? = nil, route: String? = nil,
                localPart: String? = nil, domain: String? = nil) {
        self.name = name
        self.address = address
        self.rawName = rawName
        self.route = route
        self.localPart = localPart
        self.domain = domain
    }
}

/// A group (`name: a, b;`) or, with `name == nil`, a run of addresses outside any group,
/// which is the shape of JMAP `asGroupedAddresses`.
public struct AddressGroup: Sendable, Hashable {
    public var name: String?
    public var rawName: String?
    public var isGroup: Bool
    public var addresses: [MailAddress]

    public init(name: String?, rawName: String? = nil, isGroup: Bool, addresses: [MailAddress]) {
        self.name = name
        self.rawName = rawName
        self.isGroup = isGroup
        self.addresses = addresses
    }
}

/// Address-list parsing that accepts what mail clients actually send: unquoted dots and
/// `@` in names, missing angle brackets, comments anywhere, obsolete routes, empty list
/// members, 8-bit and UTF-8 names, encoded words inside quoted strings.
public enum AddressParser {
    enum Token {
        case word([UInt8], quoted: Bool, spaceBefore: Bool)
        case comment([UInt8])
        case special(UInt8, spaceBefore: Bool)
    }

    static func tokenize(_ input: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var s = StructuredScanner(input)
        var space = false
        while let b = s.peek {
            if ASCII.isWhitespace(b) { space = true; s.advance(); continue }
            switch b {
            case ASCII.openParen:
                tokens.append(.comment(s.readComment()))
                space = true
            case ASCII.quote:
                tokens.append(.word(s.readQuotedString(), quoted: true, spaceBefore: space))
                space = false
            case ASCII.lessThan, ASCII.greaterThan, ASCII.comma, ASCII.colon, ASCII.semicolon, ASCII.at, ASCII.dot:
                tokens.append(.special(b, spaceBefore: space))
                s.advance()
                space = false
            case UInt8(ascii: "["):
                let literal = s.readWhile { $0 != UInt8(ascii: "]") && $0 != ASCII.lf }
                var w = literal
                if s.peek == UInt8(ascii: "]") { w.append(UInt8(ascii: "]")); s.advance() }
                tokens.append(.word(w, quoted: false, spaceBefore: space))
                space = false
            default:
                let w = s.readWhile {
                    !ASCII.isWhitespace($0) && $0 != ASCII.openParen && $0 != ASCII.quote && $0 != ASCII.lessThan
                        && $0 != ASCII.greaterThan && $0 != ASCII.comma && $0 != ASCII.colon && $0 != ASCII.semicolon
                        && $0 != ASCII.at && $0 != ASCII.dot
                }
                tokens.append(.word(w, quoted: false, spaceBefore: space))
                space = false
            }
            if tokens.count > 100_000 { break }
        }
        return tokens
    }

    private struct Mailbox {
        var phrase: [UInt8] = []
        var phraseHasText = false
        var angle: [UInt8] = []
        var bare: [UInt8] = []
        var comments: [[UInt8]] = []
        var sawAngle = false
        var closedAngle = false

        var isEmpty: Bool { !phraseHasText && !sawAngle && bare.isEmpty && comments.isEmpty }

        mutating func appendPhrase(_ bytes: [UInt8], spaceBefore: Bool) {
            if phraseHasText && spaceBefore { phrase.append(ASCII.space) }
            phrase.append(contentsOf: bytes)
            phraseHasText = true
        }
    }

    /// Parses a field body into groups; addresses outside groups are collected into
    /// groups with `isGroup == false`.
    public static func parse<C: Collection>(_ value: C) -> [AddressGroup] where C.Element == UInt8 {
        let tokens = tokenize(Array(value))
        var groups: [AddressGroup] = []
        var loose: [MailAddress] = []
        var groupName: (decoded: String?, raw: String?)? = nil
        var members: [MailAddress] = []
        var current = Mailbox()
        var inAngle = false

        func finishMailbox() {
            defer { current = Mailbox(); inAngle = false }
            guard !current.isEmpty, let address = makeAddress(current) else { return }
            if groupName != nil { members.append(address) } else { loose.append(address) }
        }
        func flushLoose() {
            if !loose.isEmpty {
                groups.append(AddressGroup(name: nil, isGroup: false, addresses: loose))
                loose.removeAll()
            }
        }
        func finishGroup() {
            if let g = groupName {
                flushLoose()
                groups.append(AddressGroup(name: g.decoded, rawName: g.raw, isGroup: true, addresses: members))
            }
            groupName = nil
            members.removeAll()
        }

        for token in tokens {
            switch token {
            case .comment(let c):
                current.comments.append(c)
            case .word(let w, let quoted, let spaceBefore):
                if inAngle {
                    current.angle.append(contentsOf: quoted ? quote(w) : w)
                } else if current.closedAngle {
                    // Text after `<addr>` is treated as more display name.
                    current.appendPhrase(w, spaceBefore: true)
                } else {
                    current.appendPhrase(w, spaceBefore: spaceBefore)
                    if !current.bare.isEmpty, spaceBefore, !current.bare.contains(ASCII.at) {
                        current.bare.append(ASCII.space)
                    }
                    current.bare.append(contentsOf: quoted ? quote(w) : w)
                }
            case .special(let c, let spaceBefore):
                if inAngle {
                    if c == ASCII.greaterThan {
                        inAngle = false
                        current.closedAngle = true
                    } else if c != ASCII.lessThan {
                        current.angle.append(c)
                    }
                    continue
                }
                switch c {
                case ASCII.lessThan:
                    inAngle = true
                    current.sawAngle = true
                    current.angle.removeAll()
                case ASCII.greaterThan:
                    break
                case ASCII.comma:
                    finishMailbox()
                case ASCII.semicolon:
                    finishMailbox()
                    finishGroup()
                case ASCII.colon where groupName == nil && !current.sawAngle:
                    let raw = String(decoding: current.phrase, as: UTF8.self)
                    var name: String? = ASCII.trimmedString(EncodedWords.decode(current.phrase))
                    if let comment = commentText(current.comments) {
                        name = (name?.isEmpty ?? true) ? comment : "\(name!) (\(comment))"
                    }
                    flushLoose()
                    groupName = (name?.isEmpty ?? true ? nil : name, raw.isEmpty ? nil : raw)
                    current = Mailbox()
                default:
                    current.appendPhrase([c], spaceBefore: spaceBefore)
                    current.bare.append(c)
                }
            }
        }
        finishMailbox()
        finishGroup()
        flushLoose()
        return groups
    }

    /// Flattens groups into mailboxes (JMAP `asAddresses`).
    public static func addresses<C: Collection>(_ value: C) -> [MailAddress] where C.Element == UInt8 {
        parse(value).flatMap(\.addresses)
    }

    private static func quote(_ w: [UInt8]) -> [UInt8] {
        let needs = w.isEmpty || w.contains { ASCII.isWhitespace($0) || $0 == ASCII.quote || $0 == ASCII.backslash || $0 == ASCII.at || $0 == ASCII.comma }
        if !needs { return w }
        var out: [UInt8] = [ASCII.quote]
        for b in w {
            if b == ASCII.quote || b == ASCII.backslash { out.append(ASCII.backslash) }
            out.append(b)
        }
        out.append(ASCII.quote)
        return out
    }

    private static func commentText(_ comments: [[UInt8]]) -> String? {
        let texts = comments.map { ASCII.trimmedString(EncodedWords.decode($0)) }.filter { !$0.isEmpty }
        return texts.isEmpty ? nil : texts.joined(separator: " ")
    }

    private static func makeAddress(_ m: Mailbox) -> MailAddress? {
        var spec: [UInt8]
        var phrase: [UInt8]
        var route: String? = nil
        if m.sawAngle {
            spec = m.angle
            phrase = m.phrase
            // `<@a,@b:user@host>`: the route ends at the last colon before the local part.
            if spec.first == ASCII.at, let colon = spec.firstIndex(of: ASCII.colon) {
                route = String(decoding: spec[..<colon], as: UTF8.self)
                spec = Array(spec[(colon + 1)...])
            }
        } else {
            spec = m.bare
            phrase = []
        }
        let decodedPhrase = ASCII.collapsingWhitespace(EncodedWords.decode(phrase))
        var name: String? = decodedPhrase.isEmpty ? nil : decodedPhrase
        if let comment = commentText(m.comments) {
            name = name.map { "\($0) (\(comment))" } ?? comment
        }
        let rawPhrase = String(decoding: ASCII.trimmed(phrase), as: UTF8.self)
        let specText = String(decoding: ASCII.trimmed(spec), as: UTF8.self)
        var local: String? = nil
        var domain: String? = nil
        if let at = spec.lastIndex(of: ASCII.at) {
            local = String(decoding: spec[..<at], as: UTF8.self)
            domain = String(decoding: spec[(at + 1)...], as: UTF8.self)
        } else if !specText.isEmpty {
            local = specText
        }
        if specText.isEmpty && name == nil { return nil }
        return MailAddress(name: name, address: specText.isEmpty ? nil : unquotedLocal(specText),
                           rawName: rawPhrase.isEmpty ? (commentText(m.comments).map { _ in rawComment(m.comments) }) : rawPhrase,
                           route: route, localPart: local, domain: domain)
    }

    private static func rawComment(_ comments: [[UInt8]]) -> String {
        comments.map { String(decoding: ASCII.trimmed($0), as: UTF8.self) }.joined(separator: " ")
    }

    /// A quoted local part that needs no quoting loses its quotes.
    private static func unquotedLocal(_ spec: String) -> String {
        guard spec.hasPrefix("\""), let close = spec.dropFirst().firstIndex(of: "\"") else { return spec }
        let inner = spec[spec.index(after: spec.startIndex)..<close]
        if inner.contains(where: { $0 == " " || $0 == "\\" || $0 == "\"" || $0 == "," || $0 == "@" }) { return spec }
        return String(inner) + spec[spec.index(after: close)...]
    }
}
