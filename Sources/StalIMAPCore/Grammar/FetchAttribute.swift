/// The text part of a section specifier (RFC 3501 §6.4.5).
public enum SectionText: Hashable, Sendable {
    case header
    case headerFields([String])
    case headerFieldsNot([String])
    case text
    case mime
}

/// `BODY[<section>]`: a part path (`1.2.3`, empty for the whole message) and an optional text.
public struct SectionSpec: Hashable, Sendable {
    public var part: [Int]
    public var text: SectionText?

    public init(part: [Int] = [], text: SectionText? = nil) {
        self.part = part
        self.text = text
    }

    public static let whole = SectionSpec()

    /// The specifier as it appears between the brackets of a FETCH response.
    public var wireText: String {
        var out = part.map(String.init).joined(separator: ".")
        if let text {
            if !out.isEmpty { out += "." }
            switch text {
            case .header: out += "HEADER"
            case .headerFields(let names): out += "HEADER.FIELDS (" + names.map { $0.uppercased() }.joined(separator: " ") + ")"
            case .headerFieldsNot(let names): out += "HEADER.FIELDS.NOT (" + names.map { $0.uppercased() }.joined(separator: " ") + ")"
            case .text: out += "TEXT"
            case .mime: out += "MIME"
            }
        }
        return out
    }
}

/// `<offset.length>` of a partial fetch.
public struct PartialRange: Hashable, Sendable {
    public var offset: UInt32
    public var length: UInt32

    public init(offset: UInt32, length: UInt32) {
        self.offset = offset
        self.length = length
    }
}

/// One item a FETCH command asks for.
public enum FetchAttribute: Hashable, Sendable {
    case envelope
    case flags
    case internalDate
    case rfc822
    case rfc822Header
    case rfc822Size
    case rfc822Text
    /// `BODY`: the body structure without extension data.
    case body
    case bodyStructure
    case uid
    case bodySection(peek: Bool, section: SectionSpec, partial: PartialRange?)

    public static let all: [FetchAttribute] = [.flags, .internalDate, .rfc822Size, .envelope]
    public static let fast: [FetchAttribute] = [.flags, .internalDate, .rfc822Size]
    public static let full: [FetchAttribute] = [.flags, .internalDate, .rfc822Size, .envelope, .body]

    /// Fetching this item sets \Seen (RFC 3501 §6.4.5) unless the mailbox is read-only.
    public var setsSeen: Bool {
        switch self {
        case .rfc822, .rfc822Text: return true
        case .bodySection(let peek, _, _): return !peek
        default: return false
        }
    }

    /// Whether the item needs the message bytes (a section) rather than stored metadata.
    public var needsMessageBytes: Bool {
        switch self {
        case .rfc822, .rfc822Header, .rfc822Text, .bodySection: return true
        default: return false
        }
    }

    /// Whether the item needs the parsed structure (cacheable apart from the bytes).
    public var needsStructure: Bool {
        switch self {
        case .envelope, .body, .bodyStructure: return true
        default: return false
        }
    }
}
