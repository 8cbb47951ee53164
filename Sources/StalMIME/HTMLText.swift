/// HTML to plain text for previews, search and text/plain alternatives. A tolerant
/// tokenizer, not a DOM: unclosed tags, stray `<`, unknown entities and broken comments
/// all degrade to text. Script, style and head content is dropped; block elements and
/// `<br>` become line breaks; runs of blanks collapse.
public enum HTMLText {
    private static let blockTags: Set<String> = [
        "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
        "pre", "hr", "section", "article", "header", "footer", "dt", "dd", "dl", "address", "title", "form",
    ]
    private static let skippedTags: Set<String> = ["script", "style", "head", "title", "noscript", "template", "svg"]

    private static let entities: [String: UInt32] = [
        "amp": 38, "lt": 60, "gt": 62, "quot": 34, "apos": 39, "nbsp": 160, "copy": 169, "reg": 174, "trade": 8482,
        "hellip": 8230, "mdash": 8212, "ndash": 8211, "lsquo": 8216, "rsquo": 8217, "ldquo": 8220, "rdquo": 8221,
        "bull": 8226, "middot": 183, "euro": 8364, "pound": 163, "yen": 165, "cent": 162, "sect": 167, "deg": 176,
        "laquo": 171, "raquo": 187, "times": 215, "divide": 247, "shy": 173, "zwnj": 8204, "zwj": 8205,
        "auml": 228, "ouml": 246, "uuml": 252, "Auml": 196, "Ouml": 214, "Uuml": 220, "szlig": 223,
        "eacute": 233, "egrave": 232, "agrave": 224, "aacute": 225, "ccedil": 231, "ntilde": 241, "oacute": 243,
        "iacute": 237, "uacute": 250, "ecirc": 234, "acirc": 226, "ocirc": 244, "Eacute": 201, "oslash": 248,
        "aring": 229, "aelig": 230, "Aring": 197, "AElig": 198, "Oslash": 216, "iexcl": 161, "iquest": 191,
    ]

    public static func text(_ html: String, maxOutputBytes: Int = Int.max) -> String {
        let b = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(min(b.count, maxOutputBytes))
        var i = 0
        var skipUntil: String? = nil
        var pendingSpace = false
        var pendingBreaks = 0
        func emit(_ bytes: [UInt8]) {
            if pendingBreaks > 0, !out.isEmpty {
                out.append(contentsOf: repeatElement(ASCII.lf, count: min(pendingBreaks, 2)))
            } else if pendingSpace, !out.isEmpty, out.last != ASCII.lf {
                out.append(ASCII.space)
            }
            pendingBreaks = 0
            pendingSpace = false
            out.append(contentsOf: bytes)
        }
        while i < b.count, out.count < maxOutputBytes {
            let c = b[i]
            if c == ASCII.lessThan {
                if i + 3 < b.count, b[i + 1] == UInt8(ascii: "!"), b[i + 2] == ASCII.dash, b[i + 3] == ASCII.dash {
                    i = find(b, "-->", from: i + 4).map { $0 + 3 } ?? b.count
                    continue
                }
                var j = i + 1
                var closing = false
                if j < b.count, b[j] == ASCII.slash { closing = true; j += 1 }
                let nameStart = j
                while j < b.count, isNameByte(b[j]) { j += 1 }
                if j == nameStart && !(j < b.count && (b[j] == UInt8(ascii: "!") || b[j] == ASCII.question)) {
                    if skipUntil == nil { emit([c]) }
                    i += 1
                    continue
                }
                let name = String(decoding: b[nameStart..<j].map(ASCII.lower), as: UTF8.self)
                // Find the end of the tag, respecting quoted attribute values.
                var quote: UInt8? = nil
                while j < b.count {
                    if let q = quote { if b[j] == q { quote = nil } } else if b[j] == ASCII.quote || b[j] == UInt8(ascii: "'") { quote = b[j] } else if b[j] == ASCII.greaterThan { break }
                    j += 1
                }
                i = min(j + 1, b.count)
                if let skip = skipUntil {
                    if closing && name == skip { skipUntil = nil }
                    continue
                }
                if !closing && skippedTags.contains(name) {
                    skipUntil = name
                    continue
                }
                if blockTags.contains(name) {
                    pendingBreaks = max(pendingBreaks, name == "br" || name == "tr" || name == "li" ? 1 : 2)
                } else if name == "td" || name == "th" {
                    pendingSpace = true
                }
                continue
            }
            if skipUntil != nil { i += 1; continue }
            if c == UInt8(ascii: "&") {
                if let (scalar, next) = entity(b, at: i) {
                    emit(Array(String(Character(scalar)).utf8))
                    i = next
                    continue
                }
                emit([c]); i += 1
                continue
            }
            if ASCII.isWhitespace(c) {
                pendingSpace = true
                i += 1
                continue
            }
            var j = i
            while j < b.count, b[j] != ASCII.lessThan, b[j] != UInt8(ascii: "&"), !ASCII.isWhitespace(b[j]) { j += 1 }
            emit(Array(b[i..<j]))
            i = j
        }
        return String(decoding: out.prefix(maxOutputBytes), as: UTF8.self).replacingNBSP()
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == ASCII.dash || b == ASCII.colon
    }

    private static func find(_ b: [UInt8], _ needle: StaticString, from: Int) -> Int? {
        let n = Array(UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount))
        var i = from
        while i + n.count <= b.count {
            if b[i] == n[0] && Array(b[i..<(i + n.count)]) == n { return i }
            i += 1
        }
        return nil
    }

    private static func entity(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        var j = i + 1
        if j < b.count, b[j] == UInt8(ascii: "#") {
            j += 1
            var hex = false
            if j < b.count, b[j] == UInt8(ascii: "x") || b[j] == UInt8(ascii: "X") { hex = true; j += 1 }
            var v: UInt32 = 0
            let start = j
            while j < b.count, j - start < 8 {
                if let d = ASCII.hexValue(b[j]), hex || d < 10 { v = v * (hex ? 16 : 10) + UInt32(d) } else { break }
                j += 1
            }
            guard j > start else { return nil }
            if j < b.count, b[j] == ASCII.semicolon { j += 1 }
            let scalar = Unicode.Scalar(v == 0 ? 0xFFFD : v) ?? Unicode.Scalar(0xFFFD)!
            return (scalar, j)
        }
        let start = j
        while j < b.count, j - start < 10, (b[j] >= 97 && b[j] <= 122) || (b[j] >= 65 && b[j] <= 90) || (b[j] >= 48 && b[j] <= 57) { j += 1 }
        let name = String(decoding: b[start..<j], as: UTF8.self)
        guard let v = entities[name], let scalar = Unicode.Scalar(v) else { return nil }
        if j < b.count, b[j] == ASCII.semicolon { j += 1 }
        return (scalar, j)
    }
}

extension String {
    /// No-break spaces from `&nbsp;` read as plain spaces in previews and search.
    fileprivate func replacingNBSP() -> String {
        guard self.unicodeScalars.contains("\u{A0}") else { return self }
        return String(String.UnicodeScalarView(self.unicodeScalars.map { $0 == "\u{A0}" ? " " : $0 }))
    }
}
