/// What `stald debug message FILE` prints: every header with its parsed form, the MIME
/// tree with byte offsets, the JMAP Email object, IMAP ENVELOPE and BODYSTRUCTURE, and
/// the problems the parser repaired. Works on any input, however broken.
public enum MessageInspection {
    public static func json(for bytes: [UInt8], limits: MIMELimits = .default) -> String {
        value(for: MIMEMessage.parse(bytes, limits: limits)).encoded(pretty: true)
    }

    public static func value(for m: MIMEMessage) -> JSONValue {
        .object([
            ("size", .int(m.bytes.count)),
            ("headers", .array(m.root.headers.map { headerJSON(m, $0) })),
            ("parts", .array(m.parts.indices.map { partJSON(m, $0) })),
            ("imap", .object([
                ("envelope", .string(m.imapEnvelope())),
                ("bodyStructure", .string(m.imapBodyStructure(extended: true))),
                ("body", .string(m.imapBodyStructure(extended: false))),
            ])),
            ("jmap", m.jmapEmail()),
            ("thread", threadJSON(ThreadKeys(message: m))),
            ("problems", .array(m.problems.map {
                .object([("kind", .string($0.kind.rawValue)), ("offset", .int($0.offset)), ("context", .string($0.context))])
            })),
        ])
    }

    static func threadJSON(_ t: ThreadKeys) -> JSONValue {
        .object([("messageId", .optional(t.messageId)), ("parentIds", .array(t.parentIds.map { .string($0) })),
                 ("baseSubject", .string(t.baseSubject))])
    }

    /// The form a field is parsed as, chosen by its name as RFC 8621 §4.1.2 lists them.
    static func form(for name: String) -> JMAPHeaderForm {
        switch ASCII.lowercased(name) {
        case "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-reply-to",
             "resent-to", "resent-cc", "resent-bcc", "delivered-to", "return-path":
            return .groupedAddresses
        case "message-id", "in-reply-to", "references", "resent-message-id", "content-id": return .messageIds
        case "date", "resent-date": return .date
        case "list-help", "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive": return .urls
        default: return .text
        }
    }

    static func headerJSON(_ m: MIMEMessage, _ f: MIMEHeaderField) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(f.name)),
            ("offset", .int(f.start)),
            ("end", .int(f.end)),
            ("raw", .string(String(decoding: m.rawValue(f), as: UTF8.self))),
        ]
        switch ASCII.lowercased(f.name) {
        case "content-type", "content-disposition":
            if let ct = ContentType.parse(m.rawValue(f)) {
                members.append(("parsed", .object([
                    ("type", .string(ct.type)), ("subtype", .string(ct.subtype)),
                    ("parameters", .object(ct.parameters.map { ($0.name, .string($0.value)) })),
                ])))
            } else {
                members.append(("parsed", .null))
            }
        default:
            let form = form(for: f.name)
            members.append(("form", .string(form.rawValue)))
            members.append(("parsed", m.jmapHeaderValue(f, form: form)))
        }
        return .object(members)
    }

    static func partJSON(_ m: MIMEMessage, _ i: Int) -> JSONValue {
        let p = m.parts[i]
        var body: JSONValue
        switch p.body {
        case .leaf: body = .string("leaf")
        case .multipart(let c): body = .object([("multipart", .array(c.map { .int($0) }))])
        case .message(let inner): body = .object([("message", .int(inner))])
        }
        var members: [(String, JSONValue)] = [
            ("index", .int(i)),
            ("section", .string(m.sectionPath(of: i).map(String.init).joined(separator: "."))),
            ("parent", p.parent.map { .int($0) } ?? .null),
            ("depth", .int(p.depth)),
            ("type", .string(p.contentType.mimeType)),
            ("parameters", .object(p.contentType.parameters.map { ($0.name, .string($0.value)) })),
            ("transferEncoding", .string(p.transferEncoding.name)),
            ("headerStart", .int(p.headerStart)),
            ("bodyStart", .int(p.bodyStart)),
            ("end", .int(p.end)),
            ("body", body),
        ]
        if let pre = p.preamble { members.append(("preamble", .array([.int(pre.lowerBound), .int(pre.upperBound)]))) }
        if let epi = p.epilogue { members.append(("epilogue", .array([.int(epi.lowerBound), .int(epi.upperBound)]))) }
        if i > 0 { members.append(("headers", .array(p.headers.map { headerJSON(m, $0) }))) }
        return .object(members)
    }
}
