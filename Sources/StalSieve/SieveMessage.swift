/// One header field as it appears in the message: name as written, value after the colon
/// (folding kept, line end removed).
public struct SieveHeaderField: Hashable, Sendable {
    public var name: String
    public var rawValue: String

    public init(name: String, rawValue: String) {
        self.name = name
        self.rawValue = rawValue
    }

    /// Unfolded value with surrounding whitespace removed and RFC 2047 words decoded.
    public var value: String { SieveHeaderDecoding.decode(SieveHeaderDecoding.unfold(rawValue)) }
}

/// One MIME entity in depth-first order (index 0 is the message itself).
public struct SieveBodyPart: Hashable, Sendable {
    public var headers: [SieveHeaderField]
    /// Lower-cased `type/subtype`; `text/plain` when absent (RFC 2045 §5.2).
    public var contentType: String
    public var contentTypeParameters: [String: String]
    /// Undecoded body octets of this entity (for multiparts: the whole body including children).
    public var rawBody: String
    /// Transfer-decoded and charset-converted text for `text/*` leaves; nil otherwise.
    public var decodedText: String?
    /// For multiparts: prologue and epilogue text (RFC 5173 §5.2 matches these).
    public var multipartText: String?
    public var childIndices: [Int]
    public var parentIndex: Int?
    public var isEnclosedMessage: Bool

    public var isMultipart: Bool { contentType.hasPrefix("multipart/") }
}

/// What the interpreter needs from a message. `SieveParsedMessage` is the built-in reading of
/// raw RFC 5322 text; a host with its own MIME tree can conform instead.
public protocol SieveMessage: Sendable {
    var size: Int { get }
    var headerFields: [SieveHeaderField] { get }
    /// The message's undecoded body (everything after the header block).
    var rawBody: String { get }
    /// Depth-first list of MIME entities; index 0 is the top-level entity.
    var parts: [SieveBodyPart] { get }
    /// The message as text after header edits (for redirect and :copy delivery).
    var serialized: String { get }
    mutating func insertHeader(_ field: SieveHeaderField, at index: Int)
    mutating func removeHeader(at index: Int)
}

extension SieveMessage {
    public func headerValues(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headerFields.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    public func rawHeaderValues(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headerFields.filter { $0.name.lowercased() == lower }.map(\.rawValue)
    }

    public var rawHeaderBlock: String {
        headerFields.map { "\($0.name):\($0.rawValue)\n" }.joined()
    }
}

/// Built-in message reader: headers, MIME tree, transfer decoding, common charsets.
public struct SieveParsedMessage: SieveMessage {
    public private(set) var headerFields: [SieveHeaderField]
    public let rawBody: String
    public let parts: [SieveBodyPart]
    public let size: Int
    private var headersEdited = false
    private let original: String

    public init(_ text: String, maxParts: Int = 1000, maxDepth: Int = 32) {
        original = text
        // Size as transmitted: every bare LF counts as CRLF (RFC 5322 line ends).
        var bareLF = 0
        var previous: UInt8 = 0
        for b in text.utf8 {
            if b == 0x0A, previous != 0x0D { bareLF += 1 }
            previous = b
        }
        size = text.utf8.count + bareLF
        let (headers, body) = SieveMIMEParser.splitEntity(Substring(text))
        headerFields = headers
        rawBody = String(body)
        var parts: [SieveBodyPart] = []
        SieveMIMEParser.collect(headers: headers, body: body, parent: nil, depth: 0, maxParts: maxParts, maxDepth: maxDepth, into: &parts)
        self.parts = parts
    }

