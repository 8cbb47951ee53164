import StalCore
import StalShardLog
import StalStorage

/// The mail store's deterministic apply: (command, state) -> (writes, result). Everything is
/// read and written through the staged state, so a command sees the effects of the commands
/// before it in the same group, and a failing command leaves nothing behind.
public struct MailStateMachine: ShardStateMachine {
    public static let defaultChangeLogRetained: UInt64 = 100_000

    let notifier: ChangeNotifier
    /// Where collected blob files are deleted; nil leaves their files in place (a replica
    /// that keeps no blob files, or a test). `MailStore.local` passes its blob store.
    let blobs: (any MailBlobStore)?
    /// Change records kept per account; older ones are deleted as new ones are written.
    /// Part of the replicated configuration: every replica must use the same value.
    let changeLogRetained: UInt64

    public init(notifier: ChangeNotifier, blobs: (any MailBlobStore)? = nil,
                changeLogRetained: UInt64 = MailStateMachine.defaultChangeLogRetained) {
        self.notifier = notifier
        self.blobs = blobs
        self.changeLogRetained = changeLogRetained
    }

    /// A mail shard owns its node's mail metadata and blob references.
    public var stateFamilies: [ColumnFamily] { [.state, .blobs] }

    public func apply(_ command: ShardCommand, index: UInt64, state: StagedWrites) throws -> CommandResult {
        var tx = MailTransaction(state: state, changeLogRetained: changeLogRetained)
        let result: CommandResult
        switch command {
        case let .createAccount(c): result = try tx.createAccount(c)
        case let .deleteAccount(c): result = try tx.deleteAccount(c)
        case let .createMailbox(c): result = try tx.createMailbox(c)
        case let .renameMailbox(c): result = try tx.renameMailbox(c)
        case let .deleteMailbox(c): result = try tx.deleteMailbox(c)
        case let .setSubscribed(c): result = try tx.setSubscribed(c)
        case let .deliver(c): result = try tx.deliver(c)
        case let .storeKeywords(c): result = try tx.storeKeywords(c)
        case let .copyEmails(c): result = try tx.copyEmails(c)
        case let .expunge(c): result = try tx.expunge(c)
        case let .collectBlobs(c): result = try tx.collectBlobs(c, index: index)
        case let .putSieveScript(c): result = try tx.putSieveScript(c)
        case let .deleteSieveScript(c): result = try tx.deleteSieveScript(c)
        case let .activateSieveScript(c): result = try tx.activateSieveScript(c)
        case let .deliverFiltered(c): result = try tx.deliverFiltered(c)
        case let .removeOutboxEntries(c): result = try tx.removeOutboxEntries(c)
        case let .recordBlobPlacement(c):
            state.put(.blobs, Keys.blobPlacement(c.blob), c.manifest)
            result = .done
        case .addDomain, .removeDomain, .addAccount, .removeAccount, .setPassword, .addAlias, .removeAlias,
             .setCatchAll, .setAdminPassword, .setProbe:
            throw StalError(.invalidArgument, "directory command sent to a mail shard")
        }
        try tx.finish()
        return result
    }

    /// Deletes the files of collected blobs before the collection marks become visible, so
    /// a proposer that reads no new mark can rely on the file it checked.
    public func willCommit(_ command: ShardCommand, result: CommandResult) {
        guard case let .collectBlobs(c) = command, case let .blobsCollected(ids) = result, let blobs else { return }
        for id in ids { try? blobs.delete(tenant: c.tenant, id: id) }
    }

    public func committed(_ command: ShardCommand, result: CommandResult) {
        if case .failed = result { return }
        for account in Set(command.touchedAccounts).sorted() { notifier.accountChanged(account) }
    }
}

/// One command's view of the account state. Each touched account gets exactly one new
/// modseq per command, taken on its first change, and one change-log record.
struct MailTransaction {
    let state: StagedWrites
    let changeLogRetained: UInt64
    private var modSeqs: [AccountID: ModSeq] = [:]
    private var changes: [AccountID: [ChangeRecord.Change]] = [:]

    init(state: StagedWrites, changeLogRetained: UInt64) {
        self.state = state
        self.changeLogRetained = changeLogRetained
    }

    // MARK: records

