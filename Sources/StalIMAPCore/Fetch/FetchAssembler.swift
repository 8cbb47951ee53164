import StalCore

/// What FETCH needs about one message beyond its stored metadata. Implementations parse
/// the message lazily; only the accessors for requested items are called.
public protocol FetchableMessage {
    var envelope: IMAPEnvelope { get }
    var bodyStructure: IMAPBodyStructure { get }
    /// The octets of a section (RFC 3501 §6.4.5); nil when the part does not exist.
    func section(_ spec: SectionSpec) -> [UInt8]?
}

/// Stored metadata of a message, available without reading its bytes.
public struct FetchMetadata: Hashable, Sendable {
    public var uid: UInt32
    public var keywords: Set<Keyword>
    public var internalDate: Timestamp
    public var size: Int

    public init(uid: UInt32, keywords: Set<Keyword>, internalDate: Timestamp, size: Int) {
        self.uid = uid
        self.keywords = keywords
        self.internalDate = internalDate
        self.size = size
    }
}

/// Builds the data items of one FETCH response.
public enum FetchAssembler {
    /// - Parameters:
    ///   - includeUID: UID FETCH always reports the UID (RFC 3501 §6.4.8).
    ///   - seenChanged: this FETCH set \Seen, so FLAGS is reported even if not asked for.
    public static func items(_ attributes: [FetchAttribute], metadata: FetchMetadata, message: (any FetchableMessage)?,
                             includeUID: Bool, seenChanged: Bool) -> [FetchItem] {
        var items: [FetchItem] = []
        var sentUID = false
        var sentFlags = false
        if includeUID && !attributes.contains(.uid) {
            items.append(.uid(metadata.uid))
            sentUID = true
        }
        for attribute in attributes {
            switch attribute {
            case .uid:
                if !sentUID { items.append(.uid(metadata.uid)) }
                sentUID = true
            case .flags:
                if !sentFlags { items.append(.flags(IMAPFlags.flags(for: metadata.keywords))) }
                sentFlags = true
            case .internalDate:
                items.append(.internalDate(metadata.internalDate))
            case .rfc822Size:
                items.append(.rfc822Size(metadata.size))
            case .envelope:
                if let message { items.append(.envelope(message.envelope)) }
            case .body:
                if let message { items.append(.body(message.bodyStructure)) }
            case .bodyStructure:
                if let message { items.append(.bodyStructure(message.bodyStructure)) }
            case .rfc822:
                items.append(.rfc822(message?.section(.whole) ?? []))
            case .rfc822Header:
                items.append(.rfc822Header(message?.section(SectionSpec(text: .header)) ?? []))
            case .rfc822Text:
                items.append(.rfc822Text(message?.section(SectionSpec(text: .text)) ?? []))
            case .bodySection(_, let section, let partial):
                let data = message?.section(section) ?? []
                if let partial {
                    let start = min(Int(partial.offset), data.count)
                    let end = min(start + Int(partial.length), data.count)
                    items.append(.bodySection(section, origin: partial.offset, Array(data[start..<end])))
                } else {
                    items.append(.bodySection(section, origin: nil, data))
                }
            }
        }
        if seenChanged && !sentFlags { items.append(.flags(IMAPFlags.flags(for: metadata.keywords))) }
        return items
    }
}

/// Header/body split and header-field selection on raw message bytes, for the whole
/// message and for any part once its bytes are known.
public enum RawMessage {
    /// Index where the body starts (after the blank line), or the end if there is none.
    public static func bodyStart(_ bytes: ArraySlice<UInt8>) -> Int {
        var i = bytes.startIndex
        var lineStart = true
        while i < bytes.endIndex {
            if lineStart {
                if bytes[i] == UInt8(ascii: "\n") { return i + 1 }
                if bytes[i] == UInt8(ascii: "\r"), i + 1 < bytes.endIndex, bytes[i + 1] == UInt8(ascii: "\n") { return i + 2 }
            }
            lineStart = bytes[i] == UInt8(ascii: "\n")
            i += 1
        }
        return bytes.endIndex
    }

    /// The header including its terminating blank line.
    public static func header(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        bytes[bytes.startIndex..<bodyStart(bytes)]
    }

    public static func body(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        bytes[bodyStart(bytes)...]
    }

    /// Header fields (with continuation lines) as raw slices, each with its lower-cased name.
    public static func fields(_ header: ArraySlice<UInt8>) -> [(name: String, raw: ArraySlice<UInt8>)] {
        var result: [(String, ArraySlice<UInt8>)] = []
        var i = header.startIndex
        var start: Int?
        func finish(_ end: Int) {
            guard let s = start else { return }
            let raw = header[s..<end]
            if let colon = raw.firstIndex(of: UInt8(ascii: ":")) {
                let name = String(decoding: raw[s..<colon], as: UTF8.self).trimmingASCIISpaces().lowercased()
                result.append((name, raw))
            }
            start = nil
        }
        while i < header.endIndex {
            let c = header[i]
            let atLineStart = i == header.startIndex || header[i - 1] == UInt8(ascii: "\n")
            if atLineStart {
                if c == UInt8(ascii: "\r") || c == UInt8(ascii: "\n") {
                    finish(i)
                    break
                }
                if c != UInt8(ascii: " ") && c != UInt8(ascii: "\t") {
                    finish(i)
                    start = i
                }
            }
            i += 1
        }
        finish(i)
        return result
    }

    /// HEADER.FIELDS / HEADER.FIELDS.NOT: the selected fields followed by a blank line.
    public static func selectFields(_ header: ArraySlice<UInt8>, names: [String], exclude: Bool) -> [UInt8] {
        let wanted = Set(names.map { $0.lowercased() })
        var out: [UInt8] = []
        for field in fields(header) where wanted.contains(field.name) != exclude {
            out.append(contentsOf: field.raw)
        }
        out.append(contentsOf: "\r\n".utf8)
        return out
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
