import StalCore
import StalStorage

/// Every mutation of replicated state. The binary encoding starts with a format version
/// byte, then a tag byte per case; a replica refuses versions it does not know instead of
/// misreading them. New cases get new tags; a changed payload layout gets a new version.
public enum ShardCommand: Hashable, Sendable {
    case createAccount(CreateAccountCommand)
    case deleteAccount(DeleteAccountCommand)
    case createMailbox(CreateMailboxCommand)
    case renameMailbox(RenameMailboxCommand)
    case deleteMailbox(DeleteMailboxCommand)
    case setSubscribed(SetSubscribedCommand)
    case deliver(DeliverCommand)
    case storeKeywords(StoreKeywordsCommand)
    case copyEmails(CopyEmailsCommand)
    case expunge(ExpungeCommand)
    case collectBlobs(CollectBlobsCommand)

    case addDomain(AddDomainCommand)
    case removeDomain(RemoveDomainCommand)
    case addAccount(AddAccountCommand)
    case removeAccount(RemoveAccountCommand)
    case setPassword(SetPasswordCommand)
    case addAlias(AddAliasCommand)
    case removeAlias(RemoveAliasCommand)
    case setCatchAll(SetCatchAllCommand)
    case setAdminPassword(SetAdminPasswordCommand)
    case setProbe(SetProbeCommand)

    // Per-account Sieve scripts, filtered delivery and its outbox (SieveCommands.swift).
    case putSieveScript(PutSieveScriptCommand)
    case deleteSieveScript(DeleteSieveScriptCommand)
    case activateSieveScript(ActivateSieveScriptCommand)
    case deliverFiltered(DeliverFilteredCommand)
    case removeOutboxEntries(RemoveOutboxEntriesCommand)

    /// Where an erasure-coded blob's shards live (MailCommands.swift).
    case recordBlobPlacement(RecordBlobPlacementCommand)

    public static let encodingVersion: UInt8 = 1
    /// Upper bound on list lengths inside a command, checked before allocating.
    public static let elementsMax = 1_000_000

    /// Mail accounts whose state this command may change (for change notifications).
    public var touchedAccounts: [AccountID] {
        switch self {
        case let .createAccount(c): return [c.account]
        case let .deleteAccount(c): return [c.account]
        case let .createMailbox(c): return [c.account]
        case let .renameMailbox(c): return [c.account]
        case let .deleteMailbox(c): return [c.account]
        case let .setSubscribed(c): return [c.account]
        case let .deliver(c): return c.entries.map(\.account)
        case let .storeKeywords(c): return [c.account]
        case let .copyEmails(c): return [c.account]
        case let .expunge(c): return [c.account]
        case .collectBlobs, .recordBlobPlacement: return []
        case .addDomain, .removeDomain, .addAccount, .removeAccount, .setPassword, .addAlias,
             .removeAlias, .setCatchAll, .setAdminPassword, .setProbe:
            return []
        case .putSieveScript, .deleteSieveScript, .activateSieveScript, .deliverFiltered, .removeOutboxEntries:
            return sieveTouchedAccounts
        }
    }

    // MARK: encoding

