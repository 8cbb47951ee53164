/// RFC 2047 encoded words. Decoding joins adjacent words (whitespace between them is
/// dropped, and bytes of words in the same charset are decoded together so a character
/// split across two words survives) and leaves anything malformed as it was written.
/// Text outside words is taken as UTF-8 (RFC 6532), else Windows-1252.
public enum EncodedWords {
    public static func decode(_ text: String) -> String { decode(Array(text.utf8)) }

    public static func decode<C: Collection>(_ input: C) -> String where C.Element == UInt8 {
        let bytes = Array(input)
        if !containsWordStart(bytes), !bytes.contains(ASCII.lf), !bytes.contains(ASCII.cr) {
            return Charset.decode(bytes, charset: "utf-8").text
        }
        var out = ""
        var plain: [UInt8] = []
        var pendingWord: [UInt8] = []
        var pendingCharset: String? = nil
        var gapAfterWord: [UInt8] = []
        var i = 0
        func flushWord() {
            if let cs = pendingCharset { out += Charset.decode(pendingWord, charset: cs).text }
            pendingWord.removeAll(keepingCapacity: true)
            pendingCharset = nil
        }
        func flushPlain() {
            if !plain.isEmpty { out += Charset.decode(plain, charset: "utf-8").text; plain.removeAll(keepingCapacity: true) }
        }
        while i < bytes.count {
            if bytes[i] == ASCII.equals, i + 1 < bytes.count, bytes[i + 1] == ASCII.question,
               let word = parseWord(bytes, at: i) {
                if pendingCharset != nil {
                    // Whitespace between two encoded words is not part of the text (§6.2).
                    gapAfterWord.removeAll(keepingCapacity: true)
                    if ASCII.lowercased(pendingCharset!) != ASCII.lowercased(word.charset) { flushWord() }
                } else {
                    flushPlain()
                }
                pendingCharset = word.charset
                pendingWord.append(contentsOf: word.bytes)
                i = word.end
                continue
            }
            if pendingCharset != nil {
                if ASCII.isWhitespace(bytes[i]) {
                    gapAfterWord.append(bytes[i])
                    i += 1
                    continue
                }
                flushWord()
                plain.append(contentsOf: gapAfterWord)
                gapAfterWord.removeAll(keepingCapacity: true)
            }
            if bytes[i] == ASCII.cr || bytes[i] == ASCII.lf {
                // A fold and the blanks around it read as one space (RFC 5322 §2.2.3).
                while let last = plain.last, ASCII.isBlank(last) { plain.removeLast() }
                while i < bytes.count, ASCII.isWhitespace(bytes[i]) { i += 1 }
                plain.append(ASCII.space)
                continue
            }
            plain.append(bytes[i])
            i += 1
        }
        flushWord()
        plain.append(contentsOf: gapAfterWord)
        flushPlain()
        return out
    }

