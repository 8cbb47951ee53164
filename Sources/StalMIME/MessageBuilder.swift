import StalCore

/// Builds messages (bounces, vacation replies, reports) with encoded and folded headers
/// and CRLF line ends. Boundaries come from a caller-supplied seed so output is
/// deterministic; a boundary that occurs in the content is replaced.
public struct MessageBuilder: Sendable {
    public struct Field: Sendable, Hashable {
        public var name: String
        /// Already in wire form (encoded, possibly folded).
        public var value: String
    }

    public indirect enum Body: Sendable, Hashable {
        /// Text in UTF-8; 7bit when it is short-lined ASCII, else quoted-printable.
        case text(String, subtype: String = "plain")
        /// Any content, sent base64-encoded.
        case binary([UInt8], type: String, subtype: String, filename: String? = nil, disposition: String? = "attachment")
        /// A whole message attached as message/rfc822 (or text/rfc822-headers with `headersOnly`).
        case message([UInt8], headersOnly: Bool = false)
        /// Raw bytes with their own type, e.g. message/delivery-status.
        case raw([UInt8], type: String, subtype: String)
        case multipart(subtype: String, parameters: [MIMEParameter] = [], parts: [Body])
    }

    public var fields: [Field] = []
    public var body: Body

    public init(body: Body) { self.body = body }

    public mutating func add(_ name: String, raw value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// An unstructured field (Subject, Comments): RFC 2047 words when needed, folded.
    public mutating func add(_ name: String, text: String) {
        fields.append(Field(name: name, value: EncodedWords.encode(text, nameLength: name.utf8.count)))
    }

    public mutating func add(_ name: String, addresses: [MailAddress]) {
        var items: [String] = []
        for a in addresses {
            let spec = a.address ?? ""
            if let n = a.name, !n.isEmpty {
                items.append("\(EncodedWords.encodePhrase(n)) <\(spec)>")
            } else {
                items.append(spec)
            }
        }
        var out = ""
        var column = name.utf8.count + 2
        for (i, item) in items.enumerated() {
            let w = item.utf8.count
            if i > 0 {
                // Room for the item and the comma that may follow it.
                if column + 2 + w + 1 > 78 { out += ",\r\n "; column = 1 } else { out += ", "; column += 2 }
            }
            out += item
            column += w
        }
        fields.append(Field(name: name, value: out))
    }

    public mutating func add(_ name: String, date: CivilDateTime) {
        fields.append(Field(name: name, value: date.rfc5322))
    }

    public mutating func add(_ name: String, messageIds: [String]) {
        fields.append(Field(name: name, value: Folding.fold(messageIds.map { "<\($0)>" }.joined(separator: " "), nameLength: name.utf8.count)))
    }

    /// The message bytes. `boundarySeed` picks the multipart boundaries.
    public func build(boundarySeed: UInt64) -> [UInt8] {
        var state = boundarySeed
        var out: [UInt8] = []
        for f in fields { Self.appendField(&out, f.name, f.value) }
        Self.appendField(&out, "MIME-Version", "1.0")
        Self.write(body, into: &out, seed: &state)
        return out
    }

    static func appendField(_ out: inout [UInt8], _ name: String, _ value: String) {
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: value.utf8)
        out.append(contentsOf: [13, 10])
    }

