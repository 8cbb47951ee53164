import StalCore

/// A parsed Received field (RFC 5321 §4.4 trace information, plus the comment forms of
/// common MTAs: Postfix, Sendmail, Exim, qmail, Exchange). Used by spam heuristics,
/// inspection and search; every member is optional because real traces omit anything.
public struct ReceivedTrace: Sendable, Hashable {
    public enum Host: Sendable, Hashable {
        case name(String)
        case ip(String)
    }

    public var from: Host?
    public var by: Host?
    public var helo: Host?
    /// "Helo", "Ehlo" or "Lhlo" when the comment names the greeting command.
    public var heloCommand: String?
    public var fromIP: String?
    /// The reverse-DNS name the receiving MTA recorded for `fromIP`.
    public var fromIPReverse: String?
    public var forAddress: String?
    /// The protocol (SMTP, ESMTP, ESMTPS, ESMTPSA, LMTP, HTTP, IMAP, POP3, Local, ...).
    public var with: String?
    public var tlsVersion: String?
    public var tlsCipher: String?
    public var id: String?
    public var ident: String?
    public var via: String?
    public var date: CivilDateTime?

    public init() {}

    enum Token {
        case word(String)
        case comment(String)
    }

    static func tokens(_ bytes: [UInt8]) -> [Token] {
        var out: [Token] = []
        var s = StructuredScanner(bytes)
        while !s.atEnd, out.count < 256 {
            s.skipWhitespace()
            guard let b = s.peek else { break }
            if b == ASCII.openParen {
                out.append(.comment(String(decoding: s.readComment(), as: UTF8.self)))
            } else {
                let w = s.readWhile { !ASCII.isWhitespace($0) && $0 != ASCII.openParen }
                if w.isEmpty { s.advance(); continue }
                out.append(.word(String(decoding: w, as: UTF8.self)))
            }
        }
        return out
    }

    public static func parse<C: Collection>(_ raw: C) -> ReceivedTrace where C.Element == UInt8 {
        let bytes = ASCII.unfolded(raw)
        var r = ReceivedTrace()
        r.date = HeaderValue.date(bytes)
        let clauses = bytes.lastIndex(of: ASCII.semicolon).map { Array(bytes[..<$0]) } ?? bytes
        let keywords: Set<String> = ["from", "by", "via", "with", "id", "for"]
        var clause: String? = nil
        var hasValue = false
        var withWords: [String] = []
        for (n, token) in tokens(clauses).enumerated() {
            switch token {
            case .word(let w):
                let lower = w.lowercased().trimmingSuffix("_")
                // A second "from" (XMail's envelope sender) does not replace the first clause.
                if keywords.contains(lower), !(lower == "from" && r.from != nil) {
                    clause = lower
                    hasValue = false
                    continue
                }
                guard let c = clause else { continue }
                if hasValue {
                    if c == "from", let ip = bracketedIP(w) { r.fromIP = ip }
                    if c == "with" { withWords.append(w) }
                    continue
                }
                hasValue = true
                let value = w.trimmingSuffix(";").trimmingSuffix(",")
                switch c {
                case "from": r.from = host(value)
                case "by": r.by = host(stripAngles(value))
                case "via": r.via = value
                case "with": withWords = [value]
                case "id": r.id = String(stripAngles(value).split(separator: "/").first ?? "")
                case "for": if value.contains("@") { r.forAddress = stripAngles(value) }
                default: break
                }
            case .comment(let text):
                if n == 0, text.lowercased().hasPrefix("from ") {
                    // Sendmail's submission form: "(from user@host)" or "(from host [ip])".
                    let rest = ASCII.trimmedString(String(text.dropFirst(5)))
                    let words = rest.split(separator: " ").map(String.init)
                    r.from = .name(words.first ?? rest)
                    if words.count > 1, let ip = bracketedIP(words[1]) { r.fromIP = ip }
                    continue
                }
                if clause == "from" { r.readFromComment(text) }
                if clause == "with" || clause == "by" || clause == "id" { r.readTLS(text) }
            }
        }
        if !withWords.isEmpty { r.readWith(withWords) }
        return r
    }

