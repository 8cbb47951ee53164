import StalCore

/// An EmailBodyPart (RFC 8621 §4.1.4).
public struct JMAPBodyPart: Sendable, Hashable {
    /// Index into `MIMEMessage.parts`.
    public var part: Int
    /// The IMAP section number ("1", "2.1"); nil for multiparts, which JMAP does not address.
    public var partId: String?
    /// Octets after transfer decoding.
    public var size: Int
    public var name: String?
    public var type: String
    public var charset: String?
    public var disposition: String?
    public var cid: String?
    public var language: [String]?
    public var location: String?
    public var subParts: [JMAPBodyPart]?
}

/// A bodyValues entry (RFC 8621 §4.1.4 EmailBodyValue).
public struct JMAPBodyValue: Sendable, Hashable {
    public var value: String
    public var isEncodingProblem: Bool
    public var isTruncated: Bool
}

/// The parsed forms of `header:Name:as...` (RFC 8621 §4.1.2).
public enum JMAPHeaderForm: String, Sendable, CaseIterable {
    case raw = "asRaw", text = "asText", addresses = "asAddresses", groupedAddresses = "asGroupedAddresses"
    case messageIds = "asMessageIds", date = "asDate", urls = "asURLs"
}

extension MIMEMessage {
    // MARK: Body structure

    /// The JMAP partId of a part: its IMAP section number, "1" for a non-multipart message body.
    public func jmapPartId(_ part: Int) -> String? {
        if parts[part].isMultipart { return nil }
        let path = sectionPath(of: part)
        return path.isEmpty ? "1" : path.map(String.init).joined(separator: ".")
    }

    public func jmapBodyStructure(part: Int = 0) -> JMAPBodyPart {
        let p = parts[part]
        let ct = p.contentType
        let disposition = field(named: "Content-Disposition", in: part).flatMap { ContentType.parse(rawValue($0)) }
        var name = disposition?.parameter("filename") ?? ct.parameter("name")
        if name?.isEmpty == true { name = nil }
        let language = field(named: "Content-Language", in: part).map {
            HeaderValue.phraseList(rawValue($0)).flatMap { $0.split(separator: " ").map(String.init) }
        }
        var sub: [JMAPBodyPart]? = nil
        var size = p.bodyRange.count
        if case .multipart(let children) = p.body {
            // A multipart has no transfer encoding of its own; its size is its raw body.
            sub = children.map { jmapBodyStructure(part: $0) }
        } else {
            size = decodedSize(part)
        }
        let cid = field(named: "Content-ID", in: part).flatMap { HeaderValue.messageIDs(rawValue($0)).first }
        return JMAPBodyPart(
            part: part, partId: jmapPartId(part), size: size, name: name, type: ct.mimeType,
            charset: ct.isText ? (ct.parameter("charset") ?? "us-ascii") : ct.parameter("charset"),
            disposition: disposition?.type, cid: cid, language: (language?.isEmpty ?? true) ? nil : language,
            location: text(named: "Content-Location", in: part), subParts: sub)
    }

    func decodedSize(_ part: Int) -> Int {
        let p = parts[part]
        switch p.transferEncoding {
        case .base64, .quotedPrintable: return decodedBody(of: part).bytes.count
        default: return p.bodyRange.count
        }
    }

    /// textBody, htmlBody and attachments, exactly by the algorithm of RFC 8621 §4.1.4.
    public func jmapBodyLists() -> (textBody: [JMAPBodyPart], htmlBody: [JMAPBodyPart], attachments: [JMAPBodyPart]) {
        var text: [JMAPBodyPart] = []
        var html: [JMAPBodyPart] = []
        var attachments: [JMAPBodyPart] = []
        var textOn = true
        var htmlOn = true
        Self.parseStructure([jmapBodyStructure()], multipartType: "mixed", inAlternative: false,
                            html: &html, htmlOn: &htmlOn, text: &text, textOn: &textOn, attachments: &attachments)
        return (text, html, attachments)
    }

    private static func isInlineMediaType(_ type: String) -> Bool {
        type.hasPrefix("image/") || type.hasPrefix("audio/") || type.hasPrefix("video/")
    }

