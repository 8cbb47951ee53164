extension MIMEMessage {
    /// ENVELOPE (RFC 3501 §7.4.2) of the message, or of the message inside a
    /// message/rfc822 part when `part` is that part's encapsulated root.
    public func imapEnvelope(part: Int = 0) -> String {
        String(decoding: imapEnvelopeBytes(part: part), as: UTF8.self)
    }

    /// The exact wire bytes; header bytes that are not UTF-8 are sent unchanged in literals.
    public func imapEnvelopeBytes(part: Int = 0) -> [UInt8] {
        var w = IMAPWriter()
        writeEnvelope(&w, part: part)
        return w.out
    }

    func envelopeText(_ name: String, _ part: Int) -> [UInt8]? {
        guard let f = field(named: name, in: part) else { return nil }
        let v = ASCII.trimmed(ASCII.unfolded(rawValue(f)))
        return Array(v)
    }

    func writeEnvelope(_ w: inout IMAPWriter, part: Int) {
        w.raw("(")
        w.nstring(envelopeText("Date", part)); w.raw(" ")
        w.nstring(envelopeText("Subject", part)); w.raw(" ")
        let from = envelopeAddresses("From", part)
        writeAddresses(&w, from); w.raw(" ")
        let sender = envelopeAddresses("Sender", part)
        writeAddresses(&w, sender.isEmpty ? from : sender); w.raw(" ")
        let replyTo = envelopeAddresses("Reply-To", part)
        writeAddresses(&w, replyTo.isEmpty ? from : replyTo); w.raw(" ")
        writeAddresses(&w, envelopeAddresses("To", part)); w.raw(" ")
        writeAddresses(&w, envelopeAddresses("Cc", part)); w.raw(" ")
        writeAddresses(&w, envelopeAddresses("Bcc", part)); w.raw(" ")
        w.nstring(envelopeText("In-Reply-To", part)); w.raw(" ")
        w.nstring(envelopeText("Message-ID", part))
        w.raw(")")
    }

    func envelopeAddresses(_ name: String, _ part: Int) -> [AddressGroup] {
        guard let f = field(named: name, in: part) else { return [] }
        return AddressParser.parse(rawValue(f))
    }

    func writeAddresses(_ w: inout IMAPWriter, _ groups: [AddressGroup]) {
        if groups.allSatisfy({ !$0.isGroup && $0.addresses.isEmpty }) { w.raw("NIL"); return }
        w.raw("(")
        for g in groups {
            if g.isGroup {
                w.raw("(NIL NIL ")
                w.nstring(g.rawName ?? g.name ?? "")
                w.raw(" NIL)")
            }
            for a in g.addresses {
                w.raw("(")
                w.nstring(a.rawName.map { Array($0.utf8) })
                w.raw(" ")
                w.nstring(a.route)
                w.raw(" ")
                w.nstring(a.localPart ?? "MISSING_MAILBOX")
                w.raw(" ")
                w.nstring(a.domain.flatMap { $0.isEmpty ? nil : $0 } ?? "MISSING_DOMAIN")
                w.raw(")")
            }
            if g.isGroup { w.raw("(NIL NIL NIL NIL)") }
        }
        w.raw(")")
    }
}
