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

    /// Two RCPTs that resolve to one account (`user+a@`, `user+b@`, an alias) store the
    /// message once; both get that account's outcome.
    public func deliver(_ transaction: SMTPTransaction, receivedAt: Timestamp) async -> [SMTPDeliveryOutcome] {
        var accounts: [AccountID] = []
        for recipient in transaction.recipients where !accounts.contains(recipient.account) {
            accounts.append(recipient.account)
        }
        let results: [Result<AppendResult, StalError>]
        do {
            results = try await store.deliver(transaction.storedMessage(receivedAt: receivedAt), receivedAt: receivedAt,
                                              recipients: accounts.map { DeliveryTarget(account: $0) })
        } catch let error as StalError {
            return transaction.recipients.map { _ in Self.outcome(error) }
        } catch {
            return transaction.recipients.map { _ in .temporaryFailure }
        }
        var byAccount: [AccountID: SMTPDeliveryOutcome] = [:]
        for (account, result) in zip(accounts, results) {
            switch result {
            case .success: byAccount[account] = .delivered
            case .failure(let error): byAccount[account] = Self.outcome(error)
            }
        }
        return transaction.recipients.map { byAccount[$0.account] ?? .temporaryFailure }
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
