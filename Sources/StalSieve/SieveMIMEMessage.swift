import StalMIME

/// `SieveMessage` over StalMIME's parse: the server's one MIME reading (charsets through
/// iconv, RFC 2231 parameters, repaired structure) is what Sieve tests see.
public struct SieveMIMEMessage: SieveMessage {
    public private(set) var headerFields: [SieveHeaderField]
    public let rawBody: String
    public let parts: [SieveBodyPart]
    public let size: Int
    public let hasBody: Bool
    private let mime: MIMEMessage
    private var headersEdited = false

    public init(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    public init(bytes: [UInt8], limits: MIMELimits = .default) {
        let message = MIMEMessage.parse(bytes, limits: limits)
        mime = message
        var bareLF = 0
        var previous: UInt8 = 0
        for b in bytes {
            if b == 0x0A, previous != 0x0D { bareLF += 1 }
            previous = b
        }
        size = bytes.count + bareLF
        func fields(_ part: MIMEPart) -> [SieveHeaderField] {
            part.headers.map { f in
                var raw = message.rawValue(f)
                while let last = raw.last, last == 0x0A || last == 0x0D { raw = raw.dropLast() }
                return SieveHeaderField(name: f.name, rawValue: String(decoding: raw, as: UTF8.self))
            }
        }
        let root = message.root
        headerFields = fields(root)
        let header = bytes[..<root.bodyStart]
        hasBody = root.bodyStart < bytes.count || header.isEmpty || header.last == 0x0A && (header.dropLast().last == 0x0A
            || (header.dropLast().last == 0x0D && header.dropLast(2).last == 0x0A))
        rawBody = String(decoding: bytes[root.bodyRange], as: UTF8.self)
        var converted: [SieveBodyPart] = []
        converted.reserveCapacity(message.parts.count)
        for (index, part) in message.parts.enumerated() {
            var parameters: [String: String] = [:]
            for p in part.contentType.parameters { parameters[p.name.lowercased()] = p.value }
            var multipartText: String?
            if part.isMultipart {
                let preamble = part.preamble.map { String(decoding: bytes[$0], as: UTF8.self) } ?? ""
                let epilogue = part.epilogue.map { String(decoding: bytes[$0], as: UTF8.self) } ?? ""
                multipartText = preamble + epilogue
            }
            var isMessage = false
            if case .message = part.body { isMessage = true }
            let headers = fields(part)
            // A malformed Content-Type (e.g. "text/plain/stupid") makes the part opaque (RFC 2045 §5.2).
            let type = SieveMIMEParser.contentType(headers, defaultType: part.contentType.mimeType.lowercased()).0
            // Text for `body :text`: text/* and XHTML leaves whose transfer encoding is known
            // (an unknown encoding makes the part unreadable, RFC 2045 §6.4).
            var decoded: String?
            var knownEncoding = true
            switch part.transferEncoding {
            case .other, .malformed: knownEncoding = false
            default: break
            }
            if knownEncoding, !part.isMultipart, type.hasPrefix("text/") || type == "application/xhtml+xml" {
                decoded = message.decodedText(of: index).text
            }
            converted.append(SieveBodyPart(headers: headers, contentType: type,
                                           contentTypeParameters: parameters, rawBody: String(decoding: bytes[part.bodyRange], as: UTF8.self),
                                           decodedText: decoded, multipartText: multipartText, childIndices: part.children,
                                           parentIndex: part.parent, isEnclosedMessage: isMessage, range: part.range))
        }
        parts = converted
    }

    public var serialized: String {
        if !headersEdited { return String(decoding: mime.bytes, as: UTF8.self) }
        return editedHeaderBlock + rawBody
    }

    private var editedHeaderBlock: String {
        headerFields.map { "\($0.name):\($0.rawValue)\r\n" }.joined() + "\r\n"
    }

    /// Transfer-decoded content of part `index`.
    public func decodedBody(of index: Int) -> [UInt8] { mime.decodedBody(of: index).bytes }

    /// The message with the entity at `index` (not the root) replaced by `entity` (header and
    /// body text), for RFC 5703 `replace` inside `foreverypart`.
    public func replacingPart(_ index: Int, with entity: String) -> SieveMIMEMessage? {
        guard index > 0, index < parts.count, let range = parts[index].range else { return nil }
        var bytes = mime.bytes
        var shift = 0
        if headersEdited {
            let header = Array(editedHeaderBlock.utf8)
            shift = header.count - mime.root.bodyStart
            bytes = header + Array(bytes[mime.root.bodyStart...])
        }
        let lower = range.lowerBound + shift, upper = range.upperBound + shift
        guard lower >= 0, upper <= bytes.count, lower <= upper else { return nil }
        bytes.replaceSubrange(lower..<upper, with: Array(entity.utf8))
        return SieveMIMEMessage(bytes: bytes)
    }

    public mutating func insertHeader(_ field: SieveHeaderField, at index: Int) {
        headerFields.insert(field, at: max(0, min(index, headerFields.count)))
        headersEdited = true
    }

    public mutating func removeHeader(at index: Int) {
        headerFields.remove(at: index)
        headersEdited = true
    }
}
