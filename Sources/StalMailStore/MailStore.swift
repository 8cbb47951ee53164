import StalCore
import StalDeterminism
import StalShardLog
import StalStorage

/// The account API every protocol uses. Reads come from the local engine (through a
/// snapshot when they span several keys); every mutation is a command proposed to the shard
/// log, and returns once that command is durable and applied. Ids and UIDVALIDITY seeds are
/// drawn here, before proposing, from the injected random source.
public final class MailStore: Sendable {
    public struct Options: Sendable {
        /// Compressed blobs below this size ride inline in the delivering command.
        public var inlineBlobBytesMax = 64 * 1024
        public var zstdLevel: Int32 = 3
        public var messageOctetsMax = 50 * 1024 * 1024
        /// Must equal the `MailStateMachine`'s value (`local` passes it to both).
        public var changeLogRetained = MailStateMachine.defaultChangeLogRetained

        public init() {}
    }

    static let collectedBlobRetries = 3

    public static let defaultMailboxes: [(String, MailboxRole)] = [
        ("INBOX", .inbox), ("Drafts", .drafts), ("Sent", .sent), ("Junk", .junk), ("Trash", .trash), ("Archive", .archive),
    ]

    let engine: any KVEngine
    private let log: any ShardLog
    private let blobs: any MailBlobStore
    private let notifier: ChangeNotifier
    let clock: any WallClock
    let ids: IDSource
    private let options: Options
    let sieveCache = SieveScriptCache()
    private let onShutdown: @Sendable () -> Void

    public init(engine: any KVEngine, log: any ShardLog, blobs: any MailBlobStore, notifier: ChangeNotifier,
                clock: any WallClock, random: any RandomSource, options: Options = Options(),
                onShutdown: @escaping @Sendable () -> Void = {}) {
        self.engine = engine
        self.log = log
        self.blobs = blobs
        self.notifier = notifier
        self.clock = clock
        self.ids = IDSource(random)
        self.options = options
        self.onShutdown = onShutdown
    }

    /// A store on one node: shard `shard` as a Raft group on `driver` (the node's driver,
    /// which the caller shuts down), or, without one, on a one-replica driver of its own over
    /// `engine` that `shutdown()` stops.
    public static func local(engine: any KVEngine, blobs: any MailBlobStore, clock: any WallClock,
                             random: any RandomSource, shard: UInt64 = 0, options: Options = Options(),
                             driver: RaftNodeDriver? = nil) throws -> MailStore {
        let notifier = ChangeNotifier(engine: engine)
        let owned = driver == nil ? try RaftNodeDriver(engine: engine, nodeID: 1, transport: nil) : nil
        let log = try (driver ?? owned!).addGroup(shard: shard, stateMachine: MailStateMachine(
            notifier: notifier, blobs: blobs, changeLogRetained: options.changeLogRetained))
        return MailStore(engine: engine, log: log, blobs: blobs, notifier: notifier, clock: clock, random: random,
                         options: options, onShutdown: { owned?.shutdown() })
    }

    /// Finishes queued commands and stops the store's own Raft driver, if it has one.
    public func shutdown() { onShutdown() }

    // MARK: proposing

    func propose(_ command: ShardCommand) async throws -> CommandResult {
        let result = try await log.propose(command)
        if case let .failed(error) = result { throw error }
        return result
    }

    // MARK: accounts

    /// Creates the account with Inbox, Drafts, Sent, Junk, Trash and Archive. Creating an
    /// account that exists returns its mailboxes unchanged (directory provisioning retries).
    @discardableResult
    public func createAccount(_ account: AccountID, tenant: TenantID, quotaBytes: UInt64? = nil) async throws -> [MailboxInfo] {
        if try accountInfo(account) == nil {
            let seeds = Self.defaultMailboxes.map { MailboxSeed(id: MailboxID(rawValue: ids.next()), name: $0.0, role: $0.1) }
            do {
                _ = try await propose(.createAccount(CreateAccountCommand(
                    account: account, tenant: tenant, createdAt: clock.now(), quotaBytes: quotaBytes, mailboxes: seeds)))
            } catch let error as StalError where error.kind == .alreadyExists {}
        }
        return try mailboxes(account)
    }

    public func deleteAccount(_ account: AccountID) async throws {
        _ = try await propose(.deleteAccount(DeleteAccountCommand(account: account)))
    }

