import StalCore

/// The directory's answer for one RCPT, fed back into the session.
public enum SMTPRecipientVerdict: Hashable, Sendable {
    /// A local account; plus-addressing and aliases are already resolved.
    case local(tenant: TenantID, account: AccountID)
    /// The domain is local but has no such user (550 5.1.1).
    case unknownUser
    /// The domain is not served here (MX: 554 5.7.1 relay denied; submission: 550 5.7.1,
    /// there is no outbound queue yet).
    case notLocal
    /// The directory could not answer (451 4.3.0, the client retries).
    case temporaryFailure
}

/// A recipient accepted into the current transaction.
public struct SMTPAcceptedRecipient: Hashable, Sendable {
    public var address: EmailAddress
    public var tenant: TenantID
    public var account: AccountID

    public init(address: EmailAddress, tenant: TenantID, account: AccountID) {
        self.address = address
        self.tenant = tenant
        self.account = account
    }
}

/// How the connection looked when a message arrived; Received headers are written from it.
public struct SMTPSessionTrace: Hashable, Sendable {
    public var heloName: String
    public var peer: SMTPPeer
    public var usedExtendedHello: Bool
    public var tlsActive: Bool
    public var authenticated: Bool
    public var mode: SMTPMode
    public var serverHostname: String

    /// The `with` keyword of the Received header (RFC 3848, RFC 6531 §3.7.3).
    public func protocolKeyword(smtpUTF8: Bool) -> String {
        var keyword: String
        switch mode {
        case .lmtp: keyword = "LMTP"
        case .mx, .submission:
            keyword = smtpUTF8 ? "UTF8SMTP" : (usedExtendedHello ? "ESMTP" : "SMTP")
        }
        if tlsActive { keyword += "S" }
        if authenticated { keyword += "A" }
        return keyword
    }
}

/// A complete message ready to be stored: what `deliver` needs, and everything the trace
/// headers are made of.
public struct SMTPTransaction: Hashable, Sendable, CustomStringConvertible {
    /// Unique within the server: the session id plus a per-session counter.
    public var id: String
    public var reversePath: EmailAddress?
    public var parameters: SMTPMailParameters
    public var recipients: [SMTPAcceptedRecipient]
    /// The message as received, dot-unstuffed, without trace headers.
    public var content: [UInt8]
    public var trace: SMTPSessionTrace

    /// Logs never carry message bodies.
    public var description: String {
        "SMTPTransaction(\(id), from: \(reversePath?.description ?? "<>"), rcpt: \(recipients.count), [\(content.count) bytes])"
    }

    /// `Return-Path` and `Received` (RFC 5321 §4.4), prepended to the stored message. The
    /// `for` clause names the recipient only when there is exactly one, so a message to many
    /// recipients does not disclose the others.
    public func traceHeaders(receivedAt: Timestamp) -> [UInt8] {
        var text = "Return-Path: <\(reversePath?.description ?? "")>\r\n"
        text += "Received: from \(Self.headerSafe(trace.heloName)) (\(trace.peer.addressLiteral))\r\n"
        text += "\tby \(trace.serverHostname) (Stal) with \(trace.protocolKeyword(smtpUTF8: parameters.smtpUTF8)) id \(id)"
        if recipients.count == 1 {
            text += "\r\n\tfor <\(recipients[0].address)>"
        }
        text += "; \(CivilDateTime(receivedAt).rfc5322)\r\n"
        return Array(text.utf8)
    }

    /// The HELO name is client-chosen text: keep it to one printable ASCII token of at most
    /// 255 octets so it cannot bend the header's structure or carry raw 8-bit bytes.
    static func headerSafe(_ name: String) -> String {
        let bytes = name.utf8.prefix(255).map { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ";") ? $0 : UInt8(ascii: "?") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Trace headers followed by the message.
    public func storedMessage(receivedAt: Timestamp) -> [UInt8] {
        var bytes = traceHeaders(receivedAt: receivedAt)
        bytes.append(contentsOf: content)
        return bytes
    }
}

/// The store's answer for one recipient of a transaction.
public enum SMTPDeliveryOutcome: Hashable, Sendable {
    /// Durably stored.
    case delivered
    /// The account is over quota (552 5.2.2).
    case mailboxFull
    /// Retry later (451 4.3.0), e.g. the shard has no leader.
    case temporaryFailure
    /// Will never succeed (554 5.3.0).
    case permanentFailure
    /// The recipient's Sieve script rejected the message (RFC 5429): 550 5.7.1 with its reason.
    case rejected(reason: String)
}

/// The directory's answer to AUTH.
public enum SMTPAuthenticationOutcome: Hashable, Sendable {
    /// `identity` is the authenticated login name, kept for the session.
    case success(identity: String)
    case failure
    case rateLimited(retryAfterSeconds: Int64)
    /// The directory could not answer (454 4.7.0).
    case temporaryFailure
}

/// Credentials decoded from AUTH PLAIN or LOGIN; `description` never shows the password.
public struct SMTPCredentials: Hashable, Sendable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "SMTPCredentials(\(username), [password])" }
}