    func account(_ a: AccountID) throws -> AccountRecord {
        guard let bytes = try state.get(.state, Keys.account(a)) else { throw StalError(.notFound, "account \(a)") }
        return try AccountRecord(decoding: bytes)
    }

    func put(_ a: AccountID, _ r: AccountRecord) { state.put(.state, Keys.account(a), r.encode()) }

    func mailbox(_ a: AccountID, _ m: MailboxID) throws -> MailboxRecord {
        guard let bytes = try state.get(.state, Keys.mailbox(a, m)) else { throw StalError(.notFound, "mailbox \(m)") }
        return try MailboxRecord(decoding: bytes)
    }

    func put(_ a: AccountID, _ m: MailboxID, _ r: MailboxRecord) { state.put(.state, Keys.mailbox(a, m), r.encode()) }

    func mailboxID(_ a: AccountID, named name: String) throws -> MailboxID? {
        try state.get(.state, Keys.name(a, name)).map { MailboxID(rawValue: KeyCoding.u64($0, at: 0)) }
    }

    func email(_ a: AccountID, _ e: EmailID) throws -> EmailRecord? {
        try state.get(.state, Keys.email(a, e)).map { try EmailRecord(decoding: $0) }
    }

    /// Writes the email and, for each membership, its copy in the UID index, so a mailbox
    /// listing is one range scan. Every email write goes through here to keep them equal.
    func put(_ a: AccountID, _ e: EmailID, _ r: EmailRecord) {
        let encoded = r.encode()
        state.put(.state, Keys.email(a, e), encoded)
        guard !r.memberships.isEmpty else { return }
        let entry = idBytes(e.rawValue) + encoded
        for m in r.memberships { state.put(.state, Keys.uid(a, m.mailbox, m.uid), entry) }
    }

    func emailID(_ a: AccountID, _ m: MailboxID, uid: UInt32) throws -> EmailID? {
        try state.get(.state, Keys.uid(a, m, uid)).map { EmailID(rawValue: KeyCoding.u64($0, at: 0)) }
    }