    public func accountInfo(_ account: AccountID) throws -> AccountInfo? {
        try engine.get(.state, Keys.account(account)).map { bytes in
            let r = try AccountRecord(decoding: bytes)
            return AccountInfo(id: account, tenant: r.tenant, highestModSeq: r.modSeq, quotaBytes: r.quotaBytes,
                               usedBytes: r.usedBytes, inbox: r.inbox)
        }
    }

    func requireAccount(_ account: AccountID, in reader: any KVReader) throws -> AccountRecord {
        guard let bytes = try reader.get(.state, Keys.account(account)) else {
            throw StalError(.notFound, "account \(account)")
        }
        return try AccountRecord(decoding: bytes)
    }

    // MARK: mailboxes

    public func mailboxes(_ account: AccountID) throws -> [MailboxInfo] {
        let snap = try engine.snapshot()
        _ = try requireAccount(account, in: snap)
        var subscribed = Set<String>()
        let subPrefix = Keys.subscriptions(account)
        for pair in try snap.scan(.state, prefix: subPrefix) {
            subscribed.insert(String(decoding: pair.key[subPrefix.count...], as: UTF8.self))
        }
        var out: [MailboxInfo] = []
        for pair in try snap.scan(.state, prefix: Keys.mailboxes(account)) {
            let id = MailboxID(rawValue: KeyCoding.u64(pair.key, at: 9))
            out.append(info(id, try MailboxRecord(decoding: pair.value), subscribed: subscribed))
        }
        return out.sorted { $0.name < $1.name }
    }

    private func info(_ id: MailboxID, _ r: MailboxRecord, subscribed: Set<String>) -> MailboxInfo {
        MailboxInfo(id: id, name: r.name, parentID: r.parent, role: r.role, isSubscribed: subscribed.contains(r.name),
                    uidValidity: r.uidValidity, uidNext: r.uidNext, highestModSeq: r.highestModSeq,
                    totalEmails: Int(r.total), unseenEmails: Int(r.unseen))
    }

    public func mailbox(_ account: AccountID, id: MailboxID) throws -> MailboxInfo? {
        let snap = try engine.snapshot()
        guard let bytes = try snap.get(.state, Keys.mailbox(account, id)) else { return nil }
        let r = try MailboxRecord(decoding: bytes)
        let sub = try snap.get(.state, Keys.subscription(account, r.name)) != nil
        return info(id, r, subscribed: sub ? [r.name] : [])
    }

    /// Looks a mailbox up by name (INBOX case-insensitively).
    public func mailbox(_ account: AccountID, named name: String) throws -> MailboxInfo? {
        guard let canonical = try? MailboxNames.normalize(name),
              let idBytes = try engine.get(.state, Keys.name(account, canonical))
        else { return nil }
        return try mailbox(account, id: MailboxID(rawValue: KeyCoding.u64(idBytes, at: 0)))
    }

    /// Subscribed names, including names with no mailbox (RFC 3501 LSUB).
    public func subscriptions(_ account: AccountID) throws -> [String] {
        let prefix = Keys.subscriptions(account)
        return try engine.scan(.state, prefix: prefix).map { String(decoding: $0.key[prefix.count...], as: UTF8.self) }
    }

    /// Creates `name` and any missing parents; the parents get no role.
    @discardableResult
    public func createMailbox(_ account: AccountID, name: String, role: MailboxRole? = nil) async throws -> MailboxInfo {
        let parts = try MailboxNames.components(name)
        let result = try await propose(.createMailbox(CreateMailboxCommand(
            account: account, name: parts.joined(separator: "/"), role: role, ids: parts.map { _ in MailboxID(rawValue: ids.next()) })))
        guard case let .mailboxCreated(id) = result, let info = try mailbox(account, id: id) else {
            throw StalError(.internal, "createMailbox returned \(result)")
        }
        return info
    }

    /// Renames a mailbox and its children. Renaming INBOX moves its messages into a new
    /// mailbox of the new name and leaves INBOX empty (RFC 3501 §6.3.5).
    @discardableResult
    public func renameMailbox(_ account: AccountID, id: MailboxID, newName: String) async throws -> MailboxInfo {
        let parts = try MailboxNames.components(newName)
        let result = try await propose(.renameMailbox(RenameMailboxCommand(
            account: account, mailbox: id, newName: parts.joined(separator: "/"), ids: parts.map { _ in MailboxID(rawValue: ids.next()) })))
        guard case let .mailboxCreated(target) = result, let info = try mailbox(account, id: target) else {
            throw StalError(.internal, "renameMailbox returned \(result)")
        }
        return info
    }

