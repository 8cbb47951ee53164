import StalCore
import StalSMTPCore

/// The services an SMTP session calls, in the session's own terms. `MailStoreSMTPBackend`
/// implements it over StalDirectory and StalMailStore; the handler knows nothing else.
public protocol SMTPBackend: Sendable {
    /// Resolves a RCPT address (plus-addressing and aliases included).
    func resolveRecipient(_ address: EmailAddress) async -> SMTPRecipientVerdict

    /// Checks AUTH credentials; `remoteAddress` feeds the per-IP failure throttle.
    func authenticate(_ credentials: SMTPCredentials, remoteAddress: String) async -> SMTPAuthenticationOutcome

    /// Stores the message for every recipient and returns only once it is durable; one
    /// outcome per entry of `transaction.recipients`, in order.
    func deliver(_ transaction: SMTPTransaction, receivedAt: Timestamp) async -> [SMTPDeliveryOutcome]
}
