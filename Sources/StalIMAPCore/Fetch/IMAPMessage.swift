import StalCore
import StalMIME

/// The wire forms of a message's ENVELOPE, BODY and BODYSTRUCTURE, rendered once so a
/// server can cache them and answer later FETCHes without the message bytes.
public struct IMAPMessageStructure: Hashable, Sendable {
    public var envelope: [UInt8]
    public var body: [UInt8]
    public var bodyStructure: [UInt8]

    public init(_ mime: MIMEMessage) {
        envelope = mime.imapEnvelopeBytes()
        body = mime.imapBodyStructureBytes(extended: false)
        bodyStructure = mime.imapBodyStructureBytes(extended: true)
    }

    public var octets: Int { envelope.count + body.count + bodyStructure.count }
}

/// One message as FETCH and SEARCH see it: stored metadata plus, when the request needs
/// them, the parsed bytes or the cached structure. Without bytes, header and body
/// criteria match nothing.
public struct IMAPMessage: FetchableMessage, SearchableMessage, Sendable {
    public var uid: UInt32
    public var sequenceNumber: UInt32
    public var keywords: Set<Keyword>
    public var internalDate: Timestamp
    public var size: Int
    public var mime: MIMEMessage?
    public var structure: IMAPMessageStructure?

    public init(uid: UInt32, sequenceNumber: UInt32, keywords: Set<Keyword>, internalDate: Timestamp, size: Int,
                mime: MIMEMessage?, structure: IMAPMessageStructure? = nil) {
        self.uid = uid
        self.sequenceNumber = sequenceNumber
        self.keywords = keywords
        self.internalDate = internalDate
        self.size = size
        self.mime = mime
        self.structure = structure
    }

    public var metadata: FetchMetadata {
        FetchMetadata(uid: uid, keywords: keywords, internalDate: internalDate, size: size)
    }

    public var envelope: [UInt8] { structure?.envelope ?? mime?.imapEnvelopeBytes() ?? Array("NIL".utf8) }

    public func bodyStructure(extended: Bool) -> [UInt8] {
        if let structure { return extended ? structure.bodyStructure : structure.body }
        return mime?.imapBodyStructureBytes(extended: extended) ?? Array("NIL".utf8)
    }

    public func section(_ spec: SectionSpec) -> [UInt8]? {
        guard let mime else { return nil }
        let text: IMAPSectionText
        switch spec.text {
        case nil: text = .full
        case .header: text = .header
        case .headerFields(let names): text = .headerFields(names)
        case .headerFieldsNot(let names): text = .headerFieldsNot(names)
        case .text: text = .text
        case .mime: text = .mime
        }
        return mime.section(path: spec.part, text)
    }

    public func headerValues(_ name: String) -> [String] {
        guard let mime else { return [] }
        return mime.fields(named: name).map { mime.text($0) }
    }

    public var headerText: String {
        guard let mime else { return "" }
        return mime.root.headers.map { "\($0.name): \(mime.text($0))" }.joined(separator: "\n")
    }

    public var bodyText: String {
        guard let mime else { return "" }
        var texts: [String] = []
        for (index, part) in mime.parts.enumerated() where part.body == .leaf && part.contentType.isText {
            texts.append(mime.decodedText(of: index).text)
        }
        return texts.joined(separator: "\n")
    }

    public var sentDate: IMAPDate? {
        guard let mime, let field = mime.field(named: "date"), let date = HeaderValue.date(mime.rawValue(field)) else { return nil }
        return IMAPDate(year: date.year, month: date.month, day: date.day)
    }
}