    /// splitmix64: a deterministic stream of boundary tokens from the caller's seed.
    static func nextToken(_ state: inout UInt64) -> String {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let hex = String(z, radix: 16)
        return "=_stal_" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func contentTypeValue(_ type: String, _ subtype: String, _ params: [MIMEParameter]) -> String {
        fieldValue("\(type)/\(subtype)", params)
    }

    static func fieldValue(_ token: String, _ params: [MIMEParameter]) -> String {
        var v = token
        for p in params { v += ";\r\n \(parameter(p))" }
        return v
    }

    /// `name="value"`, or RFC 2231 `name*=utf-8''...` for text that is not ASCII.
    static func parameter(_ p: MIMEParameter) -> String {
        if p.value.utf8.contains(where: { $0 >= 0x80 || $0 < 0x20 }) {
            let hex = Array("0123456789ABCDEF".utf8)
            var enc: [UInt8] = []
            for b in p.value.utf8 {
                if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == ASCII.dot || b == ASCII.dash || b == UInt8(ascii: "_") {
                    enc.append(b)
                } else {
                    enc.append(UInt8(ascii: "%")); enc.append(hex[Int(b >> 4)]); enc.append(hex[Int(b & 15)])
                }
            }
            if enc.count <= 50 { return "\(p.name)*=utf-8''" + String(decoding: enc, as: UTF8.self) }
            // RFC 2231 §3 continuations keep long names within the line limit; sections
            // never split a %XX triplet.
            var sections: [String] = []
            var start = 0
            while start < enc.count {
                var end = min(start + 50, enc.count)
                if end < enc.count, let pct = enc[max(start, end - 2)..<end].lastIndex(of: UInt8(ascii: "%")) { end = pct }
                let prefix = sections.isEmpty ? "utf-8''" : ""
                sections.append("\(p.name)*\(sections.count)*=" + prefix + String(decoding: enc[start..<end], as: UTF8.self))
                start = end
            }
            return sections.joined(separator: ";\r\n ")
        }
        var q = "\""
        for c in p.value {
            if c == "\"" || c == "\\" { q.append("\\") }
            q.append(c)
        }
        return "\(p.name)=\(q)\""
    }

    /// Bare LF and bare CR become CRLF, as messages on the wire need.
    public static func crlfNormalized(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 40)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == ASCII.cr {
                out.append(13); out.append(10)
                i += (i + 1 < bytes.count && bytes[i + 1] == ASCII.lf) ? 2 : 1
                continue
            }
            if b == ASCII.lf { out.append(13); out.append(10) } else { out.append(b) }
            i += 1
        }
        return out
    }

    /// Writes the entity's Content-* fields, the empty line and the body.
    static func write(_ body: Body, into out: inout [UInt8], seed: inout UInt64) {
        switch body {
        case .text(let text, let subtype):
            let bytes = crlfNormalized(Array(text.utf8))
            var ascii = true
            var lineLength = 0
            var longLine = false
            for b in bytes {
                if b >= 0x80 { ascii = false }
                if b == ASCII.lf { lineLength = 0 } else { lineLength += 1; if lineLength > 900 { longLine = true } }
            }
            appendField(&out, "Content-Type", "text/\(subtype); charset=\(ascii ? "us-ascii" : "utf-8")")
            if ascii && !longLine {
                appendField(&out, "Content-Transfer-Encoding", "7bit")
                out.append(contentsOf: [13, 10])
                out.append(contentsOf: bytes)
            } else {
                appendField(&out, "Content-Transfer-Encoding", "quoted-printable")
                out.append(contentsOf: [13, 10])
                out.append(contentsOf: QuotedPrintable.encode(bytes))
            }
        case .binary(let bytes, let type, let subtype, let filename, let disposition):
            var params: [MIMEParameter] = []
            if let filename { params.append(MIMEParameter(name: "name", value: filename)) }
            appendField(&out, "Content-Type", contentTypeValue(type, subtype, params))
            appendField(&out, "Content-Transfer-Encoding", "base64")
            if let disposition {
                let dparams = filename.map { [MIMEParameter(name: "filename", value: $0)] } ?? []
                appendField(&out, "Content-Disposition", fieldValue(disposition, dparams))
            }
            out.append(contentsOf: [13, 10])
            out.append(contentsOf: Base64.encode(bytes))
        case .message(let bytes, let headersOnly):
            let normalized = crlfNormalized(bytes)
            if headersOnly {
                appendField(&out, "Content-Type", "text/rfc822-headers")
                out.append(contentsOf: [13, 10])
                let m = MIMEMessage.parse(normalized)
                out.append(contentsOf: normalized[m.root.headerRange])
            } else {
                appendField(&out, "Content-Type", "message/rfc822")
                appendField(&out, "Content-Disposition", "inline")
                out.append(contentsOf: [13, 10])
                out.append(contentsOf: normalized)
            }
        case .raw(let bytes, let type, let subtype):
            appendField(&out, "Content-Type", "\(type)/\(subtype)")
            out.append(contentsOf: [13, 10])
            out.append(contentsOf: crlfNormalized(bytes))
        case .multipart(let subtype, let parameters, let parts):
            var rendered: [[UInt8]] = []
            for p in parts {
                var child: [UInt8] = []
                write(p, into: &child, seed: &seed)
                rendered.append(child)
            }
            var boundary = nextToken(&seed)
            while rendered.contains(where: { contains($0, Array(("--" + boundary).utf8)) }) { boundary = nextToken(&seed) }
            appendField(&out, "Content-Type", contentTypeValue("multipart", subtype, parameters + [MIMEParameter(name: "boundary", value: boundary)]))
            out.append(contentsOf: [13, 10])
            for child in rendered {
                out.append(contentsOf: "--\(boundary)\r\n".utf8)
                out.append(contentsOf: child)
                out.append(contentsOf: [13, 10])
            }
            out.append(contentsOf: "--\(boundary)--\r\n".utf8)
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}

extension MessageBuilder {
    /// An automatic reply (Sieve vacation, RFC 5230 §5; RFC 3834): threaded onto the
    /// original, marked `Auto-Submitted: auto-replied`, subject from the caller or "Auto: <subject>".
    public static func autoReply(to original: MIMEMessage, from: MailAddress, to recipient: MailAddress,
                                 subject: String?, text: String, date: CivilDateTime, messageId: String) -> MessageBuilder {
        var b = MessageBuilder(body: .text(text))
        b.add("From", addresses: [from])
        b.add("To", addresses: [recipient])
        b.add("Subject", text: subject ?? "Auto: " + (original.text(named: "Subject") ?? ""))
        b.add("Date", date: date)
        b.add("Message-ID", messageIds: [messageId])
        let keys = ThreadKeys(message: original)
        if let parent = keys.messageId {
            b.add("In-Reply-To", messageIds: [parent])
            b.add("References", messageIds: Array((keys.parentIds + [parent]).suffix(20)))
        }
        b.add("Auto-Submitted", raw: "auto-replied")
        return b
    }
}

/// A delivery status notification (RFC 3464, RFC 6522 multipart/report).
public struct DeliveryStatusReport: Sendable, Hashable {
    public struct Recipient: Sendable, Hashable {
        public var finalRecipient: String
        public var originalRecipient: String?
        /// failed, delayed, delivered, relayed, expanded.
        public var action: String
        /// e.g. 5.1.1
        public var status: String
        public var remoteMTA: String?
        /// e.g. `smtp; 550 5.1.1 user unknown`
        public var diagnosticCode: String?

        public init(finalRecipient: String, originalRecipient: String? = nil, action: String, status: String,
                    remoteMTA: String? = nil, diagnosticCode: String? = nil) {
            self.finalRecipient = finalRecipient
            self.originalRecipient = originalRecipient
            self.action = action
            self.status = status
            self.remoteMTA = remoteMTA
            self.diagnosticCode = diagnosticCode
        }
    }

    public var reportingMTA: String
    public var arrivalDate: CivilDateTime?
    public var recipients: [Recipient]
    public var humanReadable: String
    public var original: [UInt8]
    /// RFC 3461 RET=HDRS: return only the original header.
    public var returnHeadersOnly: Bool

    public init(reportingMTA: String, arrivalDate: CivilDateTime? = nil, recipients: [Recipient], humanReadable: String,
                original: [UInt8], returnHeadersOnly: Bool) {
        self.reportingMTA = reportingMTA
        self.arrivalDate = arrivalDate
        self.recipients = recipients
        self.humanReadable = humanReadable
        self.original = original
        self.returnHeadersOnly = returnHeadersOnly
    }

    /// The multipart/report body; put it in a MessageBuilder with From, To, Subject, Date, Message-ID.
    public var body: MessageBuilder.Body {
        var status = "Reporting-MTA: dns; \(reportingMTA)\r\n"
        if let d = arrivalDate { status += "Arrival-Date: \(d.rfc5322)\r\n" }
        for r in recipients {
            status += "\r\n"
            if let o = r.originalRecipient { status += "Original-Recipient: rfc822; \(o)\r\n" }
            status += "Final-Recipient: rfc822; \(r.finalRecipient)\r\n"
            status += "Action: \(r.action)\r\n"
            status += "Status: \(r.status)\r\n"
            if let m = r.remoteMTA { status += "Remote-MTA: dns; \(m)\r\n" }
            if let dc = r.diagnosticCode { status += "Diagnostic-Code: \(dc)\r\n" }
        }
        return .multipart(subtype: "report", parameters: [MIMEParameter(name: "report-type", value: "delivery-status")], parts: [
            .text(humanReadable),
            .raw(Array(status.utf8), type: "message", subtype: "delivery-status"),
            .message(original, headersOnly: returnHeadersOnly),
        ])
    }
}
