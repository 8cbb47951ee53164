/// IMAP string syntax (RFC 3501 §4.3, RFC 9051 §4.3) for the values this target renders.
/// Values with CR, LF, NUL or 8-bit bytes become literals, everything else a quoted string.
struct IMAPWriter {
    var out: [UInt8] = []
    /// For the `String` renderings: header bytes that are not UTF-8 are converted first
    /// (Windows-1252 fallback) so literal lengths match the UTF-8 the caller sends.
    var validUTF8 = false
    /// IMAP4rev2 and UTF8=ACCEPT (RFC 9051 §4.3, RFC 6855) allow UTF-8 in quoted strings.
    var utf8Quoted = false

    mutating func raw(_ s: StaticString) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func raw(_ s: String) { out.append(contentsOf: s.utf8) }

    mutating func nstring<C: Collection>(_ value: C?) where C.Element == UInt8 {
        guard let value else { raw("NIL"); return }
        string(value)
    }

    mutating func nstring(_ value: String?) {
        guard let value else { raw("NIL"); return }
        string(value.utf8)
    }

    mutating func string<C: Collection>(_ value: C) where C.Element == UInt8 {
        if validUTF8, value.contains(where: { $0 >= 0x80 }), Charset.validUTF8(value) == nil {
            let repaired = Array(Charset.decode(value, charset: "utf-8").text.utf8)
            writeString(repaired)
            return
        }
        writeString(value)
    }

    private mutating func writeString<C: Collection>(_ value: C) where C.Element == UInt8 {
        var literal = false
        var eightBit = false
        for b in value {
            if b == 0 || b == ASCII.cr || b == ASCII.lf { literal = true; break }
            if b >= 0x80 { eightBit = true }
        }
        if eightBit && !(utf8Quoted && Charset.validUTF8(value) != nil) { literal = true }
        if literal || value.count > 4096 {
            raw("{\(value.count)}\r\n")
            out.append(contentsOf: value)
            return
        }
        out.append(ASCII.quote)
        for b in value {
            if b == ASCII.quote || b == ASCII.backslash { out.append(ASCII.backslash) }
            out.append(b)
        }
        out.append(ASCII.quote)
    }

    mutating func number(_ n: Int) { raw(String(n)) }
}

extension MIMEMessage {
    /// Resolves an IMAP section part number (RFC 3501 §6.4.5) to a part index: numbers
    /// walk multipart children; a non-multipart body is its own part 1; below a
    /// message/rfc822 part the numbering continues inside the encapsulated message.
    /// One step of a section path: below a message/rfc822 part (after the first number) the
    /// numbering continues inside the encapsulated message; numbers pick multipart children;
    /// a non-multipart body is its own part 1.
    func sectionStep(from current: Int, depth: Int, number n: Int) -> Int? {
        var current = current
        if depth > 0, case .message(let inner) = parts[current].body { current = inner }
        switch parts[current].body {
        case .multipart(let children):
            guard n >= 1, n <= children.count else { return nil }
            return children[n - 1]
        default:
            return n == 1 ? current : nil
        }
    }

    public func partIndex(path: [Int]) -> Int? {
        var current = 0
        for (i, n) in path.enumerated() {
            guard let next = sectionStep(from: current, depth: i, number: n) else { return nil }
            current = next
        }
        return current
    }
}