    /// Deletes a mailbox without children; its messages leave it, and messages in no other
    /// mailbox are destroyed.
    public func deleteMailbox(_ account: AccountID, id: MailboxID) async throws {
        _ = try await propose(.deleteMailbox(DeleteMailboxCommand(account: account, mailbox: id)))
    }

    public func setSubscribed(_ account: AccountID, name: String, _ subscribed: Bool) async throws {
        _ = try await propose(.setSubscribed(SetSubscribedCommand(account: account, name: name, subscribed: subscribed)))
    }

    public func setSubscribed(_ account: AccountID, id: MailboxID, _ subscribed: Bool) async throws {
        guard let mb = try mailbox(account, id: id) else { throw StalError(.notFound, "mailbox \(id)") }
        try await setSubscribed(account, name: mb.name, subscribed)
    }

    // MARK: blobs

    /// The content address of `bytes`.
    public static func blobID(for bytes: [UInt8]) -> BlobID {
        BlobID(digest: SHA256.hash(bytes))!
    }

    /// The id of a tenant's blob in a blob store shared by all tenants: SHA-256(tenant id,
    /// 8 bytes big-endian ‖ content id). Two tenants holding the same message hold two blobs, so
    /// one tenant's collection never removes a blob the other still references.
    public static func blobStoreID(tenant: TenantID, _ id: BlobID) -> BlobID {
        var bytes = ByteWriter(capacity: 40)
        bytes.u64(tenant.rawValue)
        bytes.raw(id.digest)
        return blobID(for: bytes.bytes)
    }

    /// Replicates where a blob store blob's shards live now (an encoded `BlobManifest`), for
    /// a placement that changed after the delivery recorded it (healing moved a shard);
    /// returns once applied on this replica. `blob` is a `blobStoreID`.
    public func recordBlobPlacement(_ blob: BlobID, manifest: [UInt8]) async throws {
        guard manifest.count <= RecordBlobPlacementCommand.manifestBytesMax else {
            throw StalError(.limitExceeded, "blob \(blob.hex): manifest of \(manifest.count) bytes over \(RecordBlobPlacementCommand.manifestBytesMax)")
        }
        _ = try await propose(.recordBlobPlacement(RecordBlobPlacementCommand(blob: blob, manifest: manifest)))
    }

    /// The placement this replica has applied for `blob`, nil when none (never recorded, or
    /// collected).
    public func blobPlacement(_ blob: BlobID) throws -> [UInt8]? {
        try engine.get(.blobs, Keys.blobPlacement(blob))
    }

    /// Blobs with a recorded placement, in id order; the first `limit` when given.
    public func blobPlacementIDs(limit: Int? = nil) throws -> [BlobID] {
        try engine.scan(.blobs, prefix: Keys.blobPlacements, limit: limit).compactMap { BlobID(digest: Array($0.key.dropFirst())) }
    }

    /// Hashes and compresses the message; small results ride inline in the command, larger
    /// ones are written durably to the blob store first.
    func prepareBlob(_ bytes: [UInt8], tenant: TenantID, forceWrite: Bool) async throws -> BlobReference {
        guard bytes.count <= options.messageOctetsMax else {
            throw StalError(.limitExceeded, "message of \(bytes.count) octets over \(options.messageOctetsMax)")
        }
        let id = Self.blobID(for: bytes)
        let compressed = try Zstd.compress(bytes, level: options.zstdLevel)
        if compressed.count < options.inlineBlobBytesMax {
            return BlobReference(id: id, size: UInt64(bytes.count), inlineCompressed: compressed)
        }
        // Read before the write: a collection that deletes the file after this read also
        // changes the mark, so apply refuses the command and the caller writes again. Read
        // after the write, a collection between the two would delete the new file yet hand
        // back a mark that apply accepts.
        let mark = try engine.get(.blobs, Keys.blobCollected(tenant, id)).map { KeyCoding.u64($0, at: 0) } ?? 0
        // A referenced blob's file cannot be collected, so it need not be written again.
        let known = try engine.get(.blobs, Keys.blobRecord(tenant, id)).map { try BlobRecord(decoding: $0) }
        var placement: [UInt8]?
        if forceWrite || known == nil || known?.inline == true {
            placement = try await blobs.write(tenant: tenant, id: id, compressed: compressed)
        }
        // Checked here because a command the log cannot decode would stop every replica.
        if let placement, placement.count > BlobReference.placementBytesMax {
            throw StalError(.limitExceeded, "blob \(id.hex): placement of \(placement.count) bytes over \(BlobReference.placementBytesMax)")
        }
        return BlobReference(id: id, size: UInt64(bytes.count), inlineCompressed: nil, collectedMark: mark, placement: placement)
    }

