import StalCore
import StalShardLog
import StalStorage

/// Key layout of the mail store (see docs/store.md). `state` family:
///   a acct                 -> AccountRecord
///   m acct mbox            -> MailboxRecord
///   n acct name            -> mailbox id (name index; exact, case-sensitive except INBOX)
///   s acct name            -> "" (subscription; may name a mailbox that does not exist)
///   e acct email           -> EmailRecord
///   u acct mbox uid(u32)   -> email id + EmailRecord (the per-mailbox UID index, ordered by
///                             UID; carries a copy of the email so a listing is one scan)
///   c acct modseq          -> ChangeRecord (the change log)
/// `blobs` family:
///   r tenant digest        -> BlobRecord (reference count, size, where the bytes are)
///   d tenant digest        -> zstd frame of an inline blob
///   g tenant digest        -> "" (a blob-store blob lost its last reference; collectable)
///   x tenant digest        -> log index of the collection that deleted the blob's file
enum Keys {
    static let account: UInt8 = UInt8(ascii: "a")
    static let mailbox: UInt8 = UInt8(ascii: "m")
    static let name: UInt8 = UInt8(ascii: "n")
    static let subscription: UInt8 = UInt8(ascii: "s")
    static let email: UInt8 = UInt8(ascii: "e")
    static let uid: UInt8 = UInt8(ascii: "u")
    static let change: UInt8 = UInt8(ascii: "c")
    static let blobRecord: UInt8 = UInt8(ascii: "r")
    static let blobData: UInt8 = UInt8(ascii: "d")
    static let blobGarbage: UInt8 = UInt8(ascii: "g")
    static let blobCollected: UInt8 = UInt8(ascii: "x")
    static let blobPlacement: UInt8 = UInt8(ascii: "p")

    static func account(_ a: AccountID) -> [UInt8] { KeyCoding.key(account, a.rawValue) }
    static func mailbox(_ a: AccountID, _ m: MailboxID) -> [UInt8] { KeyCoding.key(mailbox, a.rawValue, m.rawValue) }
    static func mailboxes(_ a: AccountID) -> [UInt8] { KeyCoding.key(mailbox, a.rawValue) }
    static func name(_ a: AccountID, _ n: String) -> [UInt8] { KeyCoding.key(name, a.rawValue) + Array(n.utf8) }
    static func names(_ a: AccountID) -> [UInt8] { KeyCoding.key(name, a.rawValue) }
    static func subscription(_ a: AccountID, _ n: String) -> [UInt8] { KeyCoding.key(subscription, a.rawValue) + Array(n.utf8) }
    static func subscriptions(_ a: AccountID) -> [UInt8] { KeyCoding.key(subscription, a.rawValue) }
    static func email(_ a: AccountID, _ e: EmailID) -> [UInt8] { KeyCoding.key(email, a.rawValue, e.rawValue) }
    static func emails(_ a: AccountID) -> [UInt8] { KeyCoding.key(email, a.rawValue) }
    static func uid(_ a: AccountID, _ m: MailboxID, _ uid: UInt32) -> [UInt8] {
        var w = ByteWriter(capacity: 21)
        w.raw(KeyCoding.key(Self.uid, a.rawValue, m.rawValue))
        w.u32(uid)
        return w.bytes
    }
    static func uids(_ a: AccountID, _ m: MailboxID) -> [UInt8] { KeyCoding.key(uid, a.rawValue, m.rawValue) }
    static func uidsOfAccount(_ a: AccountID) -> [UInt8] { KeyCoding.key(uid, a.rawValue) }
    static func change(_ a: AccountID, _ s: ModSeq) -> [UInt8] { KeyCoding.key(change, a.rawValue, s.rawValue) }
    static func changes(_ a: AccountID) -> [UInt8] { KeyCoding.key(change, a.rawValue) }
    static func blobRecord(_ t: TenantID, _ b: BlobID) -> [UInt8] { KeyCoding.key(blobRecord, t.rawValue) + b.digest }
    static func blobData(_ t: TenantID, _ b: BlobID) -> [UInt8] { KeyCoding.key(blobData, t.rawValue) + b.digest }
    static func blobGarbage(_ t: TenantID, _ b: BlobID) -> [UInt8] { KeyCoding.key(blobGarbage, t.rawValue) + b.digest }
    static func blobGarbage(_ t: TenantID) -> [UInt8] { KeyCoding.key(blobGarbage, t.rawValue) }
    static func blobCollected(_ t: TenantID, _ b: BlobID) -> [UInt8] { KeyCoding.key(blobCollected, t.rawValue) + b.digest }
    /// Keyed by the blob store's id (`MailStore.blobStoreID`), which already includes the tenant.
    static func blobPlacement(_ b: BlobID) -> [UInt8] { [blobPlacement] + b.digest }
    static let blobPlacements: [UInt8] = [blobPlacement]
}

