import StalCore

/// What FETCH needs about one message beyond its stored metadata. Implementations parse
/// the message lazily; only the accessors for requested items are called.
public protocol FetchableMessage {
    /// ENVELOPE in wire form.
    var envelope: [UInt8] { get }
    /// BODYSTRUCTURE (extended) or BODY in wire form.
    func bodyStructure(extended: Bool) -> [UInt8]
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
                if let message { items.append(.body(message.bodyStructure(extended: false))) }
            case .bodyStructure:
                if let message { items.append(.bodyStructure(message.bodyStructure(extended: true))) }
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