    private enum Tag: UInt8 {
        case createAccount = 1, deleteAccount, createMailbox, renameMailbox, deleteMailbox, setSubscribed,
             deliver, storeKeywords, copyEmails, expunge, collectBlobs
        case addDomain = 64, removeDomain, addAccount, removeAccount, setPassword, addAlias, removeAlias,
             setCatchAll, setAdminPassword
        case setProbe = 90
        case putSieveScript = 20, deleteSieveScript, activateSieveScript, deliverFiltered, removeOutboxEntries
        case recordBlobPlacement = 30
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        w.u8(Self.encodingVersion)
        switch self {
        case let .createAccount(c):
            w.u8(Tag.createAccount.rawValue)
            w.u64(c.account.rawValue); w.u64(c.tenant.rawValue); w.i64(c.createdAt.millisecondsSinceEpoch)
            w.optionalU64(c.quotaBytes)
            w.u32(UInt32(c.mailboxes.count))
            for m in c.mailboxes { w.u64(m.id.rawValue); w.string(m.name); Self.encode(role: m.role, &w) }
        case let .deleteAccount(c):
            w.u8(Tag.deleteAccount.rawValue); w.u64(c.account.rawValue)
        case let .createMailbox(c):
            w.u8(Tag.createMailbox.rawValue)
            w.u64(c.account.rawValue); w.string(c.name); Self.encode(role: c.role, &w); Self.encode(ids: c.ids, &w)
        case let .renameMailbox(c):
            w.u8(Tag.renameMailbox.rawValue)
            w.u64(c.account.rawValue); w.u64(c.mailbox.rawValue); w.string(c.newName); Self.encode(ids: c.ids, &w)
        case let .deleteMailbox(c):
            w.u8(Tag.deleteMailbox.rawValue); w.u64(c.account.rawValue); w.u64(c.mailbox.rawValue)
        case let .setSubscribed(c):
            w.u8(Tag.setSubscribed.rawValue); w.u64(c.account.rawValue); w.string(c.name); w.bool(c.subscribed)
        case let .deliver(c):
            w.u8(Tag.deliver.rawValue)
            w.u64(c.tenant.rawValue)
            w.raw(c.blob.id.digest); w.u64(c.blob.size)
            Self.encode(blobBody: c.blob, &w)
            w.u64(c.blob.collectedMark)
            w.i64(c.receivedAt.millisecondsSinceEpoch)
            w.u32(UInt32(c.entries.count))
            for e in c.entries {
                w.u64(e.account.rawValue); w.optionalU64(e.mailbox?.rawValue)
                Self.encode(keywords: e.keywords, &w)
                w.u64(e.emailID.rawValue); w.u64(e.threadID.rawValue)
            }
        case let .storeKeywords(c):
            w.u8(Tag.storeKeywords.rawValue)
            w.u64(c.account.rawValue); w.u64(c.mailbox.rawValue); Self.encode(uids: c.uids, &w)
            w.u8(c.operation.rawValue); Self.encode(keywords: c.keywords, &w); w.optionalU64(c.unchangedSince?.rawValue)
        case let .copyEmails(c):
            w.u8(Tag.copyEmails.rawValue)
            w.u64(c.account.rawValue); w.u64(c.source.rawValue); Self.encode(uids: c.uids, &w)
            w.u64(c.destination.rawValue); w.bool(c.move)
            w.u32(UInt32(c.newEmailIDs.count)); for id in c.newEmailIDs { w.u64(id.rawValue) }
        case let .expunge(c):
            w.u8(Tag.expunge.rawValue)
            w.u64(c.account.rawValue); w.u64(c.mailbox.rawValue)
            if let uids = c.uids { w.u8(1); Self.encode(uids: uids, &w) } else { w.u8(0) }
        case let .collectBlobs(c):
            w.u8(Tag.collectBlobs.rawValue); w.u64(c.tenant.rawValue); w.u32(c.limit)
        case let .recordBlobPlacement(c):
            w.u8(Tag.recordBlobPlacement.rawValue); w.raw(c.blob.digest); w.lengthPrefixed(c.manifest)
        case let .addDomain(c):
            w.u8(Tag.addDomain.rawValue); w.u64(c.tenant.rawValue); w.string(c.domain)
        case let .removeDomain(c):
            w.u8(Tag.removeDomain.rawValue); w.string(c.domain)
        case let .addAccount(c):
            w.u8(Tag.addAccount.rawValue)
            w.u64(c.account.rawValue); w.u64(c.tenant.rawValue); w.string(c.address); w.string(c.displayName)
            w.string(c.passwordHash); w.optionalU64(c.quotaBytes)
        case let .removeAccount(c):
            w.u8(Tag.removeAccount.rawValue); w.u64(c.account.rawValue)
        case let .setPassword(c):
            w.u8(Tag.setPassword.rawValue); w.u64(c.account.rawValue); w.string(c.passwordHash)
        case let .addAlias(c):
            w.u8(Tag.addAlias.rawValue); w.string(c.alias); w.u64(c.account.rawValue)
        case let .removeAlias(c):
            w.u8(Tag.removeAlias.rawValue); w.string(c.alias)
        case let .setCatchAll(c):
            w.u8(Tag.setCatchAll.rawValue); w.string(c.domain); w.optionalU64(c.account?.rawValue)
        case let .setAdminPassword(c):
            w.u8(Tag.setAdminPassword.rawValue); w.string(c.name); w.string(c.passwordHash)
        case let .setProbe(c):
            w.u8(Tag.setProbe.rawValue); w.string(c.key); w.lengthPrefixed(c.value)
        case .putSieveScript: w.u8(Tag.putSieveScript.rawValue); encodeSieve(&w)
        case .deleteSieveScript: w.u8(Tag.deleteSieveScript.rawValue); encodeSieve(&w)
        case .activateSieveScript: w.u8(Tag.activateSieveScript.rawValue); encodeSieve(&w)
        case .deliverFiltered: w.u8(Tag.deliverFiltered.rawValue); encodeSieve(&w)
        case .removeOutboxEntries: w.u8(Tag.removeOutboxEntries.rawValue); encodeSieve(&w)
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        let version = try r.u8()
        guard version == Self.encodingVersion else {
            throw StalError(.corrupted, "shard command encoding version \(version) is not supported")
        }
        let rawTag = try r.u8()
        guard let tag = Tag(rawValue: rawTag) else { throw StalError(.corrupted, "unknown shard command tag \(rawTag)") }
        switch tag {
        case .createAccount:
            let account = AccountID(rawValue: try r.u64()), tenant = TenantID(rawValue: try r.u64())
            let createdAt = Timestamp(millisecondsSinceEpoch: try r.i64())
            let quota = try r.optionalU64()
            let n = try r.count(minElementBytes: 13)
            var seeds: [MailboxSeed] = []
            for _ in 0..<n {
                seeds.append(MailboxSeed(id: MailboxID(rawValue: try r.u64()), name: try r.string(), role: try Self.decodeRole(&r)))
            }
            self = .createAccount(CreateAccountCommand(account: account, tenant: tenant, createdAt: createdAt,
                                                       quotaBytes: quota, mailboxes: seeds))
        case .deleteAccount:
            self = .deleteAccount(DeleteAccountCommand(account: AccountID(rawValue: try r.u64())))
        case .createMailbox:
            let account = AccountID(rawValue: try r.u64()), name = try r.string(), role = try Self.decodeRole(&r)
            self = .createMailbox(CreateMailboxCommand(account: account, name: name, role: role, ids: try Self.decodeIDs(&r)))
        case .renameMailbox:
            let account = AccountID(rawValue: try r.u64()), mailbox = MailboxID(rawValue: try r.u64())
            let name = try r.string()
            self = .renameMailbox(RenameMailboxCommand(account: account, mailbox: mailbox, newName: name, ids: try Self.decodeIDs(&r)))
        case .deleteMailbox:
            self = .deleteMailbox(DeleteMailboxCommand(account: AccountID(rawValue: try r.u64()), mailbox: MailboxID(rawValue: try r.u64())))
        case .setSubscribed:
            let account = AccountID(rawValue: try r.u64()), name = try r.string()
            self = .setSubscribed(SetSubscribedCommand(account: account, name: name, subscribed: try r.bool()))
        case .deliver:
            let tenant = TenantID(rawValue: try r.u64())
            guard let id = BlobID(digest: try r.raw(32)) else { throw StalError(.corrupted, "blob id") }
            let size = try r.u64()
            let (inline, placement) = try Self.decodeBlobBody(&r)
            let mark = try r.u64()
            let receivedAt = Timestamp(millisecondsSinceEpoch: try r.i64())
            let n = try r.count(minElementBytes: 29)
            var entries: [DeliveryEntry] = []
            for _ in 0..<n {
                let account = AccountID(rawValue: try r.u64())
                let mailbox = try r.optionalU64().map(MailboxID.init(rawValue:))
                let keywords = try Self.decodeKeywords(&r)
                entries.append(DeliveryEntry(account: account, mailbox: mailbox, keywords: keywords,
                                             emailID: EmailID(rawValue: try r.u64()), threadID: ThreadID(rawValue: try r.u64())))
            }
            self = .deliver(DeliverCommand(tenant: tenant,
                                           blob: BlobReference(id: id, size: size, inlineCompressed: inline, collectedMark: mark,
                                                               placement: placement),
                                           receivedAt: receivedAt, entries: entries))
        case .storeKeywords:
            let account = AccountID(rawValue: try r.u64()), mailbox = MailboxID(rawValue: try r.u64())
            let uids = try Self.decodeUIDs(&r)
            let rawOp = try r.u8()
            guard let op = KeywordOperation(rawValue: rawOp) else { throw StalError(.corrupted, "keyword operation \(rawOp)") }
            let keywords = try Self.decodeKeywords(&r)
            let since = try r.optionalU64().map(ModSeq.init(rawValue:))
            self = .storeKeywords(StoreKeywordsCommand(account: account, mailbox: mailbox, uids: uids, operation: op,
                                                       keywords: keywords, unchangedSince: since))
        case .copyEmails:
            let account = AccountID(rawValue: try r.u64()), source = MailboxID(rawValue: try r.u64())
            let uids = try Self.decodeUIDs(&r)
            let destination = MailboxID(rawValue: try r.u64()), move = try r.bool()
            let n = try r.count(minElementBytes: 8)
            var ids: [EmailID] = []
            for _ in 0..<n { ids.append(EmailID(rawValue: try r.u64())) }
            self = .copyEmails(CopyEmailsCommand(account: account, source: source, uids: uids, destination: destination,
                                                 move: move, newEmailIDs: ids))
        case .expunge:
            let account = AccountID(rawValue: try r.u64()), mailbox = MailboxID(rawValue: try r.u64())
            let uids: [UInt32]? = try r.bool() ? try Self.decodeUIDs(&r) : nil
            self = .expunge(ExpungeCommand(account: account, mailbox: mailbox, uids: uids))
        case .collectBlobs:
            let tenant = TenantID(rawValue: try r.u64())
            self = .collectBlobs(CollectBlobsCommand(tenant: tenant, limit: try r.u32()))
        case .recordBlobPlacement:
            guard let blob = BlobID(digest: try r.raw(32)) else { throw StalError(.corrupted, "blob id") }
            self = .recordBlobPlacement(RecordBlobPlacementCommand(
                blob: blob, manifest: try r.lengthPrefixed(max: RecordBlobPlacementCommand.manifestBytesMax)))
        case .addDomain:
            let tenant = TenantID(rawValue: try r.u64())
            self = .addDomain(AddDomainCommand(tenant: tenant, domain: try r.string()))
        case .removeDomain:
            self = .removeDomain(RemoveDomainCommand(domain: try r.string()))
        case .addAccount:
            let account = AccountID(rawValue: try r.u64()), tenant = TenantID(rawValue: try r.u64())
            let address = try r.string(), display = try r.string(), hash = try r.string()
            self = .addAccount(AddAccountCommand(account: account, tenant: tenant, address: address, displayName: display,
                                                 passwordHash: hash, quotaBytes: try r.optionalU64()))
        case .removeAccount:
            self = .removeAccount(RemoveAccountCommand(account: AccountID(rawValue: try r.u64())))
        case .setPassword:
            let account = AccountID(rawValue: try r.u64())
            self = .setPassword(SetPasswordCommand(account: account, passwordHash: try r.string()))
        case .addAlias:
            let alias = try r.string()
            self = .addAlias(AddAliasCommand(alias: alias, account: AccountID(rawValue: try r.u64())))
        case .removeAlias:
            self = .removeAlias(RemoveAliasCommand(alias: try r.string()))
        case .setCatchAll:
            let domain = try r.string()
            self = .setCatchAll(SetCatchAllCommand(domain: domain, account: try r.optionalU64().map(AccountID.init(rawValue:))))
        case .setAdminPassword:
            let name = try r.string()
            self = .setAdminPassword(SetAdminPasswordCommand(name: name, passwordHash: try r.string()))
        case .setProbe:
            let key = try r.string(max: SetProbeCommand.keyBytesMax)
            self = .setProbe(SetProbeCommand(key: key, value: try r.lengthPrefixed(max: SetProbeCommand.valueBytesMax)))
        case .putSieveScript: self = try Self.decodePutSieveScript(&r)
        case .deleteSieveScript: self = try Self.decodeDeleteSieveScript(&r)
        case .activateSieveScript: self = try Self.decodeActivateSieveScript(&r)
        case .deliverFiltered: self = try Self.decodeDeliverFiltered(&r)
        case .removeOutboxEntries: self = try Self.decodeRemoveOutboxEntries(&r)
        }
        try r.expectEnd()
    }