/// Every record starts with a format version byte, like commands.
private let recordVersion: UInt8 = 1

private func openRecord(_ bytes: [UInt8], _ what: String) throws -> ByteReader {
    var r = ByteReader(bytes)
    let v = try r.u8()
    guard v == recordVersion else { throw StalError(.corrupted, "\(what) record version \(v)") }
    return r
}

struct AccountRecord: Hashable, Sendable {
    var tenant: TenantID
    var modSeq: ModSeq
    var quotaBytes: UInt64?
    var usedBytes: UInt64
    var inbox: MailboxID
    /// The next UIDVALIDITY handed to a new mailbox; only grows, so a name that is deleted
    /// and recreated never sees an old UIDVALIDITY again.
    var nextUIDValidity: UInt32

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 48)
        w.u8(recordVersion)
        w.u64(tenant.rawValue); w.u64(modSeq.rawValue); w.optionalU64(quotaBytes); w.u64(usedBytes)
        w.u64(inbox.rawValue); w.u32(nextUIDValidity)
        return w.bytes
    }

    init(tenant: TenantID, modSeq: ModSeq, quotaBytes: UInt64?, usedBytes: UInt64, inbox: MailboxID, nextUIDValidity: UInt32) {
        self.tenant = tenant
        self.modSeq = modSeq
        self.quotaBytes = quotaBytes
        self.usedBytes = usedBytes
        self.inbox = inbox
        self.nextUIDValidity = nextUIDValidity
    }

    init(decoding bytes: [UInt8]) throws {
        var r = try openRecord(bytes, "account")
        tenant = TenantID(rawValue: try r.u64()); modSeq = ModSeq(rawValue: try r.u64())
        quotaBytes = try r.optionalU64(); usedBytes = try r.u64()
        inbox = MailboxID(rawValue: try r.u64()); nextUIDValidity = try r.u32()
        try r.expectEnd()
    }
}

struct MailboxRecord: Hashable, Sendable {
    var name: String
    var parent: MailboxID?
    var role: MailboxRole?
    var uidValidity: UInt32
    var uidNext: UInt32
    var highestModSeq: ModSeq
    var total: UInt32
    var unseen: UInt32

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.u8(recordVersion)
        w.string(name); w.optionalU64(parent?.rawValue); w.string(role?.rawValue ?? "")
        w.u32(uidValidity); w.u32(uidNext); w.u64(highestModSeq.rawValue); w.u32(total); w.u32(unseen)
        return w.bytes
    }

    init(name: String, parent: MailboxID?, role: MailboxRole?, uidValidity: UInt32, uidNext: UInt32,
         highestModSeq: ModSeq, total: UInt32, unseen: UInt32) {
        self.name = name
        self.parent = parent
        self.role = role
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.highestModSeq = highestModSeq
        self.total = total
        self.unseen = unseen
    }

    init(decoding bytes: [UInt8]) throws {
        var r = try openRecord(bytes, "mailbox")
        name = try r.string()
        parent = try r.optionalU64().map(MailboxID.init(rawValue:))
        let roleName = try r.string(max: 64)
        role = roleName.isEmpty ? nil : MailboxRole(rawValue: roleName)
        uidValidity = try r.u32(); uidNext = try r.u32(); highestModSeq = ModSeq(rawValue: try r.u64())
        total = try r.u32(); unseen = try r.u32()
        try r.expectEnd()
    }
}

struct Membership: Hashable, Sendable {
    var mailbox: MailboxID
    var uid: UInt32
}

