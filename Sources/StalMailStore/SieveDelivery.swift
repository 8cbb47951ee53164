import StalCore
import StalMIME
import StalShardLog
import StalSieve

/// One envelope recipient of a filtered delivery.
public struct FilteredRecipient: Hashable, Sendable {
    public var account: AccountID
    /// The RCPT address as given, `+detail` included: what `envelope :detail "to"` sees.
    public var address: EmailAddress

    public init(account: AccountID, address: EmailAddress) {
        self.account = account
        self.address = address
    }
}

/// What happened for one recipient.
public enum FilteredDeliveryOutcome: Hashable, Sendable {
    /// Accepted: stored in these places (none when the script discarded or only redirected).
    case delivered([AppendedEmail])
    /// The script rejected the message and the protocol refuses it for this recipient.
    case rejected(reason: String)
    case failed(StalError)
}

/// How `reject`/`ereject` reach the sender.
public enum SieveRejectPolicy: Hashable, Sendable {
    /// LMTP: a per-recipient 550; no notice is queued.
    case perRecipient
    /// SMTP: one reply for the whole message. When every recipient rejects, the message is
    /// refused (550); otherwise it is accepted and each rejecting recipient's script queues a
    /// rejection notice (RFC 5429 MDN) in the outbox.
    case wholeMessage
}

/// The result of running one recipient's script, before rejection policy is applied.
private struct ScriptRun {
    var account: AccountID
    var address: EmailAddress
    var actions: [SieveAction]
    var message: any SieveMessage
    var envelope: SieveEnvelope

    var rejectReason: String? {
        for case let .reject(reason, _) in actions { return reason }
        return nil
    }
}

/// What one recipient's script leads to, ready to be put into commands.
private struct RecipientPlan {
    var stores: [(mailbox: MailboxID?, keywords: Set<Keyword>, content: [UInt8])] = []
    var outbox: [OutboxEntry] = []
    var memory: [SieveMemoryRecord] = []
}

extension MailStore {
    /// Delivers one message to several recipients, running each recipient's active Sieve
    /// script (RFC 5228) with the envelope. Stores, outgoing messages (vacation, redirect,
    /// notify, reject notices) and response memory of one tenant go into ONE shard-log entry,
    /// so a crash never keeps the message without its outbox entries or the other way round.
    /// Script errors and exceeded limits keep the message in INBOX. Recipients without an
    /// active script take the plain `deliver` path.
    public func deliverFiltered(_ bytes: [UInt8], receivedAt: Timestamp? = nil, envelopeFrom: EmailAddress?,
                                recipients: [FilteredRecipient], rejectPolicy: SieveRejectPolicy,
                                hostname: String) async throws -> [FilteredDeliveryOutcome] {
        let at = receivedAt ?? clock.now()
        var firstAddress: [AccountID: EmailAddress] = [:]
        var accounts: [AccountID] = []
        for r in recipients where firstAddress[r.account] == nil {
            firstAddress[r.account] = r.address
            accounts.append(r.account)
        }
        var scripts: [AccountID: SieveScript] = [:]
        for account in accounts {
            if let active = try activeSieveScript(account),
               let script = try? sieveCache.script(account, version: active.record.version, compile: {
                   try SieveCompiler.compile(active.record.content, options: Self.sieveCompileOptions)
               }) {
                scripts[account] = script
            }
        }
        if scripts.isEmpty {
            let results = try await deliver(bytes, receivedAt: at, recipients: accounts.map { DeliveryTarget(account: $0) })
            let byAccount = Dictionary(uniqueKeysWithValues: zip(accounts, results.map { r -> FilteredDeliveryOutcome in
                switch r {
                case .success(let appended): return .delivered([appended])
                case .failure(let error): return .failed(error)
                }
            }))
            return recipients.map { byAccount[$0.account]! }
        }

        let parsed = SieveMIMEMessage(bytes: bytes)
        let from = envelopeFrom?.description ?? ""
        var runs: [ScriptRun] = []
        for account in accounts {
            let address = firstAddress[account]!
            let envelope = SieveEnvelope(from: from, to: address.description)
            guard let script = scripts[account] else {
                runs.append(ScriptRun(account: account, address: address, actions: [.keep(flags: nil)], message: parsed, envelope: envelope))
                continue
            }
            var interpreter = SieveInterpreter(host: DeliverySieveHost(store: self, account: account, now: at),
                                               options: .untrusted(now: at))
            let outcome = interpreter.run(script, context: SieveExecutionContext(message: parsed, envelope: envelope))
            // After a runtime error the message is kept as it arrived, not as edited so far.
            runs.append(ScriptRun(account: account, address: address, actions: outcome.actions,
                                  message: outcome.error == nil ? outcome.context.message : parsed, envelope: envelope))
        }

        let rejecting = runs.filter { $0.rejectReason != nil }.map(\.account)
        let refuseAtProtocol: Set<AccountID>
        switch rejectPolicy {
        case .perRecipient: refuseAtProtocol = Set(rejecting)
        case .wholeMessage: refuseAtProtocol = rejecting.count == runs.count ? Set(rejecting) : []
        }

        let originalText = String(decoding: bytes, as: UTF8.self)
        var outcomes: [AccountID: FilteredDeliveryOutcome] = [:]
        var plans: [AccountID: RecipientPlan] = [:]
        for run in runs {
            if refuseAtProtocol.contains(run.account) {
                outcomes[run.account] = .rejected(reason: run.rejectReason ?? "rejected")
                continue
            }
            do {
                plans[run.account] = try await plan(run, at: at, hostname: hostname, original: bytes, originalText: originalText)
            } catch let error as StalError {
                outcomes[run.account] = .failed(error)
            }
        }

        var byTenant: [TenantID: [AccountID]] = [:]
        for account in accounts where plans[account] != nil {
            do {
                byTenant[try requireAccount(account, in: engine).tenant, default: []].append(account)
            } catch let error as StalError {
                outcomes[account] = .failed(error)
            }
        }
        for (tenant, members) in byTenant.sorted(by: { $0.key < $1.key }) {
            for (account, outcome) in try await proposeFiltered(tenant: tenant, accounts: members, plans: plans, at: at) {
                outcomes[account] = outcome
            }
        }
        return recipients.map { outcomes[$0.account] ?? .failed(StalError(.internal, "no outcome for \($0.address)")) }
    }