    public var serialized: String {
        if !headersEdited { return original }
        return rawHeaderBlock + "\n" + rawBody
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

enum SieveMIMEParser {
    /// One line without its LF / CRLF, and the index after the line end. Works on UTF-8 because
    /// CRLF is a single Character in Swift.
    static func line(in text: Substring, from index: Substring.Index) -> (Substring, Substring.Index) {
        let u = text.utf8
        let lineEnd = u[index...].firstIndex(of: 0x0A) ?? u.endIndex
        var contentEnd = lineEnd
        if contentEnd > index, u[u.index(before: contentEnd)] == 0x0D { contentEnd = u.index(before: contentEnd) }
        let next = lineEnd < u.endIndex ? u.index(after: lineEnd) : u.endIndex
        return (text[index..<contentEnd], next)
    }

    /// Splits header block and body; accepts LF or CRLF line ends, stops at the first empty line.
    static func splitEntity(_ text: Substring) -> ([SieveHeaderField], Substring) {
        var fields: [SieveHeaderField] = []
        var index = text.startIndex
        var currentName: String?
        var currentValue = ""
        func flush() {
            if let n = currentName { fields.append(SieveHeaderField(name: n, rawValue: currentValue)) }
            currentName = nil
            currentValue = ""
        }
        while index < text.endIndex {
            let (line, next) = Self.line(in: text, from: index)
            if line.isEmpty {
                flush()
                return (fields, text[next...])
            }
            if line.first == " " || line.first == "\t" {
                if currentName != nil { currentValue += "\n" + line }
            } else if let colon = line.firstIndex(of: ":"),
                      !line[..<colon].isEmpty, line[..<colon].utf8.allSatisfy({ $0 > 32 && $0 < 127 }) {
                flush()
                currentName = String(line[..<colon])
                currentValue = String(line[line.index(after: colon)...])
            } else {
                flush()
                if fields.isEmpty && currentName == nil, !line.contains(":") {
                    return (fields, text[index...])
                }
            }
            index = next
        }
        flush()
        return (fields, text[text.endIndex...])
    }

    static func contentType(_ headers: [SieveHeaderField], defaultType: String) -> (String, [String: String]) {
        guard let field = headers.last(where: { $0.name.lowercased() == "content-type" }) else { return (defaultType, [:]) }
        let value = SieveHeaderDecoding.unfold(field.rawValue)
        let pieces = SieveHeaderDecoding.splitParameters(value)
        guard let first = pieces.first else { return (defaultType, [:]) }
        let type = first.trimmingSpaces().lowercased()
        var params: [String: String] = [:]
        for p in pieces.dropFirst() {
            guard let eq = p.firstIndex(of: "=") else { continue }
            let name = p[..<eq].trimmingSpaces().lowercased()
            var v = p[p.index(after: eq)...].trimmingSpaces()
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 {
                v = String(v.dropFirst().dropLast()).replacingBackslashEscapes()
            }
            params[name] = v
        }
        let typeParts = type.split(separator: "/", omittingEmptySubsequences: false)
        if typeParts.count != 2 || typeParts[0].isEmpty || typeParts[1].isEmpty { return ("application/octet-stream", params) }
        return (type, params)
    }

    static func collect(headers: [SieveHeaderField], body: Substring, parent: Int?, depth: Int, maxParts: Int, maxDepth: Int,
                        into parts: inout [SieveBodyPart], defaultType: String = "text/plain") {
        guard parts.count < maxParts else { return }
        let (type, params) = contentType(headers, defaultType: defaultType)
        let index = parts.count
        var part = SieveBodyPart(headers: headers, contentType: type, contentTypeParameters: params, rawBody: String(body),
                                 decodedText: nil, multipartText: nil, childIndices: [], parentIndex: parent, isEnclosedMessage: false)
        let encoding = headers.last(where: { $0.name.lowercased() == "content-transfer-encoding" })
            .map { SieveHeaderDecoding.unfold($0.rawValue).lowercased() } ?? "7bit"
        parts.append(part)
        if parent != nil { parts[parent!].childIndices.append(index) }
        if type.hasPrefix("multipart/"), let boundary = params["boundary"], !boundary.isEmpty, depth < maxDepth {
            let (children, outside) = splitMultipart(body, boundary: boundary)
            part.multipartText = outside
            parts[index] = part
            let childDefault = type == "multipart/digest" ? "message/rfc822" : "text/plain"
            for child in children {
                let (h, b) = splitEntity(child)
                collect(headers: h, body: b, parent: index, depth: depth + 1, maxParts: maxParts, maxDepth: maxDepth, into: &parts, defaultType: childDefault)
            }
        } else if type == "message/rfc822", depth < maxDepth {
            parts[index].isEnclosedMessage = true
            let decoded = decodeTransfer(body, encoding: encoding)
            let text = String(decoding: decoded, as: UTF8.self)
            let (h, b) = splitEntity(Substring(text))
            collect(headers: h, body: b, parent: index, depth: depth + 1, maxParts: maxParts, maxDepth: maxDepth, into: &parts)
        } else if type.hasPrefix("text/") {
            let bytes = decodeTransfer(body, encoding: encoding)
            parts[index].decodedText = SieveCharset.decode(bytes, charset: params["charset"] ?? "us-ascii")
        }
    }

    /// Children between `--boundary` lines, and the prologue + epilogue text.
    static func splitMultipart(_ body: Substring, boundary: String) -> ([Substring], String) {
        let delimiter = "--" + boundary
        var children: [Substring] = []
        var outside = ""
        var index = body.startIndex
        var partStart: Substring.Index?
        var finished = false
        var prologueEnd = body.endIndex
        var epilogueStart = body.endIndex
        while index < body.endIndex {
            let (line, next) = Self.line(in: body, from: index)
            if !finished, line.hasPrefix(delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let isClose = rest.hasPrefix("--")
                if rest.allSatisfy({ $0 == " " || $0 == "\t" }) || isClose {
                    if let s = partStart {
                        var end = index
                        let u = body.utf8
                        if end > s, u[u.index(before: end)] == 0x0A {
                            end = u.index(before: end)
                            if end > s, u[u.index(before: end)] == 0x0D { end = u.index(before: end) }
                        }
                        children.append(body[s..<end])
                    } else {
                        prologueEnd = index
                    }
                    if isClose {
                        finished = true
                        epilogueStart = next
                    } else {
                        partStart = next
                    }
                }
            }
            index = next
        }
        if !finished, let s = partStart { children.append(body[s...]) }
        if prologueEnd > body.startIndex { outside += String(body[body.startIndex..<prologueEnd]) }
        if epilogueStart < body.endIndex { outside += String(body[epilogueStart...]) }
        return (children, outside)
    }

    static func decodeTransfer(_ body: Substring, encoding: String) -> [UInt8] {
        switch encoding {
        case "base64": return SieveHeaderDecoding.base64(Array(body.utf8))
        case "quoted-printable": return SieveHeaderDecoding.quotedPrintable(Array(body.utf8), header: false)
        default: return Array(body.utf8)
        }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        func ws(_ s: Unicode.Scalar) -> Bool { s == " " || s == "\t" || s == "\r" || s == "\n" }
        while start < end, ws(scalars[start]) { start = scalars.index(after: start) }
        while end > start, ws(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return String(String.UnicodeScalarView(scalars[start..<end]))
    }

    func replacingBackslashEscapes() -> String {
        var out = ""
        var escaped = false
        for c in self {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