    static func containsWordStart(_ bytes: [UInt8]) -> Bool {
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == ASCII.equals && bytes[i + 1] == ASCII.question { return true }
            i += 1
        }
        return false
    }

    struct Word {
        var charset: String
        var bytes: [UInt8]
        var end: Int
    }

    /// `=?charset?B|Q?text?=` starting at `start`; nil when the bytes there are not one.
    static func parseWord(_ b: [UInt8], at start: Int) -> Word? {
        var i = start + 2
        let charsetStart = i
        while i < b.count, b[i] != ASCII.question {
            if ASCII.isWhitespace(b[i]) || i - charsetStart > 64 { return nil }
            i += 1
        }
        guard i + 2 < b.count, i > charsetStart, b[i + 2] == ASCII.question else { return nil }
        let charset = String(decoding: b[charsetStart..<i], as: UTF8.self)
        let encoding = ASCII.lower(b[i + 1])
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return nil }
        let textStart = i + 3
        var j = textStart
        while j + 1 < b.count {
            if b[j] == ASCII.question && b[j + 1] == ASCII.equals { break }
            if j - textStart > 4096 { return nil }
            j += 1
        }
        guard j + 1 < b.count else { return nil }
        // A word folded across lines: the fold and the blanks after it are not text.
        var text: [UInt8] = []
        text.reserveCapacity(j - textStart)
        var k0 = textStart
        while k0 < j {
            if b[k0] == ASCII.cr || b[k0] == ASCII.lf {
                k0 += 1
                while k0 < j, ASCII.isWhitespace(b[k0]) { k0 += 1 }
                continue
            }
            text.append(b[k0])
            k0 += 1
        }
        let decoded: [UInt8]
        if encoding == UInt8(ascii: "b") {
            decoded = Base64.decode(text).bytes
        } else {
            var q: [UInt8] = []
            q.reserveCapacity(text.count)
            var k = text.startIndex
            while k < text.endIndex {
                let c = text[k]
                if c == UInt8(ascii: "_") {
                    q.append(ASCII.space); k += 1
                } else if c == ASCII.equals, k + 2 < text.endIndex,
                          let h = ASCII.hexValue(text[k + 1]), let l = ASCII.hexValue(text[k + 2]) {
                    q.append(h << 4 | l); k += 3
                } else {
                    q.append(c); k += 1
                }
            }
            decoded = q
        }
        return Word(charset: charset, bytes: decoded, end: j + 2)
    }

    /// Encodes a header text for a field of `nameLength` characters: plain ASCII is kept,
    /// anything else becomes UTF-8 B or Q words of at most 75 characters, folded with CRLF SP.
    public static func encode(_ text: String, nameLength: Int = 0) -> String {
        let needsEncoding = text.utf8.contains { $0 >= 0x80 || $0 < 0x20 && $0 != 9 } || text.contains("=?")
        if !needsEncoding { return Folding.fold(text, nameLength: nameLength) }
        var words: [String] = []
        var chunk: [UInt8] = []
        // Each word (12 characters of syntax around the base64) must fit its line of 78.
        func payload(first: Bool) -> Int { max(3, ((first ? 78 - nameLength - 2 : 77) - 12) / 4 * 3) }
        for ch in text {
            let u = Array(String(ch).utf8)
            if chunk.count + u.count > payload(first: words.isEmpty), !chunk.isEmpty {
                words.append("=?UTF-8?B?" + String(decoding: Base64.encode(chunk, lineLength: 0), as: UTF8.self) + "?=")
                chunk.removeAll()
            }
            chunk.append(contentsOf: u)
        }
        if !chunk.isEmpty {
            words.append("=?UTF-8?B?" + String(decoding: Base64.encode(chunk, lineLength: 0), as: UTF8.self) + "?=")
        }
        return words.joined(separator: "\r\n ")
    }

    /// A display name for an address field: an atom phrase as is, a quoted string when it
    /// holds specials, encoded words when it is not ASCII.
    public static func encodePhrase(_ name: String) -> String {
        if name.utf8.contains(where: { $0 >= 0x80 || $0 < 0x20 }) || name.contains("=?") {
            return encode(name)
        }
        let specials = Set("()<>[]:;@\\,.\"".utf8)
        if name.utf8.contains(where: { specials.contains($0) }) {
            var q = "\""
            for c in name {
                if c == "\"" || c == "\\" { q.append("\\") }
                q.append(c)
            }
            return q + "\""
        }
        return name
    }
}

/// Header folding (RFC 5322 §2.2.3): break at whitespace so lines stay within 78 characters.
public enum Folding {
    public static func fold(_ value: String, nameLength: Int, lineLimit: Int = 78) -> String {
        var out = ""
        var column = nameLength + 2
        var first = true
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            let w = word.utf8.count
            if first {
                out += word
                column += w
                first = false
            } else if column + 1 + w > lineLimit && column > nameLength + 2 {
                out += "\r\n " + word
                column = 1 + w
            } else {
                out += " " + word
                column += 1 + w
            }
        }
        return out
    }
}