    /// Deletes up to `limit` blob-store blobs of `tenant` that no email references any more;
    /// returns their ids. Safe against concurrent deliveries of the same content.
    @discardableResult
    public func collectGarbage(tenant: TenantID, limit: Int = 1000) async throws -> [BlobID] {
        let result = try await propose(.collectBlobs(CollectBlobsCommand(tenant: tenant, limit: UInt32(clamping: limit))))
        guard case let .blobsCollected(ids) = result else { throw StalError(.internal, "collectBlobs returned \(result)") }
        return ids
    }

    public func readBlob(tenant: TenantID, _ id: BlobID) async throws -> [UInt8] {
        guard let recBytes = try engine.get(.blobs, Keys.blobRecord(tenant, id)) else {
            throw StalError(.notFound, "blob \(id)")
        }
        let rec = try BlobRecord(decoding: recBytes)
        let compressed: [UInt8]
        if rec.inline {
            guard let data = try engine.get(.blobs, Keys.blobData(tenant, id)) else {
                throw StalError(.corrupted, "inline blob \(id) has no data")
            }
            compressed = data
        } else {
            compressed = try await blobs.read(tenant: tenant, id: id)
        }
        return try Zstd.decompress(compressed, expectedSize: Int(rec.size))
    }

    public func readBlob(account: AccountID, _ id: BlobID) async throws -> [UInt8] {
        let tenant = try requireAccount(account, in: engine).tenant
        return try await readBlob(tenant: tenant, id)
    }

    public func readBlob(account: AccountID, _ id: BlobID, range: Range<Int>) async throws -> [UInt8] {
        let all = try await readBlob(account: account, id)
        let lower = min(max(range.lowerBound, 0), all.count)
        let upper = min(max(range.upperBound, lower), all.count)
        return Array(all[lower..<upper])
    }

    // MARK: delivery

    public func append(_ account: AccountID, mailbox: MailboxID, bytes: [UInt8], keywords: Set<Keyword> = [],
                       receivedAt: Timestamp? = nil) async throws -> AppendResult {
        let results = try await deliverOne(bytes, receivedAt: receivedAt ?? clock.now(), tenant: requireAccount(account, in: engine).tenant,
                                           targets: [DeliveryTarget(account: account, mailbox: mailbox, keywords: keywords)])
        return try results[0].get()
    }

    /// Stores one message for many recipients: the blob once per tenant, one command per
    /// tenant. Returns per target, in order; a failing target (unknown mailbox, over quota)
    /// does not fail the others.
    public func deliver(_ bytes: [UInt8], receivedAt: Timestamp? = nil,
                        recipients: [DeliveryTarget]) async throws -> [Result<AppendResult, StalError>] {
        let at = receivedAt ?? clock.now()
        var byTenant: [TenantID: [Int]] = [:]
        var out = [Result<AppendResult, StalError>?](repeating: nil, count: recipients.count)
        for (i, r) in recipients.enumerated() {
            do {
                byTenant[try requireAccount(r.account, in: engine).tenant, default: []].append(i)
            } catch let error as StalError {
                out[i] = .failure(error)
            }
        }
        for (tenant, indices) in byTenant.sorted(by: { $0.key < $1.key }) {
            let results = try await deliverOne(bytes, receivedAt: at, tenant: tenant, targets: indices.map { recipients[$0] })
            for (i, r) in zip(indices, results) { out[i] = r }
        }
        return out.map { $0! }
    }

    private func deliverOne(_ bytes: [UInt8], receivedAt: Timestamp, tenant: TenantID,
                            targets: [DeliveryTarget]) async throws -> [Result<AppendResult, StalError>] {
        let entries = targets.map { t -> DeliveryEntry in
            let id = ids.next()
            return DeliveryEntry(account: t.account, mailbox: t.mailbox, keywords: t.keywords,
                                 emailID: EmailID(rawValue: id), threadID: ThreadID(rawValue: id))
        }
        var attempt = 0
        var result: CommandResult
        while true {
            let blob = try await prepareBlob(bytes, tenant: tenant, forceWrite: attempt > 0)
            do {
                result = try await propose(.deliver(DeliverCommand(tenant: tenant, blob: blob, receivedAt: receivedAt, entries: entries)))
                break
            } catch let error as StalError where error.kind == .conflict && attempt < Self.collectedBlobRetries {
                // The only whole-command conflict of a delivery: its blob file was collected
                // between writing and applying. Write it again and retry.
                attempt += 1
            }
        }
        guard case let .delivered(outcomes) = result, outcomes.count == targets.count else {
            throw StalError(.internal, "deliver returned \(result)")
        }
        return outcomes
    }