    /// A delivery's blob body: a flags byte (bit 0: inline bytes follow, bit 1: a placement
    /// follows), then those bytes in that order. Before placements existed the byte was a
    /// bool for the inline bytes, so a delivery without a placement encodes as it always did
    /// and old log entries decode unchanged; a replica that predates placements refuses one
    /// (bool byte 2 or 3) rather than misreading it.
    private enum BlobBodyFlag {
        static let inline: UInt8 = 1
        static let placement: UInt8 = 2
        static let all: UInt8 = inline | placement
    }

    private static func encode(blobBody blob: BlobReference, _ w: inout ByteWriter) {
        w.u8((blob.inlineCompressed == nil ? 0 : BlobBodyFlag.inline) | (blob.placement == nil ? 0 : BlobBodyFlag.placement))
        if let inline = blob.inlineCompressed { w.lengthPrefixed(inline) }
        if let placement = blob.placement { w.lengthPrefixed(placement) }
    }

    private static func decodeBlobBody(_ r: inout ByteReader) throws -> (inline: [UInt8]?, placement: [UInt8]?) {
        let flags = try r.u8()
        guard flags & ~BlobBodyFlag.all == 0 else { throw StalError(.corrupted, "delivery blob flags \(flags)") }
        let inline = flags & BlobBodyFlag.inline != 0 ? try r.lengthPrefixed() : nil
        let placement = flags & BlobBodyFlag.placement != 0 ? try r.lengthPrefixed(max: BlobReference.placementBytesMax) : nil
        return (inline, placement)
    }

