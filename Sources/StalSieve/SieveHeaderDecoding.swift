/// Header unfolding (RFC 5322 §2.2.3) and parameter splitting; encoded words, charsets and
/// transfer decodings come from StalMIME.
enum SieveHeaderDecoding {
    static func unfold(_ raw: String) -> String {
        var out = ""
        out.reserveCapacity(raw.utf8.count)
        for s in raw.unicodeScalars where s != "\r" && s != "\n" { out.unicodeScalars.append(s) }
        return out.trimmingSpaces()
    }

    /// Splits on `;` outside quoted strings (Content-Type parameters).
    static func splitParameters(_ value: String) -> [Substring] {
        var pieces: [Substring] = []
        var start = value.startIndex
        var inQuote = false
        var escaped = false
        var i = value.startIndex
        while i < value.endIndex {
            let c = value[i]
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inQuote.toggle() } else if c == ";", !inQuote {
                pieces.append(value[start..<i])
                start = value.index(after: i)
            }
            i = value.index(after: i)
        }
        pieces.append(value[start...])
        return pieces
    }
}