    // MARK: messages

    /// The mailbox's messages sorted by UID, from one snapshot.
    public func messages(_ account: AccountID, mailbox: MailboxID) throws -> [MessageSummary] {
        let snap = try engine.snapshot()
        guard try snap.get(.state, Keys.mailbox(account, mailbox)) != nil else {
            throw StalError(.notFound, "mailbox \(mailbox)")
        }
        return try summaries(snap, account, mailbox, uids: nil)
    }

    private func summaries(_ reader: any KVReader, _ account: AccountID, _ mailbox: MailboxID,
                           uids: [UInt32]?) throws -> [MessageSummary] {
        var out: [MessageSummary] = []
        func add(_ uid: UInt32, _ value: [UInt8]) throws {
            guard value.count > 8 else { throw StalError(.corrupted, "UID \(uid) index entry of \(value.count) bytes") }
            let r = try EmailRecord(decoding: Array(value[8...]))
            out.append(MessageSummary(uid: uid, emailID: EmailID(rawValue: KeyCoding.u64(value, at: 0)), threadID: r.threadID,
                                      blobID: r.blob, size: Int(r.size), receivedAt: r.receivedAt, keywords: r.keywords,
                                      modSeq: r.modSeq))
        }
        if let uids {
            for uid in uids {
                if let v = try reader.get(.state, Keys.uid(account, mailbox, uid)) { try add(uid, v) }
            }
        } else {
            try reader.scan(.state, prefix: Keys.uids(account, mailbox)) { key, value in
                try add(KeyCoding.u32(key, at: key.count - 4), value)
                return true
            }
        }
        return out
    }

    public func email(_ account: AccountID, id: EmailID) throws -> EmailInfo? {
        try engine.get(.state, Keys.email(account, id)).map { bytes in
            let r = try EmailRecord(decoding: bytes)
            return EmailInfo(id: id, threadID: r.threadID, blobID: r.blob, size: Int(r.size), receivedAt: r.receivedAt,
                             keywords: r.keywords,
                             mailboxes: Dictionary(r.memberships.map { ($0.mailbox, $0.uid) }, uniquingKeysWith: { a, _ in a }),
                             modSeq: r.modSeq)
        }
    }

    public func storeKeywords(_ account: AccountID, mailbox: MailboxID, uids: [UInt32], operation: KeywordOperation,
                              keywords: Set<Keyword>, unchangedSince: ModSeq? = nil) async throws -> StoreKeywordsResult {
        let result = try await propose(.storeKeywords(StoreKeywordsCommand(
            account: account, mailbox: mailbox, uids: uids, operation: operation, keywords: keywords, unchangedSince: unchangedSince)))
        guard case let .keywordsStored(changed, failed, modSeq) = result else {
            throw StalError(.internal, "storeKeywords returned \(result)")
        }
        return StoreKeywordsResult(changed: try summaries(engine.snapshot(), account, mailbox, uids: changed),
                                   failed: failed, highestModSeq: modSeq)
    }

    /// Copies messages; the copies are new emails sharing the blob (refcounted).
    public func copy(_ account: AccountID, from source: MailboxID, uids: [UInt32], to destination: MailboxID) async throws -> CopyResult {
        try await copyOrMove(account, source, uids, destination, move: false)
    }

    /// Moves messages atomically (one command): the emails keep their ids, get new UIDs.
    public func move(_ account: AccountID, from source: MailboxID, uids: [UInt32], to destination: MailboxID) async throws -> CopyResult {
        try await copyOrMove(account, source, uids, destination, move: true)
    }

    private func copyOrMove(_ account: AccountID, _ source: MailboxID, _ uids: [UInt32], _ destination: MailboxID,
                            move: Bool) async throws -> CopyResult {
        let newIDs = move ? [] : uids.map { _ in EmailID(rawValue: ids.next()) }
        let result = try await propose(.copyEmails(CopyEmailsCommand(
            account: account, source: source, uids: uids, destination: destination, move: move, newEmailIDs: newIDs)))
        guard case let .copied(uidValidity, mapping, modSeq) = result else {
            throw StalError(.internal, "copy returned \(result)")
        }
        return CopyResult(uidValidity: uidValidity, mapping: mapping, highestModSeq: modSeq)
    }

