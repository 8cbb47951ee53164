/// A parsed message: the original bytes plus a tree of parts that point into them.
/// Parsing never fails and never copies bodies; decoding happens on demand.
public struct MIMEMessage: Sendable {
    public let bytes: [UInt8]
    /// Part 0 is the message itself; children follow their parents.
    public let parts: [MIMEPart]
    public let problems: [MIMEProblem]
    public let limits: MIMELimits
    /// Messages carried base64- or QP-encoded in message/rfc822 (or message/global) parts,
    /// by part index, parsed from their decoded bytes. Such a part stays a leaf in `parts`
    /// because every offset there points into `bytes`; the nested message's offsets point
    /// into its own `bytes`. See docs/mime.md for what IMAP and JMAP show of it.
    public let encodedMessages: [Int: MIMEMessage]

    public static func parse(_ bytes: [UInt8], limits: MIMELimits = .default) -> MIMEMessage {
        MIMEMessage(bytes: bytes, limits: limits)
    }

    /// Parses only the top-level header; the body stays one opaque leaf. For callers that
    /// need fields alone (SMTP checks, header-only search, Sieve header tests).
    public static func parseHeader(_ bytes: [UInt8], limits: MIMELimits = .default) -> MIMEMessage {
        MIMEMessage(bytes: bytes, limits: limits, headerOnly: true)
    }

    public init(bytes: [UInt8], limits: MIMELimits = .default) {
        self.init(bytes: bytes, limits: limits, headerOnly: false)
    }

    init(bytes: [UInt8], limits: MIMELimits, headerOnly: Bool) {
        self.bytes = bytes
        self.limits = limits
        var parsed: (parts: [MIMEPart], problems: [MIMEProblem]) = ([], [])
        var encoded: [(part: Int, depth: Int)] = []
        bytes.withUnsafeBufferPointer { buf in
            let empty: [UInt8] = [0]
            empty.withUnsafeBufferPointer { fallback in
                let base = buf.baseAddress ?? fallback.baseAddress!
                var parser = MIMEParser(buf, base: base, limits: limits)
                parser.headerOnly = headerOnly
                _ = parser.parseEntity(start: 0, depth: 0, parent: nil, defaultType: .textPlain)
                parsed = (parser.parts, parser.problems)
                encoded = parser.encodedMessageParts
            }
        }
        self.parts = parsed.parts
        var problems = parsed.problems
        var nested: [Int: MIMEMessage] = [:]
        var partsLeft = limits.partsMax - parsed.parts.count
        for (part, depth) in encoded {
            let p = parsed.parts[part]
            // The nested message counts against the outer limits: its depth continues
            // this one's and its parts share the budget, so encoding cannot multiply them.
            guard depth + 1 < limits.nestingDepthMax, partsLeft > 0 else {
                if problems.count < 1000 { problems.append(MIMEProblem(.encodedMessageNotParsed, offset: p.headerStart, "limits")) }
                continue
            }
            var innerLimits = limits
            innerLimits.nestingDepthMax = limits.nestingDepthMax - depth - 1
            innerLimits.partsMax = partsLeft
            let message = MIMEMessage(bytes: p.transferEncoding.decode(bytes[p.bodyRange]).bytes, limits: innerLimits)
            partsLeft -= message.totalPartCount
            nested[part] = message
        }
        self.problems = problems
        self.encodedMessages = nested
    }

    /// Parts of this message and of every message decoded from an encoded part.
    var totalPartCount: Int {
        encodedMessages.values.reduce(parts.count) { $0 + $1.totalPartCount }
    }

    public var root: MIMEPart { parts[0] }

    /// The bytes with every bare CR or LF turned into CRLF, for storing messages that
    /// arrived with Unix line ends: IMAP sizes, line counts and DKIM assume CRLF.
    /// Returns the input unchanged when it already uses CRLF throughout.
    public static func canonicalLineEnds(_ bytes: [UInt8]) -> [UInt8] {
        var clean = true
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i < b.count {
                if b[i] == ASCII.lf && (i == 0 || b[i - 1] != ASCII.cr) { clean = false; break }
                if b[i] == ASCII.cr && (i + 1 == b.count || b[i + 1] != ASCII.lf) { clean = false; break }
                i += 1
            }
        }
        return clean ? bytes : MessageBuilder.crlfNormalized(bytes)
    }

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

    /// The field body as written, without the line break that ends the field (JMAP
    /// `asRaw` and the `headers` property, RFC 8621 §4.1.2.1).
    public func rawValueWithoutLineEnd(_ field: MIMEHeaderField) -> ArraySlice<UInt8> {
        var end = field.end
        if end > field.valueStart, bytes[end - 1] == ASCII.lf { end -= 1 }
        if end > field.valueStart, bytes[end - 1] == ASCII.cr { end -= 1 }
        return bytes[field.valueStart..<end]
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

    /// Problems that only show when bodies are decoded (the parse itself does not decode):
    /// undecodable transfer encodings, unknown charsets, bytes that do not fit their charset.
    public func decodingProblems() -> [MIMEProblem] {
        var found: [MIMEProblem] = []
        for i in parts.indices where parts[i].body == .leaf {
            let p = parts[i]
            let body = decodedBody(of: i)
            if body.hadProblem {
                found.append(MIMEProblem(.bodyDecodingProblem, offset: p.bodyStart, p.transferEncoding.name))
            }
            guard p.contentType.isText else { continue }
            let label = p.contentType.parameter("charset")
            if let label, !Charset.isKnown(label) {
                found.append(MIMEProblem(.charsetProblem, offset: p.headerStart, "unknown charset \(label)"))
            } else if Charset.decode(body.bytes, charset: label).hadProblem {
                found.append(MIMEProblem(.charsetProblem, offset: p.bodyStart, "bytes invalid in \(label ?? "us-ascii")"))
            }
        }
        return found
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

extension MIMEMessage: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never the content: messages must not reach logs.
    public var description: String { "MIMEMessage([\(bytes.count) bytes], \(parts.count) parts, \(problems.count) problems)" }
    public var debugDescription: String { description }
}
