import StalCore
import StalMIME

/// Host policy for turning actions into deliveries and outgoing mail.
public struct SieveDeliveryPolicy: Hashable, Sendable {
    public enum RedirectSender: Hashable, Sendable {
        /// Keep the original envelope sender.
        case sender
        case recipient
        case originalRecipient
        case userEmail
        case explicit(String)
    }

    public var userEmail: String?
    public var redirectEnvelopeFrom: RedirectSender = .sender
    public var vacationDefaultSubject: String?
    /// `%{subject}` stands for the original subject.
    public var vacationDefaultSubjectTemplate: String?
    public var vacationSendFromRecipient = false
    public var vacationToHeaderIgnoreEnvelope = false
    public var vacationUseOriginalRecipient = false
    public var vacationCheckRecipient = true
    public var hostname = "localhost"

    public init() {}
}

public struct SieveStore: Hashable, Sendable {
    public var mailbox: String
    public var flags: [String]
    public var create: Bool
    public var message: String
}

public struct SieveOutgoingMessage: Hashable, Sendable {
    public var envelopeFrom: String
    public var envelopeTo: String
    public var text: String
}

/// A vacation response that was sent: the host remembers (handle, sender) for the period.
public struct SieveVacationRecord: Hashable, Sendable {
    public var handle: String
    public var sender: String
    public var seconds: Int
}

/// A duplicate-tracking request: the host remembers `id` under `handle` for the period.
public struct SieveDuplicateRecord: Hashable, Sendable {
    public var handle: String
    public var id: String
    public var seconds: Int
}

public struct SieveExecution: Hashable, Sendable {
    public var stores: [SieveStore] = []
    public var outgoing: [SieveOutgoingMessage] = []
    public var vacationRecords: [SieveVacationRecord] = []
    public var duplicateRecords: [SieveDuplicateRecord] = []
    public var rejected: String?
}

/// Turns final actions into stores and outgoing messages (RFC 5228 redirect, RFC 5429 reject,
/// RFC 5230 vacation rules). Pure: time, message-id seed and the vacation memory are inputs.
public struct SieveResultExecutor: Sendable {
    public var policy: SieveDeliveryPolicy
    public var now: Timestamp
    public var messageIDSeed: String

    public init(policy: SieveDeliveryPolicy, now: Timestamp, messageIDSeed: String) {
        self.policy = policy
        self.now = now
        self.messageIDSeed = messageIDSeed
    }

    public func execute(_ actions: [SieveAction], message: any SieveMessage, envelope: SieveEnvelope,
                        vacationAlreadySent: (String, String) -> Bool = { _, _ in false }) -> SieveExecution {
        var out = SieveExecution()
        var counter = 0
        func nextID() -> String {
            counter += 1
            return "<sieve.\(messageIDSeed).\(now.millisecondsSinceEpoch).\(counter)@\(policy.hostname)>"
        }
        for action in actions {
            switch action {
            case .keep(let flags):
                out.stores.append(SieveStore(mailbox: "INBOX", flags: flags ?? [], create: false, message: message.serialized))
            case .fileInto(let f):
                out.stores.append(SieveStore(mailbox: f.mailbox, flags: f.flags ?? [], create: f.create, message: message.serialized))
            case .redirect(let r):
                if let m = redirect(r, message: message, envelope: envelope) { out.outgoing.append(m) }
            case .reject(let reason, _):
                out.rejected = reason
                if !envelope.from.isEmpty {
                    out.outgoing.append(rejectNotice(reason, message: message, envelope: envelope, messageID: nextID()))
                }
            case .discard:
                break
            case .notify(let n):
                for m in mailtoNotification(n, message: message, envelope: envelope, messageID: nextID()) {
                    out.outgoing.append(m)
                    if let fcc = n.fcc {
                        out.stores.append(SieveStore(mailbox: fcc.mailbox, flags: fcc.flags ?? [], create: fcc.create, message: m.text))
                    }
                }
            case .vacation(let v):
                if let reply = vacationReply(v, message: message, envelope: envelope, messageID: nextID(), alreadySent: vacationAlreadySent) {
                    out.outgoing.append(reply)
                    out.vacationRecords.append(SieveVacationRecord(handle: v.handle, sender: reply.envelopeTo, seconds: v.periodSeconds))
                    if let fcc = v.fcc {
                        // RFC 8580: a copy of the reply is filed as well.
                        out.stores.append(SieveStore(mailbox: fcc.mailbox, flags: fcc.flags ?? [], create: fcc.create, message: reply.text))
                    }
                }
            case .trackDuplicate(let handle, let id, let seconds):
                out.duplicateRecords.append(SieveDuplicateRecord(handle: handle, id: id, seconds: seconds))
            }
        }
        return out
    }

