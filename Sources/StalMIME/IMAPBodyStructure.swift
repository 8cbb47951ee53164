extension MIMEMessage {
    /// BODYSTRUCTURE (`extended: true`) or BODY (`extended: false`), RFC 3501 §7.4.2 and
    /// RFC 9051 §7.5.2, of the whole message or of one part.
    public func imapBodyStructure(extended: Bool, part: Int = 0, utf8: Bool = false) -> String {
        var w = IMAPWriter(validUTF8: true, utf8Quoted: utf8)
        writeBody(&w, part, extended: extended)
        return String(decoding: w.out, as: UTF8.self)
    }

    public func imapBodyStructureBytes(extended: Bool, part: Int = 0, utf8: Bool = false) -> [UInt8] {
        var w = IMAPWriter(utf8Quoted: utf8)
        writeBody(&w, part, extended: extended)
        return w.out
    }

    func writeBody(_ w: inout IMAPWriter, _ index: Int, extended: Bool) {
        let p = parts[index]
        let ct = p.contentType
        if case .multipart(let children) = p.body {
            w.raw("(")
            if children.isEmpty {
                // The grammar needs at least one body; a multipart without any delimiter shows one empty text part.
                w.raw("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)")
            }
            for c in children { writeBody(&w, c, extended: extended) }
            w.raw(" ")
            w.string(ct.subtype.utf8)
            if extended {
                w.raw(" ")
                writeParameters(&w, ct.parameters)
                w.raw(" ")
                writeExtension(&w, index)
            }
            w.raw(")")
            return
        }
        w.raw("(")
        w.string(ct.type.utf8); w.raw(" ")
        w.string(ct.subtype.utf8); w.raw(" ")
        var params = ct.parameters
        // Like Dovecot: a text part without a charset is us-ascii (RFC 2045 §5.2), say so.
        if ct.isText, !params.contains(where: { $0.name == "charset" }) {
            params.insert(MIMEParameter(name: "charset", value: "us-ascii"), at: 0)
        }
        writeParameters(&w, params); w.raw(" ")
        w.nstring(fieldText("Content-ID", index)); w.raw(" ")
        w.nstring(fieldText("Content-Description", index)); w.raw(" ")
        w.string(p.transferEncoding.name.utf8); w.raw(" ")
        w.number(p.bodyRange.count)
        if ct.isEncapsulatedMessage {
            w.raw(" ")
            if case .message(let inner) = p.body {
                writeEnvelope(&w, part: inner)
                w.raw(" ")
                writeBody(&w, inner, extended: extended)
            } else if let nested = encodedMessages[index] {
                // Size and lines stay those of the stored (encoded) body, which is what
                // BODY[n] returns; the nested structure describes the decoded message,
                // which is what BODY[n.HEADER], BODY[n.TEXT] and BODY[n.m] return.
                nested.writeEnvelope(&w, part: 0)
                w.raw(" ")
                nested.writeBody(&w, 0, extended: extended)
            } else {
                w.raw("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)")
            }
            w.raw(" ")
            w.number(lineCount(p.bodyRange))
        } else if ct.isText {
            w.raw(" ")
            w.number(lineCount(p.bodyRange))
        }
        if extended {
            w.raw(" ")
            w.nstring(fieldText("Content-MD5", index))
            w.raw(" ")
            writeExtension(&w, index)
        }
        w.raw(")")
    }

    func fieldText(_ name: String, _ part: Int) -> [UInt8]? {
        guard let f = field(named: name, in: part) else { return nil }
        return Array(ASCII.trimmed(ASCII.unfolded(rawValue(f))))
    }

    /// disposition, language, location.
    func writeExtension(_ w: inout IMAPWriter, _ index: Int) {
        if let f = field(named: "Content-Disposition", in: index), let d = ContentType.parse(rawValue(f)) {
            w.raw("(")
            w.string(d.type.utf8)
            w.raw(" ")
            writeParameters(&w, d.parameters)
            w.raw(")")
        } else {
            w.raw("NIL")
        }
        w.raw(" ")
        if let f = field(named: "Content-Language", in: index) {
            let langs = HeaderValue.phraseList(rawValue(f)).flatMap { $0.split(separator: " ").map(String.init) }
            if langs.isEmpty {
                w.raw("NIL")
            } else if langs.count == 1 {
                w.string(langs[0].utf8)
            } else {
                w.raw("(")
                for (i, l) in langs.enumerated() {
                    if i > 0 { w.raw(" ") }
                    w.string(l.utf8)
                }
                w.raw(")")
            }
        } else {
            w.raw("NIL")
        }
        w.raw(" ")
        w.nstring(fieldText("Content-Location", index))
    }

    /// Values that are not ASCII are sent in RFC 2231 form so every client can read them.
    func writeParameters(_ w: inout IMAPWriter, _ params: [MIMEParameter]) {
        if params.isEmpty { w.raw("NIL"); return }
        w.raw("(")
        for (i, p) in params.enumerated() {
            if i > 0 { w.raw(" ") }
            if p.value.utf8.contains(where: { $0 >= 0x80 || $0 < 0x20 }) {
                w.string((p.name + "*").utf8)
                w.raw(" ")
                var v = Array("utf-8''".utf8)
                let hex = Array("0123456789ABCDEF".utf8)
                for b in p.value.utf8 {
                    if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == ASCII.dot || b == ASCII.dash || b == UInt8(ascii: "_") {
                        v.append(b)
                    } else {
                        v.append(UInt8(ascii: "%")); v.append(hex[Int(b >> 4)]); v.append(hex[Int(b & 15)])
                    }
                }
                w.string(v)
            } else {
                w.string(p.name.utf8)
                w.raw(" ")
                w.string(p.value.utf8)
            }
        }
        w.raw(")")
    }
}