    static func isHostName(_ name: String) -> Bool {
        !name.isEmpty && name.contains(".") && !isIP(name) && !name.contains("=") && !name.contains("@")
            && !name.contains("[") && !name.contains("(")
    }

    static func host(_ value: String) -> Host {
        if let ip = bracketedIP(value) { return .ip(ip) }
        if isIP(value) { return .ip(value) }
        return .name(value)
    }

    static func stripAngles(_ s: String) -> String {
        var t = Substring(s)
        if t.first == "<" { t = t.dropFirst() }
        if t.last == ">" { t = t.dropLast() }
        return String(t)
    }

    /// `[1.2.3.4]`, `[1.2.3.4:port]`, `[IPv6:...]`, `[::ffff:1.2.3.4]`, possibly after other text.
    static func bracketedIP(_ s: String) -> String? {
        guard let open = s.firstIndex(of: "["), let close = s[open...].firstIndex(of: "]") else { return nil }
        var inner = String(s[s.index(after: open)..<close])
        if inner.lowercased().hasPrefix("ipv6:") { inner = String(inner.dropFirst(5)) }
        if inner.contains("."), !inner.contains("::"), let colon = inner.firstIndex(of: ":") { inner = String(inner[..<colon]) }
        return isIP(inner) ? inner : nil
    }

    /// `1.2.3.4:port` (IPv4 only; IPv6 addresses contain colons themselves).
    static func withoutPort(_ s: String) -> String {
        if s.contains("."), !s.contains("::"), s.filter({ $0 == ":" }).count == 1, let colon = s.firstIndex(of: ":") {
            return String(s[..<colon])
        }
        return s
    }