    /// Executes the final actions one at a time, so every outgoing message carries the
    /// reason of the action that made it.
    private func plan(_ run: ScriptRun, at: Timestamp, hostname: String, original: [UInt8],
                      originalText: String) async throws -> RecipientPlan {
        var policy = SieveDeliveryPolicy()
        policy.userEmail = run.address.detachingSubaddress().base.description
        policy.hostname = hostname
        let seed = String(ids.next(), radix: 36)
        var out = RecipientPlan()
        var memoryKeys = Set<[UInt8]>()
        for (i, action) in run.actions.enumerated() {
            let executor = SieveResultExecutor(policy: policy, now: at, messageIDSeed: "\(seed).\(i)")
            let execution = executor.execute([action], message: run.message, envelope: run.envelope) { handle, sender in
                let key = Self.memoryKey("vacation", handle, sender.lowercased())
                return memoryKeys.contains(key) || sieveMemoryActive(run.account, key: key, now: at)
            }
            for store in execution.stores {
                let content = store.message == originalText ? original : MessageBuilder.crlfNormalized(Array(store.message.utf8))
                let mailbox = try await resolveMailbox(run.account, store.mailbox, create: store.create)
                let keywords = Set(store.flags.compactMap { Keyword(imapFlag: $0) })
                if let i = out.stores.firstIndex(where: { $0.mailbox == mailbox && $0.content == content }) {
                    // One copy per mailbox (RFC 5228 §2.10.3); the last flags win (RFC 5232).
                    out.stores[i].keywords = keywords
                } else {
                    out.stores.append((mailbox, keywords, content))
                }
            }
            let reason: OutboxReason
            switch action {
            case .redirect: reason = .redirect
            case .reject: reason = .reject
            case .vacation: reason = .vacation
            default: reason = .notify
            }
            for message in execution.outgoing {
                out.outbox.append(OutboxEntry(id: ids.next(), account: run.account, envelopeFrom: message.envelopeFrom,
                                              envelopeTo: message.envelopeTo, reason: reason, createdAt: at,
                                              message: MessageBuilder.crlfNormalized(Array(message.text.utf8))))
            }
            for record in execution.vacationRecords {
                let key = Self.memoryKey("vacation", record.handle, record.sender.lowercased())
                memoryKeys.insert(key)
                out.memory.append(SieveMemoryRecord(account: run.account, key: key,
                                                    expiresAt: Self.adding(seconds: record.seconds, to: at)))
            }
            for record in execution.duplicateRecords {
                out.memory.append(SieveMemoryRecord(account: run.account, key: Self.memoryKey("duplicate", record.handle, record.id),
                                                    expiresAt: Self.adding(seconds: record.seconds, to: at)))
            }
        }
        return out
    }