    // `htmlOn`/`textOn` mirror the RFC's reassignment of htmlBody/textBody to null, which
    // only affects the current call.
    private static func parseStructure(_ parts: [JMAPBodyPart], multipartType: String, inAlternative: Bool,
                                       html: inout [JMAPBodyPart], htmlOn: inout Bool,
                                       text: inout [JMAPBodyPart], textOn: inout Bool,
                                       attachments: inout [JMAPBodyPart]) {
        let textLength = textOn ? text.count : -1
        let htmlLength = htmlOn ? html.count : -1
        var localTextOn = textOn
        var localHtmlOn = htmlOn
        for (i, part) in parts.enumerated() {
            let isMultipart = part.type.hasPrefix("multipart/")
            let isInline = part.disposition != "attachment"
                && (part.type == "text/plain" || part.type == "text/html" || isInlineMediaType(part.type))
                && (i == 0 || (multipartType != "related" && (isInlineMediaType(part.type) || part.name == nil)))
            if isMultipart {
                let subType = String(part.type.dropFirst("multipart/".count))
                var t = localTextOn
                var h = localHtmlOn
                parseStructure(part.subParts ?? [], multipartType: subType,
                               inAlternative: inAlternative || subType == "alternative",
                               html: &html, htmlOn: &h, text: &text, textOn: &t, attachments: &attachments)
            } else if isInline {
                if multipartType == "alternative" {
                    switch part.type {
                    case "text/plain": text.append(part)
                    case "text/html": html.append(part)
                    default: attachments.append(part)
                    }
                    continue
                } else if inAlternative {
                    if part.type == "text/plain" { localHtmlOn = false }
                    if part.type == "text/html" { localTextOn = false }
                }
                if localTextOn { text.append(part) }
                if localHtmlOn { html.append(part) }
                if (!localTextOn || !localHtmlOn) && isInlineMediaType(part.type) { attachments.append(part) }
            } else {
                attachments.append(part)
            }
        }
        if multipartType == "alternative" && localTextOn && localHtmlOn {
            if textLength == text.count && htmlLength != html.count {
                text.append(contentsOf: html[max(htmlLength, 0)...])
            }
            if htmlLength == html.count && textLength != text.count {
                html.append(contentsOf: text[max(textLength, 0)...])
            }
        }
    }

    // MARK: Body values and preview

    /// The decoded text of a text part, cut at `maxBytes` UTF-8 bytes on a character
    /// boundary (0 means no limit). HTML is returned as HTML.
    public func jmapBodyValue(part: Int, maxBytes: Int = 0) -> JMAPBodyValue {
        let decoded = decodedText(of: part)
        var value = decoded.text
        var truncated = false
        if maxBytes > 0, value.utf8.count > maxBytes {
            let utf8 = Array(value.utf8)
            var cut = maxBytes
            while cut > 0, utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
            value = String(decoding: utf8[..<cut], as: UTF8.self)
            truncated = true
        }
        return JMAPBodyValue(value: value, isEncodingProblem: decoded.hadProblem, isTruncated: truncated)
    }

    /// Up to 256 characters of the first text body part (HTML converted), whitespace collapsed.
    public func jmapPreview(maxCharacters: Int = 256) -> String {
        let lists = jmapBodyLists()
        for part in lists.textBody where part.type.hasPrefix("text/") {
            var t = decodedText(of: part.part).text
            if part.type == "text/html" { t = HTMLText.text(t, maxOutputBytes: maxCharacters * 8) }
            let collapsed = ASCII.collapsingWhitespace(String(t.prefix(maxCharacters * 4)))
            if !collapsed.isEmpty { return String(collapsed.prefix(maxCharacters)) }
        }
        return ""
    }

    /// The readable text of every text part (HTML converted), in document order, for
    /// IMAP SEARCH BODY/TEXT and the search index. Stops after `maxBytes` of output.
    public func bodyText(maxBytes: Int = 1 << 20) -> String {
        var out = ""
        for i in parts.indices {
            if out.utf8.count >= maxBytes { break }
            if let nested = encodedMessages[i] {
                let t = nested.bodyText(maxBytes: maxBytes - out.utf8.count)
                if !t.isEmpty, !out.isEmpty { out += "\n" }
                out += t
                continue
            }
            guard parts[i].body == .leaf, parts[i].contentType.isText else { continue }
            if case .other = parts[i].transferEncoding { continue }
            var t = decodedText(of: i).text
            if parts[i].contentType.subtype == "html" { t = HTMLText.text(t, maxOutputBytes: maxBytes) }
            if !out.isEmpty { out += "\n" }
            out += t
        }
        if out.utf8.count > maxBytes {
            let utf8 = Array(out.utf8)
            var cut = maxBytes
            while cut > 0, utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
            out = String(decoding: utf8[..<cut], as: UTF8.self)
        }
        return out
    }

    // MARK: Header forms

    /// `header:Name:form` for one field instance; `.null` when the form does not apply.
    public func jmapHeaderValue(_ field: MIMEHeaderField, form: JMAPHeaderForm) -> JSONValue {
        let raw = rawValue(field)
        switch form {
        case .raw:
            return .string(String(decoding: rawValueWithoutLineEnd(field), as: UTF8.self))
        case .text:
            return .string(HeaderValue.text(raw))
        case .addresses:
            return .array(AddressParser.addresses(raw).map(Self.addressJSON))
        case .groupedAddresses:
            return .array(AddressParser.parse(raw).map {
                .object([("name", .optional($0.name.map(UnicodeNormalization.nfc))), ("addresses", .array($0.addresses.map(Self.addressJSON)))])
            })
        case .messageIds:
            let ids = HeaderValue.messageIDs(raw)
            return ids.isEmpty ? .null : .array(ids.map { .string($0) })
        case .date:
            return HeaderValue.date(raw).map { .string(Self.rfc3339($0)) } ?? .null
        case .urls:
            let urls = HeaderValue.urls(raw)
            return urls.isEmpty ? .null : .array(urls.map { .string($0) })
        }
    }