    static func isIP(_ s: String) -> Bool {
        if s.isEmpty { return false }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }) { return true }
        return s.contains(":") && s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }

    mutating func readFromComment(_ text: String) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
        var previous: String? = nil
        var i = 0
        if let first = words.first, fromIPReverse == nil, ReceivedTrace.isHostName(first) { fromIPReverse = first }
        while i < words.count {
            let w = words[i]
            let lower = w.lowercased()
            if lower == "helo" || lower == "ehlo" || lower == "lhlo" {
                heloCommand = lower.prefix(1).uppercased() + lower.dropFirst()
                if i + 1 < words.count, !words[i + 1].hasPrefix("[") {
                    helo = ReceivedTrace.host(words[i + 1]); i += 2; continue
                }
            } else if lower.hasPrefix("helo=") || lower.hasPrefix("ehlo=") {
                heloCommand = lower.prefix(1).uppercased() + lower.dropFirst().prefix(3)
                helo = ReceivedTrace.host(String(w.dropFirst(5)))
            } else if lower.hasPrefix("ident=") || lower.hasPrefix("ident:") {
                ident = String(w.dropFirst(6)).trimmingCharacters(in: "[]")
            } else if lower == "using" || lower == "cipher" {
                readTLS(words[i...].joined(separator: " "))
                break
            } else if let ip = ReceivedTrace.bracketedIP(w) {
                if fromIP == nil { fromIP = ip }
                let before = w.hasPrefix("[") ? previous : String(w[..<w.firstIndex(of: "[")!])
                if let name = before.map(ReceivedTrace.stripAngles), ReceivedTrace.isHostName(name) {
                    fromIPReverse = name
                }
            } else if ReceivedTrace.isIP(ReceivedTrace.withoutPort(w)) {
                if fromIP == nil { fromIP = ReceivedTrace.withoutPort(w) }
            } else if lower == "auth:" || lower == "tls:" {
                readTLS(words[i...].joined(separator: " "))
                if lower == "auth:", i + 2 < words.count, words[i + 2].contains("@") {
                    ident = String(words[i + 2].split(separator: "/").first ?? "")
                }
                break
            } else if w.contains("@"), ident == nil, !w.hasPrefix("<"), !w.hasPrefix("[") {
                ident = w
            }
            previous = w
            i += 1
        }
    }

    mutating func readTLS(_ text: String) {
        let lowerText = text.lowercased()
        guard lowerText.contains("tls") || lowerText.contains("ssl") || lowerText.contains("cipher") else { return }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "(" || $0 == ")" }).map(String.init)
        for (n, w) in words.enumerated() {
            let lower = w.lowercased()
            // Exim: "TLSv1:DES-CBC3-SHA:168", "TLS-1.0:RSA_AES_256_CBC_SHA:32".
            let fields = w.split(separator: ":")
            if fields.count >= 2, let v = ReceivedTrace.tlsVersionName(String(fields[0])) {
                tlsVersion = v
                tlsCipher = String(fields[1])
                continue
            }
            if lower == "cipher", n + 1 < words.count {
                tlsCipher = words[n + 1]
                continue
            }
            if lower.hasPrefix("version=") {
                tlsVersion = ReceivedTrace.tlsVersionName(String(w.dropFirst(8)))
            } else if lower.hasPrefix("cipher=") {
                tlsCipher = String(w.dropFirst(7))
            } else if lower.hasPrefix("tls") || lower.hasPrefix("ssl"), let v = ReceivedTrace.tlsVersionName(w), tlsVersion == nil {
                tlsVersion = v
            } else if w.count > 10, w.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" || $0 == "-" }), w.contains("_") || w.contains("-") {
                tlsCipher = w
            }
        }
    }

    static func tlsVersionName(_ s: String) -> String? {
        let t = s.uppercased().replacingSeparators()
        if t.hasPrefix("TLSV1/SSLV3") || t == "TLS-10" || t == "TLS1" || t == "TLSV1" || t == "TLS10" || t == "TLSV10" { return "TLSv1_0" }
        if t == "TLS11" || t == "TLSV11" { return "TLSv1_1" }
        if t == "TLS12" || t == "TLSV12" { return "TLSv1_2" }
        if t == "TLS13" || t == "TLSV13" { return "TLSv1_3" }
        return nil
    }

    mutating func readWith(_ words: [String]) {
        var first = words[0]
        if let slash = first.firstIndex(of: "/") {
            let rest = first[first.index(after: slash)...].split(separator: "/")
            if let cipher = rest.last, rest.count >= 2 || cipher.count > 8 { tlsCipher = String(cipher) }
            first = String(first[..<slash])
        }
        let protocols = ["SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA", "LMTP", "LMTPS", "LMTPA", "LMTPSA", "HTTP",
                         "HTTPS", "IMAP", "POP3", "MMS", "UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA", "UTF8LMTP"]
        func normalized(_ word: String) -> String? {
            var u = word.uppercased().trimmingCharacters(in: "[]")
            if u.hasPrefix("LOCAL-") { u = String(u.dropFirst(6)) }
            if u == "LOCAL" { return "Local" }
            if u == "BSMTP" || u.hasPrefix("SMTPSVC") { return "SMTP" }
            if u.hasSuffix("-TLS") { u = String(u.dropLast(4)) + "S" }
            if u.hasPrefix("HTTPREST") { return "HTTP" }
            return protocols.contains(u) ? u : nil
        }
        if let p = normalized(first) { with = p; return }
        for w in words.dropFirst() {
            if let p = normalized(w) { with = p; return }
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }

    fileprivate func replacingSeparators() -> String {
        String(filter { $0 != "." && $0 != "_" && $0 != " " })
    }

    fileprivate func trimmingCharacters(in set: String) -> String {
        var t = Substring(self)
        while let f = t.first, set.contains(f) { t = t.dropFirst() }
        while let l = t.last, set.contains(l) { t = t.dropLast() }
        return String(t)
    }
}