    /// Removes messages flagged `$deleted` (all of them, or only `uids`); returns the
    /// expunged UIDs ascending.
    @discardableResult
    public func expunge(_ account: AccountID, mailbox: MailboxID, uids: [UInt32]? = nil) async throws -> [UInt32] {
        let result = try await propose(.expunge(ExpungeCommand(account: account, mailbox: mailbox, uids: uids)))
        guard case let .expunged(expunged, _) = result else { throw StalError(.internal, "expunge returned \(result)") }
        return expunged
    }

    // MARK: changes

    public func highestModSeq(_ account: AccountID) throws -> ModSeq {
        try requireAccount(account, in: engine).modSeq
    }

    /// Changes after `since`, folded so each id appears once (created+destroyed vanishes).
    /// Throws `.limitExceeded` when `since` is older than the retained change log
    /// (`Options.changeLogRetained` modseqs): the client must resynchronise fully
    /// (JMAP cannotCalculateChanges, IMAP QRESYNC falls back to a full listing).
    public func changes(_ account: AccountID, since: ModSeq) throws -> ChangeSet {
        let snap = try engine.snapshot()
        let top = try requireAccount(account, in: snap).modSeq
        var set = ChangeSet(since: since, upTo: top)
        guard since < top else { return set }
        guard top.rawValue - since.rawValue <= options.changeLogRetained else {
            throw StalError(.limitExceeded, "changes since modseq \(since) are no longer kept")
        }
        var emailState: [EmailID: Int] = [:]   // 1 created, 2 updated, 3 destroyed
        var mailboxState: [MailboxID: Int] = [:]
        var emailOrder: [EmailID] = []
        var mailboxOrder: [MailboxID] = []
        func fold<ID: Hashable>(_ state: inout [ID: Int], _ order: inout [ID], _ id: ID, _ kind: Int) {
            switch (state[id], kind) {
            case (nil, _): state[id] = kind; order.append(id)
            case (1, 3): state[id] = 0
            case (1, _), (0, _): break
            case (_, 3): state[id] = 3
            case (3, 1): state[id] = 2
            default: break
            }
        }
        let range = KeyRange(lower: Keys.change(account, since.next()), upper: KeyRange.successor(ofPrefix: Keys.changes(account)))
        try snap.scan(.state, range, reverse: false, limit: nil) { _, value in
            for change in try ChangeRecord(decoding: value).changes {
                switch change {
                case let .emailCreated(id): fold(&emailState, &emailOrder, id, 1)
                case let .emailUpdated(id): fold(&emailState, &emailOrder, id, 2)
                case let .emailDestroyed(id): fold(&emailState, &emailOrder, id, 3)
                case let .mailboxCreated(id): fold(&mailboxState, &mailboxOrder, id, 1)
                case let .mailboxUpdated(id): fold(&mailboxState, &mailboxOrder, id, 2)
                case let .mailboxDestroyed(id): fold(&mailboxState, &mailboxOrder, id, 3)
                case let .uidRemoved(m, uid): set.removedUIDs[m, default: []].append(uid)
                }
            }
            return true
        }
        for id in emailOrder {
            switch emailState[id] {
            case 1: set.createdEmails.append(id)
            case 2: set.updatedEmails.append(id)
            case 3: set.destroyedEmails.append(id)
            default: break
            }
        }
        for id in mailboxOrder {
            switch mailboxState[id] {
            case 1: set.createdMailboxes.append(id)
            case 2: set.updatedMailboxes.append(id)
            case 3: set.destroyedMailboxes.append(id)
            default: break
            }
        }
        return set
    }

    /// Yields the account's highest modseq after every committed change to it.
    public func changeNotifications(_ account: AccountID) -> AsyncStream<ModSeq> {
        notifier.stream(for: account)
    }
}

/// Draws nonzero 64-bit ids from the injected random source.
final class IDSource: @unchecked Sendable {
    private let lock = Mutex()
    private var random: any RandomSource

    init(_ random: any RandomSource) { self.random = random }

    func next() -> UInt64 {
        lock.withLock {
            var v: UInt64 = 0
            while v == 0 { v = random.next() }
            return v
        }
    }
}
