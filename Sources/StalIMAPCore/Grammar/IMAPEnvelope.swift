/// One address of an ENVELOPE (RFC 3501 §7.4.2). A group start has a nil host and the
/// group name in `mailbox`; a group end has everything nil.
public struct IMAPAddress: Hashable, Sendable {
    public var name: [UInt8]?
    public var adl: [UInt8]?
    public var mailbox: [UInt8]?
    public var host: [UInt8]?

    public init(name: [UInt8]?, adl: [UInt8]? = nil, mailbox: [UInt8]?, host: [UInt8]?) {
        self.name = name
        self.adl = adl
        self.mailbox = mailbox
        self.host = host
    }
}

/// ENVELOPE fields as IMAP sends them: raw header text (not decoded), addresses parsed.
public struct IMAPEnvelope: Hashable, Sendable {
    public var date: [UInt8]?
    public var subject: [UInt8]?
    public var from: [IMAPAddress]
    public var sender: [IMAPAddress]
    public var replyTo: [IMAPAddress]
    public var to: [IMAPAddress]
    public var cc: [IMAPAddress]
    public var bcc: [IMAPAddress]
    public var inReplyTo: [UInt8]?
    public var messageID: [UInt8]?

    public init(date: [UInt8]? = nil, subject: [UInt8]? = nil, from: [IMAPAddress] = [], sender: [IMAPAddress] = [],
                replyTo: [IMAPAddress] = [], to: [IMAPAddress] = [], cc: [IMAPAddress] = [], bcc: [IMAPAddress] = [],
                inReplyTo: [UInt8]? = nil, messageID: [UInt8]? = nil) {
        self.date = date
        self.subject = subject
        self.from = from
        self.sender = sender.isEmpty ? from : sender
        self.replyTo = replyTo.isEmpty ? from : replyTo
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.inReplyTo = inReplyTo
        self.messageID = messageID
    }
}

/// A body parameter list entry (`("CHARSET" "utf-8")`).
public struct IMAPBodyParameter: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

public struct IMAPBodyDisposition: Hashable, Sendable {
    public var kind: String
    public var parameters: [IMAPBodyParameter]

    public init(kind: String, parameters: [IMAPBodyParameter]) {
        self.kind = kind
        self.parameters = parameters
    }
}

/// Extension data shared by both body kinds (RFC 3501 §7.4.2 BODYSTRUCTURE).
public struct IMAPBodyExtension: Hashable, Sendable {
    public var md5: [UInt8]?
    public var disposition: IMAPBodyDisposition?
    public var language: [String]
    public var location: [UInt8]?

    public init(md5: [UInt8]? = nil, disposition: IMAPBodyDisposition? = nil, language: [String] = [], location: [UInt8]? = nil) {
        self.md5 = md5
        self.disposition = disposition
        self.language = language
        self.location = location
    }
}

public struct IMAPSinglePart: Hashable, Sendable {
    public var type: String
    public var subtype: String
    public var parameters: [IMAPBodyParameter]
    public var id: [UInt8]?
    public var description: [UInt8]?
    public var encoding: String
    public var size: Int
    /// Lines of a text/* or message/rfc822 body.
    public var lines: Int?
    /// For message/rfc822: the encapsulated message's envelope and structure.
    public var message: EncapsulatedMessage?
    public var extensionData: IMAPBodyExtension

    public init(type: String, subtype: String, parameters: [IMAPBodyParameter] = [], id: [UInt8]? = nil,
                description: [UInt8]? = nil, encoding: String = "7BIT", size: Int, lines: Int? = nil,
                message: EncapsulatedMessage? = nil, extensionData: IMAPBodyExtension = IMAPBodyExtension()) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
        self.id = id
        self.description = description
        self.encoding = encoding
        self.size = size
        self.lines = lines
        self.message = message
        self.extensionData = extensionData
    }
}

public struct EncapsulatedMessage: Hashable, Sendable {
    public var envelope: IMAPEnvelope
    public var body: IMAPBodyStructure

    public init(envelope: IMAPEnvelope, body: IMAPBodyStructure) {
        self.envelope = envelope
        self.body = body
    }
}

public struct IMAPMultipart: Hashable, Sendable {
    public var parts: [IMAPBodyStructure]
    public var subtype: String
    public var parameters: [IMAPBodyParameter]
    public var extensionData: IMAPBodyExtension

    public init(parts: [IMAPBodyStructure], subtype: String, parameters: [IMAPBodyParameter] = [],
                extensionData: IMAPBodyExtension = IMAPBodyExtension()) {
        self.parts = parts
        self.subtype = subtype
        self.parameters = parameters
        self.extensionData = extensionData
    }
}

public indirect enum IMAPBodyStructure: Hashable, Sendable {
    case single(IMAPSinglePart)
    case multipart(IMAPMultipart)
}
