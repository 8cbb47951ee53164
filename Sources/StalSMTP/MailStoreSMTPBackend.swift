import StalCore
import StalDirectory
import StalMailStore
import StalSMTPCore

/// The production backend: recipients and logins through StalDirectory, delivery through
/// StalMailStore (one blob, one shard-log command per tenant, durable before it returns).
public struct MailStoreSMTPBackend: SMTPBackend {
    public let store: MailStore
    public let directory: Directory

    public init(store: MailStore, directory: Directory) {
        self.store = store
        self.directory = directory
    }

    public func resolveRecipient(_ address: EmailAddress) async -> SMTPRecipientVerdict {
        do {
            switch try directory.resolveRecipient(address) {
            case .local(let account, let tenant): return .local(tenant: tenant, account: account)
            case .unknownUser: return .unknownUser
            case .notLocal: return .notLocal
            }
        } catch {
            return .temporaryFailure
        }
    }

    /// The sender must resolve to the authenticated account: its primary address, a
    /// `+tag` form of it, or one of its aliases.
    public func senderAllowed(_ sender: EmailAddress, identity: String) async -> Bool {
        guard let login = EmailAddress(identity),
              let account = try? directory.account(address: login),
              case .local(let owner, _)? = try? directory.resolveRecipient(sender) else { return false }
        return owner == account.id
    }

    public func authenticate(_ credentials: SMTPCredentials, remoteAddress: String) async -> SMTPAuthenticationOutcome {
        switch await directory.authenticate(username: credentials.username, password: credentials.password,
                                            remote: remoteAddress) {
        case .success(let principal): return .success(identity: principal.address.description)
        case .failure: return .failure
        case .rateLimited(let seconds): return .rateLimited(retryAfterSeconds: seconds)
        }
    }

    /// Each recipient's active Sieve script runs with the envelope (`+detail` included).
    /// Two RCPTs that resolve to one account (`user+a@`, `user+b@`, an alias) store the
    /// message once, filtered with the first address; both get that account's outcome. A
    /// script's reject is a per-recipient 550 on LMTP; on SMTP the message is refused only
    /// when every recipient rejects it, otherwise a rejection notice goes to the outbox.
    public func deliver(_ transaction: SMTPTransaction, receivedAt: Timestamp) async -> [SMTPDeliveryOutcome] {
        let outcomes: [FilteredDeliveryOutcome]
        do {
            outcomes = try await store.deliverFiltered(
                transaction.storedMessage(receivedAt: receivedAt), receivedAt: receivedAt, envelopeFrom: transaction.reversePath,
                recipients: transaction.recipients.map { FilteredRecipient(account: $0.account, address: $0.address) },
                rejectPolicy: transaction.trace.mode == .lmtp ? .perRecipient : .wholeMessage,
                hostname: transaction.trace.serverHostname)
        } catch let error as StalError {
            return transaction.recipients.map { _ in Self.outcome(error) }
        } catch {
            return transaction.recipients.map { _ in .temporaryFailure }
        }
        return outcomes.map { outcome in
            switch outcome {
            case .delivered: return .delivered
            case .rejected(let reason): return .rejected(reason: reason)
            case .failed(let error): return Self.outcome(error)
            }
        }
    }

    /// Store errors mapped to what the client should do: retry, or give up.
    static func outcome(_ error: StalError) -> SMTPDeliveryOutcome {
        switch error.kind {
        case .quotaExceeded: return .mailboxFull
        case .notFound, .invalidArgument, .limitExceeded, .permissionDenied, .corrupted: return .permanentFailure
        case .alreadyExists, .authenticationFailed, .rateLimited, .conflict, .unavailable, .notLeader, .storage, .internal:
            return .temporaryFailure
        }
    }
}
