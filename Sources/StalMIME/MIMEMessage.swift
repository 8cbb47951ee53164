/// A parsed message: the original bytes plus a tree of parts that point into them.
/// Parsing never fails and never copies bodies; decoding happens on demand.
public struct MIMEMessage: Sendable {
    public let bytes: [UInt8]
    /// Part 0 is the message itself; children follow their parents.
    public let parts: [MIMEPart]
    public let problems: [MIMEProblem]
    public let limits: MIMELimits

    public static func parse(_ bytes: [UInt8], limits: MIMELimits = .default) -> MIMEMessage {
        MIMEMessage(bytes: bytes, limits: limits)
    }

    public init(bytes: [UInt8], limits: MIMELimits = .default) {
        self.bytes = bytes
        self.limits = limits
        var parsed: (parts: [MIMEPart], problems: [MIMEProblem]) = ([], [])
        bytes.withUnsafeBufferPointer { buf in
            let empty: [UInt8] = [0]
            empty.withUnsafeBufferPointer { fallback in
                let base = buf.baseAddress ?? fallback.baseAddress!
                var parser = MIMEParser(buf, base: base, limits: limits)
                _ = parser.parseEntity(start: 0, depth: 0, parent: nil, defaultType: .textPlain)
                parsed = (parser.parts, parser.problems)
            }
        }
        self.parts = parsed.parts
        self.problems = parsed.problems
    }

    public var root: MIMEPart { parts[0] }

    // MARK: Header access

    public func fields(named name: String, in part: Int = 0) -> [MIMEHeaderField] {
        parts[part].headers.filter { $0.hasName(name) }
    }

    public func field(named name: String, in part: Int = 0) -> MIMEHeaderField? {
        parts[part].headers.first { $0.hasName(name) }
    }

    /// The field body exactly as written: after the colon, folding and final line break included.
    public func rawValue(_ field: MIMEHeaderField) -> ArraySlice<UInt8> {
        bytes[field.valueStart..<field.end]
    }

    /// The field body unfolded, without the final line break, leading blanks kept.
    public func unfoldedValue(_ field: MIMEHeaderField) -> [UInt8] {
        ASCII.unfolded(bytes[field.valueStart..<field.end])
    }

    /// An unstructured field as text: unfolded, encoded words decoded, trimmed.
    public func text(_ field: MIMEHeaderField) -> String {
        HeaderValue.text(rawValue(field))
    }

    public func text(named name: String, in part: Int = 0) -> String? {
        field(named: name, in: part).map(text)
    }

    // MARK: Bodies

    /// The body of a part after transfer decoding (BINARY fetch, attachments).
    public func decodedBody(of part: Int) -> TransferEncoding.Decoded {
        let p = parts[part]
        return p.transferEncoding.decode(bytes[p.bodyRange])
    }

    /// A text part's content in UTF-8, decoded from its transfer encoding and charset.
    public func decodedText(of part: Int) -> (text: String, hadProblem: Bool) {
        let decoded = decodedBody(of: part)
        let charset = parts[part].contentType.parameter("charset")
        let text = Charset.decode(decoded.bytes, charset: charset)
        return (text.text, decoded.hadProblem || text.hadProblem)
    }

    /// Counts lines the way IMAP BODYSTRUCTURE does: line feeds, plus one for a final
    /// line without one.
    public func lineCount(_ range: Range<Int>) -> Int {
        if range.isEmpty { return 0 }
        var n = 0
        bytes.withUnsafeBufferPointer { buf in
            for i in range where buf[i] == ASCII.lf { n += 1 }
        }
        if bytes[range.upperBound - 1] != ASCII.lf { n += 1 }
        return n
    }

    /// The IMAP section number of a part ([] for the message). An encapsulated message
    /// shares the number of its message/rfc822 part, and its children continue from it.
    public func sectionPath(of part: Int) -> [Int] {
        var path: [Int] = []
        var current = part
        while let parent = parts[current].parent {
            if case .multipart(let children) = parts[parent].body {
                path.append((children.firstIndex(of: current) ?? 0) + 1)
            }
            current = parent
        }
        return path.reversed()
    }

    /// Whether this part starts a message (the root, or the content of a message/rfc822 part).
    public func isMessageRoot(_ index: Int) -> Bool {
        guard let parent = parts[index].parent else { return true }
        if case .message = parts[parent].body { return true }
        return false
    }
}
