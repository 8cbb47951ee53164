import StalMIME

/// One header field as it appears in the message: name as written, value after the colon
/// (folding kept, line end removed).
public struct SieveHeaderField: Hashable, Sendable {
    public let name: String
    public let rawValue: String
    /// Lower-cased name, for case-insensitive lookups without per-test allocation.
    public let key: String
    /// Unfolded value with surrounding whitespace removed and RFC 2047 words decoded; worked
    /// out once when the message is read, since every header test reads it.
    public let value: String

    public init(name: String, rawValue: String) {
        self.name = name
        self.rawValue = rawValue
        key = name.lowercased()
        value = HeaderValue.text(Array(rawValue.utf8))
    }
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
    /// Byte range of the whole entity (header and body) in `serialized`, when known.
    public var range: Range<Int>?

    public var isMultipart: Bool { contentType.hasPrefix("multipart/") }
}

/// What the interpreter needs from a message. `SieveMIMEMessage` provides it over StalMIME;
/// a host with its own message model can conform instead.
public protocol SieveMessage: Sendable {
    var size: Int { get }
    var headerFields: [SieveHeaderField] { get }
    /// The message's undecoded body (everything after the header block).
    var rawBody: String { get }
    /// Depth-first list of MIME entities; index 0 is the top-level entity.
    var parts: [SieveBodyPart] { get }
    /// False for a header-only message without the empty separator line (RFC 5173 §4: every
    /// body test is then false).
    var hasBody: Bool { get }
    /// The message as text after header edits (for redirect and :copy delivery).
    var serialized: String { get }
    mutating func insertHeader(_ field: SieveHeaderField, at index: Int)
    mutating func removeHeader(at index: Int)
}

extension SieveMessage {
    public func headerValues(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headerFields.filter { $0.key == lower }.map(\.value)
    }

    public func rawHeaderValues(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headerFields.filter { $0.key == lower }.map(\.rawValue)
    }

    public var rawHeaderBlock: String {
        headerFields.map { "\($0.name):\($0.rawValue)\n" }.joined()
    }
}

/// Content-Type reading shared by the message adapters.
enum SieveMIMEParser {
    static func contentType(_ headers: [SieveHeaderField], defaultType: String) -> (String, [String: String]) {
        guard let field = headers.last(where: { $0.key == "content-type" }) else { return (defaultType, [:]) }
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