    private static func encode(role: MailboxRole?, _ w: inout ByteWriter) {
        w.string(role?.rawValue ?? "")
    }

    private static func decodeRole(_ r: inout ByteReader) throws -> MailboxRole? {
        let s = try r.string(max: 64)
        if s.isEmpty { return nil }
        guard let role = MailboxRole(rawValue: s) else { throw StalError(.corrupted, "mailbox role \(s)") }
        return role
    }

    private static func encode(ids: [MailboxID], _ w: inout ByteWriter) {
        w.u32(UInt32(ids.count))
        for id in ids { w.u64(id.rawValue) }
    }

    private static func decodeIDs(_ r: inout ByteReader) throws -> [MailboxID] {
        let n = try r.count(minElementBytes: 8)
        var ids: [MailboxID] = []
        for _ in 0..<n { ids.append(MailboxID(rawValue: try r.u64())) }
        return ids
    }

    /// Shared with `CommandResult`'s encoding.
    static func encode(uids: [UInt32], _ w: inout ByteWriter) {
        w.u32(UInt32(uids.count))
        for u in uids { w.u32(u) }
    }

    static func decodeUIDs(_ r: inout ByteReader) throws -> [UInt32] {
        let n = try r.count(minElementBytes: 4)
        var uids: [UInt32] = []
        uids.reserveCapacity(n)
        for _ in 0..<n { uids.append(try r.u32()) }
        return uids
    }

    /// Sorted, so the same set always encodes to the same bytes.
    static func encode(keywords: Set<Keyword>, _ w: inout ByteWriter) {
        w.u32(UInt32(keywords.count))
        for k in keywords.sorted() { w.string(k.name) }
    }

    static func decodeKeywords(_ r: inout ByteReader) throws -> Set<Keyword> {
        let n = try r.count(minElementBytes: 4)
        var out = Set<Keyword>()
        for _ in 0..<n { out.insert(Keyword(try r.string(max: 1024))) }
        return out
    }
}