    /// nil is INBOX. A missing mailbox is created with `:create`; otherwise, or when it
    /// cannot be created, the message goes to INBOX (RFC 5228 §2.10.6: never lose it).
    private func resolveMailbox(_ account: AccountID, _ name: String, create: Bool) async throws -> MailboxID? {
        if let existing = try mailbox(account, named: name) { return existing.id }
        guard create else { return nil }
        do {
            return try await createMailbox(account, name: name).id
        } catch let error as StalError where error.kind == .alreadyExists {
            return try mailbox(account, named: name)?.id
        } catch let error as StalError where error.kind == .invalidArgument || error.kind == .limitExceeded {
            return nil
        }
    }

    private func proposeFiltered(tenant: TenantID, accounts: [AccountID], plans: [AccountID: RecipientPlan],
                                 at: Timestamp) async throws -> [(AccountID, FilteredDeliveryOutcome)] {
        var contents: [[UInt8]] = []
        var entries: [[DeliveryEntry]] = []
        var outbox: [OutboxEntry] = []
        var memory: [SieveMemoryRecord] = []
        for account in accounts {
            let plan = plans[account]!
            for store in plan.stores {
                let id = ids.next()
                let entry = DeliveryEntry(account: account, mailbox: store.mailbox, keywords: store.keywords,
                                          emailID: EmailID(rawValue: id), threadID: ThreadID(rawValue: id))
                if let i = contents.firstIndex(of: store.content) {
                    entries[i].append(entry)
                } else {
                    contents.append(store.content)
                    entries.append([entry])
                }
            }
            outbox += plan.outbox
            memory += plan.memory
        }
        var attempt = 0
        var result: CommandResult
        while true {
            var deliveries: [DeliverCommand] = []
            for (content, group) in zip(contents, entries) {
                let blob = try await prepareBlob(content, tenant: tenant, forceWrite: attempt > 0)
                deliveries.append(DeliverCommand(tenant: tenant, blob: blob, receivedAt: at, entries: group))
            }
            do {
                result = try await propose(.deliverFiltered(DeliverFilteredCommand(deliveries: deliveries, outbox: outbox, memory: memory)))
                break
            } catch let error as StalError where error.kind == .conflict && attempt < Self.collectedBlobRetries {
                // A blob file was collected between writing and applying: write it again.
                attempt += 1
            }
        }
        guard case let .delivered(results) = result else { throw StalError(.internal, "deliverFiltered returned \(result)") }
        var stored: [AccountID: [AppendedEmail]] = [:]
        var failed: [AccountID: StalError] = [:]
        for (entry, r) in zip(entries.joined(), results) {
            switch r {
            case .success(let appended): stored[entry.account, default: []].append(appended)
            case .failure(let error): if failed[entry.account] == nil { failed[entry.account] = error }
            }
        }
        return accounts.map { account in
            if let error = failed[account] { return (account, .failed(error)) }
            return (account, .delivered(stored[account] ?? []))
        }
    }

    static func memoryKey(_ kind: String, _ handle: String, _ value: String) -> [UInt8] {
        SHA256.hash(Array("\(kind)\u{0}\(handle)\u{0}\(value)".utf8))
    }

    static func adding(seconds: Int, to t: Timestamp) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: t.millisecondsSinceEpoch + Int64(seconds) * 1000)
    }

}

/// What a delivery-time script may ask: mailbox existence, personal includes and duplicate
/// memory, all read from the recipient's account.
struct DeliverySieveHost: SieveHost {
    let store: MailStore
    let account: AccountID
    let now: Timestamp

    mutating func mailboxExists(_ name: String) -> Bool {
        (try? store.mailbox(account, named: name)) != nil
    }

    mutating func includeScript(name: String, location: SieveIncludeLocation) -> String? {
        guard location == .personal else { return nil }
        return try? store.sieveScript(account, name: name)
    }

    mutating func duplicateSeen(handle: String, id: String) -> Bool {
        store.sieveMemoryActive(account, key: MailStore.memoryKey("duplicate", handle, id), now: now)
    }
}
