import StalCore

/// Every reply the session sends, in one place, so codes stay consistent (RFC 5321 §4.2,
/// enhanced codes from RFC 3463 / RFC 5248).
extension SMTPReply {
    static func greeting(hostname: String, mode: SMTPMode) -> SMTPReply {
        SMTPReply(220, nil, "\(hostname) \(mode == .lmtp ? "LMTP" : "ESMTP") Stal ready")
    }

    static let ok = SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
    static let senderOK = SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Sender ok")
    static let bye = SMTPReply(221, EnhancedStatusCode(2, 0, 0), "Bye")
    static let startData = SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")
    static let readyForTLS = SMTPReply(220, EnhancedStatusCode(2, 0, 0), "Ready to start TLS")
    static let cannotVerify = SMTPReply(252, EnhancedStatusCode(2, 5, 2), "Cannot VRFY user, but will accept message and attempt delivery")
    static let help = SMTPReply(214, EnhancedStatusCode(2, 0, 0), "Commands: EHLO HELO LHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY STARTTLS AUTH; see RFC 5321")
    static let authenticationSucceeded = SMTPReply(235, EnhancedStatusCode(2, 7, 0), "Authentication successful")
    static let saslEmptyChallenge = SMTPReply(334, nil, [""])
    static let saslUsernameChallenge = SMTPReply(334, nil, "VXNlcm5hbWU6")
    static let saslPasswordChallenge = SMTPReply(334, nil, "UGFzc3dvcmQ6")

    static func chunkReceived(_ octets: Int) -> SMTPReply {
        SMTPReply(250, EnhancedStatusCode(2, 0, 0), "\(octets) octets received")
    }

    static func messageStored(id: String) -> SMTPReply {
        SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok: stored as \(id)")
    }

    static func recipientOK(_ address: EmailAddress) -> SMTPReply {
        SMTPReply(250, EnhancedStatusCode(2, 1, 5), "<\(address)> Recipient ok")
    }

    static func lmtpDelivered(_ address: EmailAddress, id: String) -> SMTPReply {
        SMTPReply(250, EnhancedStatusCode(2, 1, 5), "<\(address)> Delivered as \(id)")
    }

