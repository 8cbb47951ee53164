/// The text part of an IMAP section specifier (RFC 3501 §6.4.5 `section-text` and `section-msgtext`).
public enum IMAPSectionText: Sendable, Hashable {
    /// `BODY[1.2]`: the part's body (for message/rfc822, the whole encapsulated message).
    case full
    /// `BODY[HEADER]`, `BODY[2.HEADER]`: the header of the message or of the encapsulated message.
    case header
    case headerFields([String])
    case headerFieldsNot([String])
    /// `BODY[TEXT]`, `BODY[2.TEXT]`: the body of the message or encapsulated message.
    case text
    /// `BODY[1.MIME]`: the MIME header of a part.
    case mime
}

public enum IMAPBinaryResult: Sendable, Hashable {
    case bytes([UInt8])
    /// `NO [UNKNOWN-CTE]` (RFC 3516 §4.3).
    case unknownTransferEncoding
    case noSuchPart
}

extension MIMEMessage {
    /// The bytes of a section, or nil when the section does not exist.
    /// A partial fetch `<start.count>` is a slice of the result.
    public func section(path: [Int], _ text: IMAPSectionText = .full) -> [UInt8]? {
        if let (nested, rest) = insideEncodedMessage(path: path, text) { return nested.section(path: rest, text) }
        switch text {
        case .headerFields(let names):
            guard let m = messageRoot(path: path) else { return nil }
            return headerFields(of: m, names: names, include: true)
        case .headerFieldsNot(let names):
            guard let m = messageRoot(path: path) else { return nil }
            return headerFields(of: m, names: names, include: false)
        default:
            return sectionRange(path: path, text).map { Array(bytes[$0]) }
        }
    }

    /// The byte range of a contiguous section in `bytes` (all but HEADER.FIELDS), so a
    /// server can stream a partial fetch straight from the stored blob.
    /// Nil too for sections inside a base64/QP-encoded message/rfc822 part: their bytes
    /// are decoded ones that `bytes` does not hold (`section` returns them).
    public func sectionRange(path: [Int], _ text: IMAPSectionText = .full) -> Range<Int>? {
        if insideEncodedMessage(path: path, text) != nil { return nil }
        switch text {
        case .full:
            if path.isEmpty { return 0..<bytes.count }
            guard let p = partIndex(path: path) else { return nil }
            return parts[p].bodyRange
        case .mime:
            guard !path.isEmpty, let p = partIndex(path: path) else { return nil }
            return parts[p].headerRange
        case .header:
            guard let m = messageRoot(path: path) else { return nil }
            return parts[m].headerRange
        case .text:
            guard let m = messageRoot(path: path) else { return nil }
            return parts[m].bodyRange
        case .headerFields, .headerFieldsNot:
            return nil
        }
    }

    /// BINARY[path] (RFC 3516): the part's body with its transfer encoding removed.
    public func binarySection(path: [Int]) -> IMAPBinaryResult {
        if let (nested, rest) = insideEncodedMessage(path: path, .full) { return nested.binarySection(path: rest) }
        guard let p = path.isEmpty ? 0 : partIndex(path: path) else { return .noSuchPart }
        if case .multipart = parts[p].body { return .noSuchPart }
        if case .other = parts[p].transferEncoding { return .unknownTransferEncoding }
        return .bytes(decodedBody(of: p).bytes)
    }

    /// When `path` with `text` addresses something inside a message decoded from a base64
    /// or QP message/rfc822 part: that message and the path inside it. `BODY[n]` and
    /// `BODY[n.MIME]` of the part itself stay in the stored bytes.
    func insideEncodedMessage(path: [Int], _ text: IMAPSectionText) -> (MIMEMessage, [Int])? {
        guard !encodedMessages.isEmpty else { return nil }
        var current = 0
        for (i, n) in path.enumerated() {
            guard let next = sectionStep(from: current, depth: i, number: n) else { return nil }
            current = next
            guard let nested = encodedMessages[current] else { continue }
            let rest = Array(path[(i + 1)...])
            switch text {
            case .full, .mime: return rest.isEmpty ? nil : (nested, rest)
            case .header, .headerFields, .headerFieldsNot, .text: return (nested, rest)
            }
        }
        return nil
    }

    /// The message whose header HEADER/TEXT refer to: the top-level one, or the one
    /// inside the message/rfc822 part at `path`.
    func messageRoot(path: [Int]) -> Int? {
        if path.isEmpty { return 0 }
        guard let p = partIndex(path: path), case .message(let inner) = parts[p].body else { return nil }
        return inner
    }

    func headerFields(of part: Int, names: [String], include: Bool) -> [UInt8] {
        let wanted = Set(names.map(ASCII.lowercased))
        var out: [UInt8] = []
        for f in parts[part].headers where wanted.contains(ASCII.lowercased(f.name)) == include {
            out.append(contentsOf: bytes[f.start..<f.end])
            if f.end == f.start || bytes[f.end - 1] != ASCII.lf { out.append(contentsOf: [ASCII.cr, ASCII.lf]) }
        }
        out.append(contentsOf: [ASCII.cr, ASCII.lf])
        return out
    }
}
