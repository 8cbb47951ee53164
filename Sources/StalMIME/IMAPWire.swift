/// IMAP string syntax (RFC 3501 §4.3, RFC 9051 §4.3) for the values this target renders.
/// Values with CR, LF, NUL or 8-bit bytes become literals, everything else a quoted string.
struct IMAPWriter {
    var out: [UInt8] = []

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
        var literal = false
        for b in value where b == 0 || b == ASCII.cr || b == ASCII.lf || b >= 0x80 { literal = true; break }
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
    public func partIndex(path: [Int]) -> Int? {
        var current = 0
        for (i, n) in path.enumerated() {
            if i > 0, case .message(let inner) = parts[current].body { current = inner }
            switch parts[current].body {
            case .multipart(let children):
                guard n >= 1, n <= children.count else { return nil }
                current = children[n - 1]
            default:
                guard n == 1 else { return nil }
            }
        }
        return current
    }
}