    private func idBytes(_ v: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: 8)
        w.u64(v)
        return w.bytes
    }

    /// The modseq this command assigns in `a`, allocated on first use.
    mutating func modSeq(_ a: AccountID) throws -> ModSeq {
        if let s = modSeqs[a] { return s }
        var rec = try account(a)
        rec.modSeq = rec.modSeq.next()
        put(a, rec)
        modSeqs[a] = rec.modSeq
        return rec.modSeq
    }

    mutating func record(_ a: AccountID, _ change: ChangeRecord.Change) {
        changes[a, default: []].append(change)
    }

    func finish() throws {
        for (a, list) in changes.sorted(by: { $0.key < $1.key }) {
            guard let s = modSeqs[a] else { continue }
            state.put(.state, Keys.change(a, s), ChangeRecord(changes: list).encode())
            if s.rawValue > changeLogRetained {
                state.delete(.state, Keys.change(a, ModSeq(rawValue: s.rawValue - changeLogRetained)))
            }
        }
    }

    // MARK: accounts

    mutating func createAccount(_ c: CreateAccountCommand) throws -> CommandResult {
        guard try state.get(.state, Keys.account(c.account)) == nil else {
            throw StalError(.alreadyExists, "account \(c.account)")
        }
        guard let inbox = c.mailboxes.first(where: { $0.role == .inbox }) else {
            throw StalError(.invalidArgument, "account needs an inbox")
        }
        let seconds = UInt32(truncatingIfNeeded: max(c.createdAt.secondsSinceEpoch, 1))
        let rec = AccountRecord(tenant: c.tenant, modSeq: .zero, quotaBytes: c.quotaBytes, usedBytes: 0,
                                inbox: inbox.id, nextUIDValidity: seconds)
        put(c.account, rec)
        for seed in c.mailboxes {
            let name = try MailboxNames.normalize(seed.name)
            guard try mailboxID(c.account, named: name) == nil else { throw StalError(.alreadyExists, "mailbox \(name)") }
            _ = try insertMailbox(c.account, id: seed.id, name: name, parent: nil, role: seed.role)
            state.put(.state, Keys.subscription(c.account, name), [])
        }
        return .done
    }

    mutating func deleteAccount(_ c: DeleteAccountCommand) throws -> CommandResult {
        let rec = try account(c.account)
        for pair in try state.scan(.state, prefix: Keys.emails(c.account)) {
            let email = try EmailRecord(decoding: pair.value)
            try releaseBlob(rec.tenant, email.blob)
        }
        for prefix in [Keys.mailboxes(c.account), Keys.names(c.account), Keys.subscriptions(c.account),
                       Keys.emails(c.account), Keys.uidsOfAccount(c.account), Keys.changes(c.account),
                       SieveKeys.scripts(c.account), SieveKeys.active(c.account), SieveKeys.memories(c.account)] {
            for pair in try state.scan(.state, prefix: prefix) { state.delete(.state, pair.key) }
        }
        state.delete(.state, Keys.account(c.account))
        modSeqs[c.account] = nil
        changes[c.account] = nil
        return .done
    }

    // MARK: mailboxes

    private mutating func insertMailbox(_ a: AccountID, id: MailboxID, name: String, parent: MailboxID?,
                                        role: MailboxRole?) throws -> MailboxRecord {
        guard try state.get(.state, Keys.mailbox(a, id)) == nil else { throw StalError(.conflict, "mailbox id \(id) in use") }
        let s = try modSeq(a)
        var acct = try account(a)
        let mb = MailboxRecord(name: name, parent: parent, role: role, uidValidity: acct.nextUIDValidity, uidNext: 1,
                               highestModSeq: s, total: 0, unseen: 0)
        acct.nextUIDValidity = acct.nextUIDValidity == UInt32.max ? 1 : acct.nextUIDValidity + 1
        put(a, acct)
        put(a, id, mb)
        state.put(.state, Keys.name(a, name), idBytes(id.rawValue))
        record(a, .mailboxCreated(id))
        return mb
    }

    /// Creates the missing levels of `parts` with the given ids; returns the leaf's id and
    /// whether it already existed.
    private mutating func ensurePath(_ a: AccountID, _ parts: [String], ids: [MailboxID], leafRole: MailboxRole?)
        throws -> (MailboxID, existed: Bool) {
        guard ids.count == parts.count else { throw StalError(.invalidArgument, "need one mailbox id per level") }
        var parent: MailboxID?
        for i in parts.indices {
            let path = parts[0...i].joined(separator: "/")
            if let existing = try mailboxID(a, named: path) {
                parent = existing
                if i == parts.count - 1 { return (existing, true) }
                continue
            }
            _ = try insertMailbox(a, id: ids[i], name: path, parent: parent, role: i == parts.count - 1 ? leafRole : nil)
            parent = ids[i]
        }
        return (parent!, false)
    }

    mutating func createMailbox(_ c: CreateMailboxCommand) throws -> CommandResult {
        _ = try account(c.account)
        let parts = try MailboxNames.components(c.name)
        let (id, existed) = try ensurePath(c.account, parts, ids: c.ids, leafRole: c.role)
        if existed { throw StalError(.alreadyExists, "mailbox \(parts.joined(separator: "/"))") }
        return .mailboxCreated(id)
    }

    private func children(_ a: AccountID, of name: String) throws -> [(name: String, id: MailboxID)] {
        let prefix = Keys.name(a, name + "/")
        return try state.scan(.state, prefix: prefix).map { pair in
            let n = String(decoding: pair.key[Keys.names(a).count...], as: UTF8.self)
            return (n, MailboxID(rawValue: KeyCoding.u64(pair.value, at: 0)))
        }
    }

    mutating func renameMailbox(_ c: RenameMailboxCommand) throws -> CommandResult {
        let acct = try account(c.account)
        var source = try mailbox(c.account, c.mailbox)
        let parts = try MailboxNames.components(c.newName)
        let newName = parts.joined(separator: "/")
        guard try mailboxID(c.account, named: newName) == nil else { throw StalError(.alreadyExists, "mailbox \(newName)") }
        guard !newName.hasPrefix(source.name + "/") else {
            throw StalError(.invalidArgument, "cannot rename \(source.name) below itself")
        }
        if c.mailbox == acct.inbox {
            let (target, _) = try ensurePath(c.account, parts, ids: c.ids, leafRole: nil)
            let uids = try state.scan(.state, prefix: Keys.uids(c.account, c.mailbox)).map {
                KeyCoding.u32($0.key, at: $0.key.count - 4)
            }
            _ = try moveOrCopy(c.account, source: c.mailbox, uids: uids, destination: target, move: true, newIDs: [])
            return .mailboxCreated(target)
        }
        var parent: MailboxID?
        if parts.count > 1 {
            let (p, _) = try ensurePath(c.account, Array(parts.dropLast()), ids: Array(c.ids.dropLast()), leafRole: nil)
            parent = p
        }
        let s = try modSeq(c.account)
        let oldName = source.name
        for child in try children(c.account, of: oldName) {
            var rec = try mailbox(c.account, child.id)
            let renamed = newName + child.name.dropFirst(oldName.count)
            try moveName(c.account, from: child.name, to: renamed, id: child.id)
            rec.name = renamed
            rec.highestModSeq = s
            put(c.account, child.id, rec)
            record(c.account, .mailboxUpdated(child.id))
        }
        try moveName(c.account, from: oldName, to: newName, id: c.mailbox)
        source.name = newName
        source.parent = parent
        source.highestModSeq = s
        put(c.account, c.mailbox, source)
        record(c.account, .mailboxUpdated(c.mailbox))
        return .mailboxCreated(c.mailbox)
    }

    /// Moves the name index entry and the subscription (subscriptions follow renames, as in Dovecot).
    private func moveName(_ a: AccountID, from old: String, to new: String, id: MailboxID) throws {
        state.delete(.state, Keys.name(a, old))
        state.put(.state, Keys.name(a, new), idBytes(id.rawValue))
        if try state.get(.state, Keys.subscription(a, old)) != nil {
            state.delete(.state, Keys.subscription(a, old))
            state.put(.state, Keys.subscription(a, new), [])
        }
    }

    mutating func deleteMailbox(_ c: DeleteMailboxCommand) throws -> CommandResult {
        let acct = try account(c.account)
        let mb = try mailbox(c.account, c.mailbox)
        guard c.mailbox != acct.inbox else { throw StalError(.invalidArgument, "INBOX cannot be deleted") }
        guard try children(c.account, of: mb.name).isEmpty else {
            throw StalError(.conflict, "mailbox \(mb.name) has child mailboxes")
        }
        let s = try modSeq(c.account)
        for pair in try state.scan(.state, prefix: Keys.uids(c.account, c.mailbox)) {
            let uid = KeyCoding.u32(pair.key, at: pair.key.count - 4)
            let emailID = EmailID(rawValue: KeyCoding.u64(pair.value, at: 0))
            try removeMembership(c.account, tenant: acct.tenant, emailID: emailID, mailbox: c.mailbox, uid: uid,
                                 modSeq: s, adjustCounts: false)
        }
        state.delete(.state, Keys.mailbox(c.account, c.mailbox))
        state.delete(.state, Keys.name(c.account, mb.name))
        record(c.account, .mailboxDestroyed(c.mailbox))
        return .done
    }

    mutating func setSubscribed(_ c: SetSubscribedCommand) throws -> CommandResult {
        _ = try account(c.account)
        let name = try MailboxNames.normalize(c.name)
        let key = Keys.subscription(c.account, name)
        let isSubscribed = try state.get(.state, key) != nil
        guard isSubscribed != c.subscribed else { return .done }
        if c.subscribed { state.put(.state, key, []) } else { state.delete(.state, key) }
        if let id = try mailboxID(c.account, named: name) {
            let s = try modSeq(c.account)
            var mb = try mailbox(c.account, id)
            mb.highestModSeq = s
            put(c.account, id, mb)
            record(c.account, .mailboxUpdated(id))
        }
        return .done
    }

    // MARK: emails

    private func retainBlob(_ tenant: TenantID, _ blob: BlobReference, count: UInt64) throws {
        let key = Keys.blobRecord(tenant, blob.id)
        if let bytes = try state.get(.blobs, key) {
            var rec = try BlobRecord(decoding: bytes)
            rec.references += count
            state.put(.blobs, key, rec.encode())
            return
        }
        if let inline = blob.inlineCompressed {
            state.put(.blobs, Keys.blobData(tenant, blob.id), inline)
        } else {
            let mark = try state.get(.blobs, Keys.blobCollected(tenant, blob.id)).map { KeyCoding.u64($0, at: 0) } ?? 0
            guard mark == blob.collectedMark else {
                throw StalError(.conflict, "blob \(blob.id) was collected after it was written; write it again")
            }
            // A recorded placement stays: its shards are never collected while it is recorded,
            // and healing may have moved them since; a concurrent write of the same blob
            // (which found no record) only left orphans beside them.
            let placementKey = Keys.blobPlacement(MailStore.blobStoreID(tenant: tenant, blob.id))
            if let placement = blob.placement, try state.get(.blobs, placementKey) == nil {
                state.put(.blobs, placementKey, placement)
            }
        }
        state.delete(.blobs, Keys.blobGarbage(tenant, blob.id))
        state.put(.blobs, key, BlobRecord(references: count, size: blob.size, inline: blob.inlineCompressed != nil).encode())
    }

    private func retainExistingBlob(_ tenant: TenantID, _ id: BlobID) throws {
        let key = Keys.blobRecord(tenant, id)
        guard let bytes = try state.get(.blobs, key) else { throw StalError(.corrupted, "blob \(id) has no record") }
        var rec = try BlobRecord(decoding: bytes)
        rec.references += 1
        state.put(.blobs, key, rec.encode())
    }

    /// Drops one reference; the last one deletes an inline blob's bytes, or marks a
    /// blob-store blob collectable.
    private func releaseBlob(_ tenant: TenantID, _ id: BlobID) throws {
        let key = Keys.blobRecord(tenant, id)
        guard let bytes = try state.get(.blobs, key) else { throw StalError(.corrupted, "blob \(id) has no record") }
        var rec = try BlobRecord(decoding: bytes)
        if rec.references > 1 {
            rec.references -= 1
            state.put(.blobs, key, rec.encode())
        } else {
            state.delete(.blobs, key)
            if rec.inline {
                state.delete(.blobs, Keys.blobData(tenant, id))
            } else {
                state.put(.blobs, Keys.blobGarbage(tenant, id), [])
            }
        }
    }

    mutating func deliver(_ c: DeliverCommand) throws -> CommandResult {
        var outcomes: [Result<AppendedEmail, StalError>] = []
        var retained: UInt64 = 0
        for entry in c.entries {
            do {
                var acct = try account(entry.account)
                guard acct.tenant == c.tenant else {
                    throw StalError(.invalidArgument, "account \(entry.account) is not in tenant \(c.tenant)")
                }
                let mailboxID = entry.mailbox ?? acct.inbox
                var mb = try mailbox(entry.account, mailboxID)
                if let quota = acct.quotaBytes, acct.usedBytes + c.blob.size > quota {
                    throw StalError(.quotaExceeded, "account \(entry.account) is over quota")
                }
                guard try email(entry.account, entry.emailID) == nil else {
                    throw StalError(.conflict, "email id \(entry.emailID) in use")
                }
                guard mb.uidNext < UInt32.max else { throw StalError(.limitExceeded, "mailbox UIDs exhausted") }
                let s = try modSeq(entry.account)
                acct = try account(entry.account)
                acct.usedBytes += c.blob.size
                put(entry.account, acct)
                let uid = mb.uidNext
                mb.uidNext += 1
                mb.total += 1
                if !entry.keywords.contains(.seen) { mb.unseen += 1 }
                mb.highestModSeq = s
                put(entry.account, mailboxID, mb)
                put(entry.account, entry.emailID,
                    EmailRecord(blob: c.blob.id, size: c.blob.size, receivedAt: c.receivedAt, keywords: entry.keywords,
                                memberships: [Membership(mailbox: mailboxID, uid: uid)], modSeq: s, threadID: entry.threadID))
                record(entry.account, .emailCreated(entry.emailID))
                record(entry.account, .mailboxUpdated(mailboxID))
                retained += 1
                outcomes.append(.success(AppendedEmail(account: entry.account, mailbox: mailboxID, emailID: entry.emailID,
                                                       uid: uid, uidValidity: mb.uidValidity, modSeq: s)))
            } catch let error as StalError {
                outcomes.append(.failure(error))
            }
        }
        if retained > 0 { try retainBlob(c.tenant, c.blob, count: retained) }
        return .delivered(outcomes)
    }

    mutating func storeKeywords(_ c: StoreKeywordsCommand) throws -> CommandResult {
        _ = try account(c.account)
        _ = try mailbox(c.account, c.mailbox)
        var changed: [UInt32] = []
        var failed: [UInt32] = []
        for uid in Array(Set(c.uids)).sorted() {
            guard let emailID = try emailID(c.account, c.mailbox, uid: uid), var rec = try email(c.account, emailID) else {
                continue
            }
            if let since = c.unchangedSince, rec.modSeq > since {
                failed.append(uid)
                continue
            }
            let updated = c.operation.applied(to: rec.keywords, c.keywords)
            guard updated != rec.keywords else { continue }
            let s = try modSeq(c.account)
            let seenDelta = Int(updated.contains(.seen) ? 0 : 1) - Int(rec.keywords.contains(.seen) ? 0 : 1)
            for m in rec.memberships {
                var mb = try mailbox(c.account, m.mailbox)
                // Clamped: a counter bug must not trap the log writer.
                mb.unseen = UInt32(clamping: Int(mb.unseen) + seenDelta)
                mb.highestModSeq = s
                put(c.account, m.mailbox, mb)
                record(c.account, .mailboxUpdated(m.mailbox))
            }
            rec.keywords = updated
            rec.modSeq = s
            put(c.account, emailID, rec)
            record(c.account, .emailUpdated(emailID))
            changed.append(uid)
        }
        return .keywordsStored(changed: changed, failed: failed, modSeq: try account(c.account).modSeq)
    }

    mutating func copyEmails(_ c: CopyEmailsCommand) throws -> CommandResult {
        _ = try account(c.account)
        _ = try mailbox(c.account, c.source)
        _ = try mailbox(c.account, c.destination)
        guard c.move || c.newEmailIDs.count == c.uids.count else {
            throw StalError(.invalidArgument, "copy needs one new email id per UID")
        }
        return try moveOrCopy(c.account, source: c.source, uids: c.uids, destination: c.destination,
                              move: c.move, newIDs: c.newEmailIDs)
    }

    private mutating func moveOrCopy(_ a: AccountID, source: MailboxID, uids: [UInt32], destination: MailboxID,
                                     move: Bool, newIDs: [EmailID]) throws -> CommandResult {
        var order: [(uid: UInt32, newID: EmailID?)] = []
        var seen = Set<UInt32>()
        for (i, uid) in uids.enumerated() where seen.insert(uid).inserted {
            order.append((uid, move ? nil : newIDs[i]))
        }
        order.sort { $0.uid < $1.uid }
        var mapping: [UIDPair] = []
        for item in order {
            guard let emailID = try emailID(a, source, uid: item.uid), var rec = try email(a, emailID) else { continue }
            let s = try modSeq(a)
            var acct = try account(a)
            var dest = try mailbox(a, destination)
            guard dest.uidNext < UInt32.max else { throw StalError(.limitExceeded, "mailbox UIDs exhausted") }
            let newUID = dest.uidNext
            if move {
                try removeMembership(a, tenant: acct.tenant, emailID: emailID, mailbox: source, uid: item.uid,
                                     modSeq: s, adjustCounts: true, keepEmail: true)
                rec = try email(a, emailID)!
                dest = try mailbox(a, destination)
                rec.memberships.append(Membership(mailbox: destination, uid: newUID))
                rec.modSeq = s
                put(a, emailID, rec)
                record(a, .emailUpdated(emailID))
            } else {
                let newID = item.newID!
                guard try email(a, newID) == nil else { throw StalError(.conflict, "email id \(newID) in use") }
                if let quota = acct.quotaBytes, acct.usedBytes + rec.size > quota {
                    throw StalError(.quotaExceeded, "account \(a) is over quota")
                }
                acct.usedBytes += rec.size
                put(a, acct)
                try retainExistingBlob(acct.tenant, rec.blob)
                put(a, newID, EmailRecord(blob: rec.blob, size: rec.size, receivedAt: rec.receivedAt, keywords: rec.keywords,
                                          memberships: [Membership(mailbox: destination, uid: newUID)], modSeq: s,
                                          threadID: rec.threadID))
                record(a, .emailCreated(newID))
            }
            dest.uidNext += 1
            dest.total += 1
            if !rec.keywords.contains(.seen) { dest.unseen += 1 }
            dest.highestModSeq = s
            put(a, destination, dest)
            record(a, .mailboxUpdated(destination))
            mapping.append(UIDPair(source: item.uid, destination: newUID))
        }
        let dest = try mailbox(a, destination)
        return .copied(uidValidity: dest.uidValidity, mapping: mapping, modSeq: try account(a).modSeq)
    }

    /// Takes one (mailbox, uid) membership away; an email left in no mailbox is destroyed
    /// and its blob reference released.
    private mutating func removeMembership(_ a: AccountID, tenant: TenantID, emailID: EmailID, mailbox m: MailboxID,
                                           uid: UInt32, modSeq s: ModSeq, adjustCounts: Bool,
                                           keepEmail: Bool = false) throws {
        state.delete(.state, Keys.uid(a, m, uid))
        record(a, .uidRemoved(m, uid))
        guard var rec = try email(a, emailID) else { return }
        rec.memberships.removeAll { $0.mailbox == m && $0.uid == uid }
        if adjustCounts {
            var mb = try mailbox(a, m)
            mb.total = mb.total > 0 ? mb.total - 1 : 0
            if !rec.keywords.contains(.seen) { mb.unseen = mb.unseen > 0 ? mb.unseen - 1 : 0 }
            mb.highestModSeq = s
            put(a, m, mb)
            record(a, .mailboxUpdated(m))
        }
        if rec.memberships.isEmpty && !keepEmail {
            state.delete(.state, Keys.email(a, emailID))
            var acct = try account(a)
            acct.usedBytes -= min(acct.usedBytes, rec.size)
            put(a, acct)
            try releaseBlob(tenant, rec.blob)
            record(a, .emailDestroyed(emailID))
        } else {
            rec.modSeq = s
            put(a, emailID, rec)
            record(a, .emailUpdated(emailID))
        }
    }

    /// Marks up to `limit` unreferenced blob-store blobs collected at this log index.
    func collectBlobs(_ c: CollectBlobsCommand, index: UInt64) throws -> CommandResult {
        var collected: [BlobID] = []
        let prefix = Keys.blobGarbage(c.tenant)
        for pair in try state.scan(.blobs, prefix: prefix, limit: Int(c.limit)) {
            guard let id = BlobID(digest: Array(pair.key[prefix.count...])) else {
                throw StalError(.corrupted, "garbage key of \(pair.key.count) bytes")
            }
            state.delete(.blobs, pair.key)
            guard try state.get(.blobs, Keys.blobRecord(c.tenant, id)) == nil else { continue }
            state.put(.blobs, Keys.blobCollected(c.tenant, id), idBytes(index))
            state.delete(.blobs, Keys.blobPlacement(MailStore.blobStoreID(tenant: c.tenant, id)))
            collected.append(id)
        }
        return .blobsCollected(collected)
    }

    mutating func expunge(_ c: ExpungeCommand) throws -> CommandResult {
        let acct = try account(c.account)
        _ = try mailbox(c.account, c.mailbox)
        var candidates: [(UInt32, EmailID)] = []
        if let uids = c.uids {
            for uid in Array(Set(uids)).sorted() {
                if let id = try emailID(c.account, c.mailbox, uid: uid) { candidates.append((uid, id)) }
            }
        } else {
            for pair in try state.scan(.state, prefix: Keys.uids(c.account, c.mailbox)) {
                candidates.append((KeyCoding.u32(pair.key, at: pair.key.count - 4), EmailID(rawValue: KeyCoding.u64(pair.value, at: 0))))
            }
        }
        var expunged: [UInt32] = []
        for (uid, id) in candidates {
            guard let rec = try email(c.account, id), rec.keywords.contains(.deleted) else { continue }
            let s = try modSeq(c.account)
            try removeMembership(c.account, tenant: acct.tenant, emailID: id, mailbox: c.mailbox, uid: uid,
                                 modSeq: s, adjustCounts: true)
            expunged.append(uid)
        }
        return .expunged(uids: expunged, modSeq: try account(c.account).modSeq)
    }
}
