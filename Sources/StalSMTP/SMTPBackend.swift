import StalCore
import StalSMTPCore

/// The services an SMTP session calls, in the session's own terms. `MailStoreSMTPBackend`
/// implements it over StalDirectory and StalMailStore; the handler knows nothing else.
public protocol SMTPBackend: Sendable {
    /// Resolves a RCPT address (plus-addressing and aliases included).
    func resolveRecipient(_ address: EmailAddress) async -> SMTPRecipientVerdict

    /// Whether the authenticated user `identity` (its login name) may use `sender` as the
    /// envelope sender on submission.
    func senderAllowed(_ sender: EmailAddress, identity: String) async -> Bool

    /// Checks AUTH credentials; `remoteAddress` feeds the per-IP failure throttle.
    func authenticate(_ credentials: SMTPCredentials, remoteAddress: String) async -> SMTPAuthenticationOutcome

    /// Stores the message for every recipient and returns only once it is durable; one
    /// outcome per entry of `transaction.recipients`, in order.
    func deliver(_ transaction: SMTPTransaction, receivedAt: Timestamp) async -> [SMTPDeliveryOutcome]
}