    /// Redirects carry `X-Sieve-Redirected-From: <user>`; a message that already names this user
    /// there has looped back and is not sent again.
    private func redirect(_ r: SieveRedirect, message: any SieveMessage, envelope: SieveEnvelope) -> SieveOutgoingMessage? {
        let user = policy.userEmail ?? envelope.to
        let own = Set([user, envelope.to].map { $0.lowercased() })
        if message.headerValues("x-sieve-redirected-from").contains(where: {
            own.contains((SieveAddressParser.parsePath($0)?.all ?? $0).lowercased())
        }) {
            return nil
        }
        var from = envelope.from
        if !envelope.from.isEmpty {
            switch policy.redirectEnvelopeFrom {
            case .sender: break
            case .recipient: from = envelope.to
            case .originalRecipient: from = envelope.originalTo ?? envelope.to
            case .userEmail: from = policy.userEmail ?? envelope.to
            case .explicit(let a): from = a
            }
        }
        let text = "X-Sieve-Redirected-From: \(user)\r\n" + message.serialized
        return SieveOutgoingMessage(envelopeFrom: from, envelopeTo: r.address, text: text)
    }

    /// RFC 5436: a notification mail to the mailto: recipients, with the URI's subject/body
    /// headers, marked `Auto-Submitted: auto-notified` and sent from the null path.
    func mailtoNotification(_ n: SieveNotify, message: any SieveMessage, envelope: SieveEnvelope, messageID: String) -> [SieveOutgoingMessage] {
        let rest = n.method.dropFirst("mailto:".count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var recipients = (parts.first.map(String.init) ?? "").split(separator: ",").map { String($0).removingPercentEncoding() }
        var subject: String?
        var body: String?
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2 else { continue }
                let value = String(kv[1]).removingPercentEncoding()
                switch kv[0].lowercased() {
                case "to": recipients += value.split(separator: ",").map(String.init)
                case "subject": subject = value
                case "body": body = value
                default: break
                }
            }
        }
        let addresses = recipients.compactMap { SieveAddressParser.parseSingle($0)?.all }
        guard !addresses.isEmpty else { return [] }
        let original = message.headerValues("subject").first ?? ""
        let from = n.from ?? policy.userEmail.map { "<\($0)>" } ?? "<\(envelope.to)>"
        var text = "From: \(from)\r\nTo: \(addresses.map { "<\($0)>" }.joined(separator: ", "))\r\n"
        text += "Subject: \(Self.encodeHeaderText(subject ?? n.message ?? "Notification: \(original)"))\r\n"
        text += "Date: \(CivilDateTime(now).rfc5322)\r\nMessage-ID: \(messageID)\r\nAuto-Submitted: auto-notified\r\n"
        text += "Importance: \(["high", "normal", "low"][max(0, min(2, n.importance - 1))])\r\nMIME-Version: 1.0\r\n"
        text += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        text += (body ?? n.message ?? "You have new mail: \(original)") + "\r\n"
        return addresses.map { SieveOutgoingMessage(envelopeFrom: "", envelopeTo: $0, text: text) }
    }

    private func rejectNotice(_ reason: String, message: any SieveMessage, envelope: SieveEnvelope, messageID: String) -> SieveOutgoingMessage {
        let boundary = "\(messageIDSeed)/\(policy.hostname)"
        let date = CivilDateTime(now).rfc5322
        var text = "From: Postmaster <postmaster@\(policy.hostname)>\n"
        text += "To: <\(envelope.from)>\nSubject: Automatically rejected mail\nDate: \(date)\nMessage-ID: \(messageID)\n"
        text += "Auto-Submitted: auto-replied (rejected)\nPrecedence: bulk\nMIME-Version: 1.0\n"
        text += "Content-Type: multipart/report; report-type=disposition-notification;\n\tboundary=\"\(boundary)\"\n\n"
        text += "This is a MIME-encapsulated message\n\n--\(boundary)\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: inline\nContent-Transfer-Encoding: 8bit\n\n"
        text += "Your message to <\(envelope.to)> was automatically rejected:\n\(reason)\n\n"
        text += "--\(boundary)\nContent-Type: message/disposition-notification\n\nReporting-UA: \(policy.hostname); Stal Sieve\n"
        text += "Final-Recipient: rfc822; \(envelope.to)\n"
        if let id = message.headerValues("message-id").first { text += "Original-Message-ID: \(id)\n" }
        text += "Disposition: automatic-action/MDN-sent-automatically; deleted\n\n"
        text += "--\(boundary)\nContent-Type: message/rfc822\n\n\(message.rawHeaderBlock)\n--\(boundary)--\n"
        return SieveOutgoingMessage(envelopeFrom: "", envelopeTo: envelope.from, text: text)
    }

    /// RFC 2047 encoding for header text that is not ASCII.
    static func encodeHeaderText(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !$0.isASCII }) else { return text }
        return EncodedWords.encode(text, nameLength: 9)
    }

    /// Longest reply subject before it is cut and an ellipsis added.
    static let maxSubjectLength = 256

    static let listHeaders = ["list-id", "list-owner", "list-subscribe", "list-post", "list-unsubscribe", "list-help", "list-archive"]

    static func isSystemAddress(_ address: SieveAddress) -> Bool {
        let local = address.localPart.lowercased()
        return local == "mailer-daemon" || local == "listserv" || local == "majordomo" || local.hasSuffix("-request")
            || local.hasPrefix("owner-") || local == "postmaster"
    }

    /// RFC 5230 §4.5 and §5: whether to answer, then the reply itself.
    public func vacationReply(_ v: SieveVacation, message: any SieveMessage, envelope: SieveEnvelope, messageID: String,
                              alreadySent: (String, String) -> Bool) -> SieveOutgoingMessage? {
        guard !envelope.from.isEmpty, let sender = SieveAddressParser.parsePath(envelope.from), sender.domain != nil else { return nil }
        if Self.isSystemAddress(sender) { return nil }
        for h in Self.listHeaders where !message.headerValues(h).isEmpty { return nil }
        if let auto = message.headerValues("auto-submitted").first, auto.lowercased().trimmingSpaces() != "no" { return nil }
        if let p = message.headerValues("precedence").first?.lowercased().trimmingSpaces(), ["bulk", "list", "junk"].contains(p) { return nil }
        for s in message.headerValues("x-auto-response-suppress") {
            let items = s.lowercased().split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.trimmingSpaces() }
            if items.contains("all") || items.contains("oof") { return nil }
        }
        var own: [String] = [envelope.to] + v.addresses
        if let u = policy.userEmail { own.append(u) }
        if policy.vacationUseOriginalRecipient, let o = envelope.originalTo { own.append(o) }
        let ownAddresses = own.compactMap { SieveAddressParser.parsePath($0) ?? SieveAddressParser.parseSingle($0) }.map { $0.all.lowercased() }
        if ownAddresses.contains(sender.all.lowercased()) { return nil }
        var addressedAs: String?
        for h in ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"] where addressedAs == nil {
            for raw in message.rawHeaderValues(h) {
                let list = SieveAddressParser.parseList(SieveHeaderDecoding.unfold(raw)) ?? []
                if let hit = list.first(where: { ownAddresses.contains($0.all.lowercased()) }) {
                    addressedAs = hit.all
                    break
                }
            }
        }
        if policy.vacationCheckRecipient, addressedAs == nil { return nil }
        if alreadySent(v.handle, sender.all) { return nil }

        let originalSubject = message.headerValues("subject").first
        var subject: String
        if let s = v.subject {
            subject = s
        } else if let original = originalSubject, !original.isEmpty {
            let template = policy.vacationDefaultSubjectTemplate ?? "Auto: %{subject}"
            subject = template.split(separator: "%{subject}", omittingEmptySubsequences: false).joined(separator: original)
        } else {
            subject = policy.vacationDefaultSubject ?? "Automated reply"
        }
        if subject.unicodeScalars.count > Self.maxSubjectLength {
            subject = String(String.UnicodeScalarView(subject.unicodeScalars.prefix(Self.maxSubjectLength))) + "\u{2026}"
        }
        subject = Self.encodeHeaderText(subject)
        var fromHeader: String
        if let f = v.from {
            fromHeader = f
        } else if let a = addressedAs, a.lowercased() != envelope.to.lowercased() {
            fromHeader = "<\(a)>"
        } else if let u = policy.userEmail {
            fromHeader = "<\(u)>"
        } else {
            fromHeader = "<\(envelope.to)>"
        }
        var toHeader = "<\(sender.all)>"
        if policy.vacationToHeaderIgnoreEnvelope, let raw = message.rawHeaderValues("reply-to").first ?? message.rawHeaderValues("sender").first ?? message.rawHeaderValues("from").first {
            toHeader = SieveHeaderDecoding.unfold(raw)
        } else {
            for h in ["from", "sender", "resent-from", "reply-to"] {
                guard let raw = message.rawHeaderValues(h).first,
                      let list = SieveAddressParser.parseList(SieveHeaderDecoding.unfold(raw)),
                      list.contains(where: { $0.all.lowercased() == sender.all.lowercased() }) else { continue }
                toHeader = SieveHeaderDecoding.unfold(raw)
                break
            }
        }
        var text = "From: \(fromHeader)\nTo: \(toHeader)\nSubject: \(subject)\nDate: \(CivilDateTime(now).rfc5322)\nMessage-ID: \(messageID)\n"
        if let id = message.headerValues("message-id").first {
            text += "In-Reply-To: \(id)\n"
            let refs = (message.headerValues("references").first.map { $0 + " " } ?? "") + id
            text += "References: \(refs)\n"
        }
        text += "Auto-Submitted: auto-replied (vacation)\nPrecedence: bulk\nMIME-Version: 1.0\n"
        if v.isMIME {
            text += v.reason
        } else {
            text += "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n\(v.reason)\n"
        }
        var envelopeFrom = ""
        if policy.vacationSendFromRecipient { envelopeFrom = envelope.to }
        return SieveOutgoingMessage(envelopeFrom: envelopeFrom, envelopeTo: sender.all, text: text)
    }
}