struct EmailRecord: Hashable, Sendable {
    var blob: BlobID
    var size: UInt64
    var receivedAt: Timestamp
    var keywords: Set<Keyword>
    var memberships: [Membership]
    var modSeq: ModSeq
    var threadID: ThreadID

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        w.u8(recordVersion)
        w.raw(blob.digest); w.u64(size); w.i64(receivedAt.millisecondsSinceEpoch)
        w.u32(UInt32(keywords.count))
        for k in keywords.sorted() { w.string(k.name) }
        w.u32(UInt32(memberships.count))
        for m in memberships { w.u64(m.mailbox.rawValue); w.u32(m.uid) }
        w.u64(modSeq.rawValue); w.u64(threadID.rawValue)
        return w.bytes
    }

    init(blob: BlobID, size: UInt64, receivedAt: Timestamp, keywords: Set<Keyword>, memberships: [Membership],
         modSeq: ModSeq, threadID: ThreadID) {
        self.blob = blob
        self.size = size
        self.receivedAt = receivedAt
        self.keywords = keywords
        self.memberships = memberships
        self.modSeq = modSeq
        self.threadID = threadID
    }

    init(decoding bytes: [UInt8]) throws {
        var r = try openRecord(bytes, "email")
        guard let b = BlobID(digest: try r.raw(32)) else { throw StalError(.corrupted, "email blob id") }
        blob = b
        size = try r.u64(); receivedAt = Timestamp(millisecondsSinceEpoch: try r.i64())
        var k = Set<Keyword>()
        for _ in 0..<(try r.count(minElementBytes: 4)) { k.insert(Keyword(try r.string(max: 1024))) }
        keywords = k
        var m: [Membership] = []
        for _ in 0..<(try r.count(minElementBytes: 12)) {
            m.append(Membership(mailbox: MailboxID(rawValue: try r.u64()), uid: try r.u32()))
        }
        memberships = m
        modSeq = ModSeq(rawValue: try r.u64()); threadID = ThreadID(rawValue: try r.u64())
        try r.expectEnd()
    }
}

/// One change-log entry: everything one command changed in one account.
struct ChangeRecord: Hashable, Sendable {
    enum Change: Hashable, Sendable {
        case emailCreated(EmailID)
        case emailUpdated(EmailID)
        case emailDestroyed(EmailID)
        case mailboxCreated(MailboxID)
        case mailboxUpdated(MailboxID)
        case mailboxDestroyed(MailboxID)
        /// A UID left a mailbox (expunge or move): IMAP QRESYNC VANISHED.
        case uidRemoved(MailboxID, UInt32)
    }

    var changes: [Change]

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 16 + 9 * changes.count)
        w.u8(recordVersion)
        w.u32(UInt32(changes.count))
        for c in changes {
            switch c {
            case let .emailCreated(id): w.u8(1); w.u64(id.rawValue)
            case let .emailUpdated(id): w.u8(2); w.u64(id.rawValue)
            case let .emailDestroyed(id): w.u8(3); w.u64(id.rawValue)
            case let .mailboxCreated(id): w.u8(4); w.u64(id.rawValue)
            case let .mailboxUpdated(id): w.u8(5); w.u64(id.rawValue)
            case let .mailboxDestroyed(id): w.u8(6); w.u64(id.rawValue)
            case let .uidRemoved(m, uid): w.u8(7); w.u64(m.rawValue); w.u32(uid)
            }
        }
        return w.bytes
    }

    init(changes: [Change]) { self.changes = changes }

    init(decoding bytes: [UInt8]) throws {
        var r = try openRecord(bytes, "change")
        var out: [Change] = []
        for _ in 0..<(try r.count(minElementBytes: 9)) {
            let kind = try r.u8(), id = try r.u64()
            switch kind {
            case 1: out.append(.emailCreated(EmailID(rawValue: id)))
            case 2: out.append(.emailUpdated(EmailID(rawValue: id)))
            case 3: out.append(.emailDestroyed(EmailID(rawValue: id)))
            case 4: out.append(.mailboxCreated(MailboxID(rawValue: id)))
            case 5: out.append(.mailboxUpdated(MailboxID(rawValue: id)))
            case 6: out.append(.mailboxDestroyed(MailboxID(rawValue: id)))
            case 7: out.append(.uidRemoved(MailboxID(rawValue: id), try r.u32()))
            default: throw StalError(.corrupted, "change kind \(kind)")
            }
        }
        changes = out
        try r.expectEnd()
    }
}

struct BlobRecord: Hashable, Sendable {
    var references: UInt64
    var size: UInt64
    /// True: the zstd frame is under `d tenant digest`; false: in the blob store.
    var inline: Bool

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 18)
        w.u8(recordVersion)
        w.u64(references); w.u64(size); w.bool(inline)
        return w.bytes
    }

    init(references: UInt64, size: UInt64, inline: Bool) {
        self.references = references
        self.size = size
        self.inline = inline
    }

    init(decoding bytes: [UInt8]) throws {
        var r = try openRecord(bytes, "blob")
        references = try r.u64(); size = try r.u64(); inline = try r.bool()
        try r.expectEnd()
    }
}