    /// `header:Name:form[:all]` for a part: the last instance, or all of them.
    public func jmapHeader(_ name: String, form: JMAPHeaderForm, all: Bool = false, part: Int = 0) -> JSONValue {
        let instances = fields(named: name, in: part)
        if all { return .array(instances.map { jmapHeaderValue($0, form: form) }) }
        return instances.last.map { jmapHeaderValue($0, form: form) } ?? .null
    }

    /// Names are processed like `asText`, NFC included (RFC 8621 §4.1.2.3).
    static func addressJSON(_ a: MailAddress) -> JSONValue {
        .object([("name", .optional(a.name.map(UnicodeNormalization.nfc))), ("email", .optional(a.address))])
    }

    static func rfc3339(_ d: CivilDateTime) -> String {
        func pad(_ v: Int, _ n: Int = 2) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        let o = abs(d.utcOffsetMinutes)
        let zone = d.utcOffsetMinutes == 0 ? "Z" : "\(d.utcOffsetMinutes < 0 ? "-" : "+")\(pad(o / 60)):\(pad(o % 60))"
        return "\(pad(d.year, 4))-\(pad(d.month))-\(pad(d.day))T\(pad(d.hour)):\(pad(d.minute)):\(pad(d.second))\(zone)"
    }

    // MARK: The Email object

    /// Converts a body part for the wire; `blobId` names the blob of a part id.
    public static func json(_ p: JMAPBodyPart, message: MIMEMessage, blobId: (String) -> String?) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("partId", .optional(p.partId)),
            ("blobId", .optional(p.partId.flatMap(blobId))),
            ("size", .int(p.size)),
            ("headers", .array(message.parts[p.part].headers.map {
                .object([("name", .string($0.name)), ("value", .string(String(decoding: message.rawValueWithoutLineEnd($0), as: UTF8.self)))])
            })),
            ("name", .optional(p.name)),
            ("type", .string(p.type)),
            ("charset", .optional(p.charset)),
            ("disposition", .optional(p.disposition)),
            ("cid", .optional(p.cid)),
            ("language", p.language.map { .array($0.map { .string($0) }) } ?? .null),
            ("location", .optional(p.location)),
        ]
        if let sub = p.subParts { members.append(("subParts", .array(sub.map { json($0, message: message, blobId: blobId) }))) }
        return .object(members)
    }

    /// The Email properties that come from the message itself (RFC 8621 §4.1.2–4.1.4);
    /// id, blobId, threadId, mailboxIds, keywords, size and receivedAt belong to the store.
    public func jmapEmail(blobId: (String) -> String? = { _ in nil }, maxBodyValueBytes: Int = 0) -> JSONValue {
        func addresses(_ name: String) -> JSONValue { jmapHeader(name, form: .addresses) }
        let lists = jmapBodyLists()
        var values: [(String, JSONValue)] = []
        var seen = Set<Int>()
        for p in lists.textBody + lists.htmlBody where p.type.hasPrefix("text/") && seen.insert(p.part).inserted {
            let v = jmapBodyValue(part: p.part, maxBytes: maxBodyValueBytes)
            values.append((p.partId ?? "", .object([("value", .string(v.value)), ("isEncodingProblem", .bool(v.isEncodingProblem)),
                                                     ("isTruncated", .bool(v.isTruncated))])))
        }
        let subject = field(named: "Subject").map { JSONValue.string(text($0)) } ?? .null
        return .object([
            ("messageId", jmapHeader("Message-ID", form: .messageIds)),
            ("inReplyTo", jmapHeader("In-Reply-To", form: .messageIds)),
            ("references", jmapHeader("References", form: .messageIds)),
            ("sender", addresses("Sender")),
            ("from", addresses("From")),
            ("to", addresses("To")),
            ("cc", addresses("Cc")),
            ("bcc", addresses("Bcc")),
            ("replyTo", addresses("Reply-To")),
            ("subject", subject),
            ("sentAt", jmapHeader("Date", form: .date)),
            ("hasAttachment", .bool(!lists.attachments.isEmpty)),
            ("preview", .string(jmapPreview())),
            ("headers", .array(root.headers.map {
                .object([("name", .string($0.name)), ("value", .string(String(decoding: rawValueWithoutLineEnd($0), as: UTF8.self)))])
            })),
            ("bodyStructure", Self.json(jmapBodyStructure(), message: self, blobId: blobId)),
            ("textBody", .array(lists.textBody.map { Self.json($0, message: self, blobId: blobId) })),
            ("htmlBody", .array(lists.htmlBody.map { Self.json($0, message: self, blobId: blobId) })),
            ("attachments", .array(lists.attachments.map { Self.json($0, message: self, blobId: blobId) })),
            ("bodyValues", .object(values)),
        ])
    }
}