    // 4xx: transient.
    static func idleTimeout(hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 4, 2), "\(hostname) Timeout waiting for client input, closing connection")
    }

    static let tooManyErrors = SMTPReply(421, EnhancedStatusCode(4, 7, 0), "Too many errors, closing connection")
    static let tooManyRecipients = SMTPReply(452, EnhancedStatusCode(4, 5, 3), "Too many recipients")
    static let temporaryLocalFailure = SMTPReply(451, EnhancedStatusCode(4, 3, 0), "Temporary local failure, try again later")
    static let temporaryAuthenticationFailure = SMTPReply(454, EnhancedStatusCode(4, 7, 0), "Temporary authentication failure")

    static func directoryUnavailable(_ address: EmailAddress) -> SMTPReply {
        SMTPReply(451, EnhancedStatusCode(4, 3, 0), "<\(address)> Temporary directory failure, try again later")
    }

    static func authenticationRateLimited(retryAfterSeconds: Int64) -> SMTPReply {
        SMTPReply(454, EnhancedStatusCode(4, 7, 0), "Too many failed authentications, try again in \(retryAfterSeconds) seconds")
    }

    // 5xx: permanent.
    static let lineTooLong = SMTPReply(500, EnhancedStatusCode(5, 5, 2), "Line too long")
    static let useLHLO = SMTPReply(500, EnhancedStatusCode(5, 5, 1), "This is an LMTP server: use LHLO")
    static let notLMTP = SMTPReply(500, EnhancedStatusCode(5, 5, 1), "LHLO is for LMTP; use EHLO")
    static let expnDisabled = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "EXPN not available")
    static let startTLSUnavailable = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "STARTTLS not available")
    static let authUnavailable = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "AUTH not available on this port")
    static let helloFirst = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Send EHLO or HELO first")
    static let extendedHelloFirst = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Send EHLO first")
    static let nestedMail = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Nested MAIL command")
    static let mailFirst = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Need MAIL command first")
    static let tlsAlreadyActive = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "TLS already active")
    static let alreadyAuthenticated = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Already authenticated")
    static let authDuringTransaction = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "AUTH not permitted during a mail transaction")
    static let mixedDataAndChunks = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "DATA and BDAT cannot be mixed in one transaction")
    static let rcptAfterChunks = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "RCPT not permitted after BDAT")
    static let noValidRecipients = SMTPReply(554, EnhancedStatusCode(5, 5, 1), "No valid recipients")
    static let authenticationRequired = SMTPReply(530, EnhancedStatusCode(5, 7, 0), "Authentication required")
    static let encryptionRequiredForAuth = SMTPReply(538, EnhancedStatusCode(5, 7, 11), "Encryption required for requested authentication mechanism")
    static let authenticationFailed = SMTPReply(535, EnhancedStatusCode(5, 7, 8), "Authentication credentials invalid")
    static let authenticationCancelled = SMTPReply(501, EnhancedStatusCode(5, 0, 0), "Authentication cancelled")
    static let undecodableSASLResponse = SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Cannot decode authentication response")
    static let bareLineEnding = SMTPReply(550, EnhancedStatusCode(5, 5, 2), "Message contains a bare CR or LF; lines must end with CRLF (RFC 5321 section 2.3.8)")
    static let messageTooBig = SMTPReply(552, EnhancedStatusCode(5, 3, 4), "Message size exceeds fixed maximum message size")
    static let messageLineTooLong = SMTPReply(552, EnhancedStatusCode(5, 3, 4), "Message contains a line longer than the maximum")
    static let mailboxFull = SMTPReply(552, EnhancedStatusCode(5, 2, 2), "Mailbox full")
    static let permanentLocalFailure = SMTPReply(554, EnhancedStatusCode(5, 3, 0), "Message could not be stored")
    static let nonASCIIAddressNeedsSMTPUTF8 = SMTPReply(553, EnhancedStatusCode(5, 6, 7), "Non-ASCII address requires the SMTPUTF8 parameter")

    static func unknownUser(_ address: EmailAddress) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<\(address)> Recipient address rejected: User unknown")
    }

    static func senderNotOwned(_ address: EmailAddress, identity: String) -> SMTPReply {
        SMTPReply(553, EnhancedStatusCode(5, 7, 1), "<\(address)> Sender address rejected: not owned by user \(identity)")
    }

    static func relayDenied(_ address: EmailAddress) -> SMTPReply {
        SMTPReply(554, EnhancedStatusCode(5, 7, 1), "<\(address)> Relay access denied")
    }

    static func outboundUnavailable(_ address: EmailAddress) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 7, 1), "<\(address)> Sending to other domains is not available: this server has no outbound queue yet")
    }

    static func syntaxError(_ error: SMTPSyntaxError) -> SMTPReply {
        switch error.kind {
        case .unrecognizedCommand: return SMTPReply(500, EnhancedStatusCode(5, 5, 1), "Command unrecognized")
        case .badArguments: return SMTPReply(501, EnhancedStatusCode(5, 5, 4), error.context)
        case .badSenderAddress: return SMTPReply(501, EnhancedStatusCode(5, 1, 7), error.context)
        case .badRecipientAddress: return SMTPReply(501, EnhancedStatusCode(5, 1, 3), error.context)
        case .unsupportedParameter: return SMTPReply(555, EnhancedStatusCode(5, 5, 4), error.context)
        case .malformedLine: return SMTPReply(500, EnhancedStatusCode(5, 5, 2), error.context)
        case .unframeableChunk: return SMTPReply(500, EnhancedStatusCode(5, 5, 2), "\(error.context); closing connection")
        }
    }

    /// The final reply for one recipient (LMTP) or the whole message (SMTP).
    static func delivery(_ outcome: SMTPDeliveryOutcome, id: String, recipient: EmailAddress?) -> SMTPReply {
        switch outcome {
        case .delivered:
            guard let recipient else { return .messageStored(id: id) }
            return .lmtpDelivered(recipient, id: id)
        case .mailboxFull: return .mailboxFull
        case .temporaryFailure: return .temporaryLocalFailure
        case .permanentFailure: return .permanentLocalFailure
        case .rejected(let reason): return .sieveRejected(reason)
        }
    }

    /// The script's reason is user text: its first line, printable ASCII only, bounded, so
    /// it can neither break the reply's framing nor grow it without limit (RFC 5429 §2.1.1).
    static func sieveRejected(_ reason: String) -> SMTPReply {
        let firstLine = reason.unicodeScalars.prefix { $0 != "\r" && $0 != "\n" }
        let printable = String(String.UnicodeScalarView(firstLine.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(200)))
        return SMTPReply(550, EnhancedStatusCode(5, 7, 1), printable.isEmpty ? "Message rejected by the recipient's filter" : printable)
    }
}
