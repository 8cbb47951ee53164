import StalCore

/// Payloads of mail-store commands. Every id, timestamp and UIDVALIDITY seed is chosen
/// before proposing, so apply is a pure function of (command, state).
public struct MailboxSeed: Hashable, Sendable {
    public var id: MailboxID
    public var name: String
    public var role: MailboxRole?

    public init(id: MailboxID, name: String, role: MailboxRole?) {
        self.id = id
        self.name = name
        self.role = role
    }
}

public struct CreateAccountCommand: Hashable, Sendable {
    public var account: AccountID
    public var tenant: TenantID
    public var createdAt: Timestamp
    public var quotaBytes: UInt64?
    /// The role mailboxes every account starts with (Inbox, Drafts, Sent, Junk, Trash, Archive).
    public var mailboxes: [MailboxSeed]

    public init(account: AccountID, tenant: TenantID, createdAt: Timestamp, quotaBytes: UInt64?, mailboxes: [MailboxSeed]) {
        self.account = account
        self.tenant = tenant
        self.createdAt = createdAt
        self.quotaBytes = quotaBytes
        self.mailboxes = mailboxes
    }
}

public struct DeleteAccountCommand: Hashable, Sendable {
    public var account: AccountID
    public init(account: AccountID) { self.account = account }
}

public struct CreateMailboxCommand: Hashable, Sendable {
    public var account: AccountID
    /// Full path with "/" separators.
    public var name: String
    public var role: MailboxRole?
    /// One id per path component, used for the components that do not exist yet.
    public var ids: [MailboxID]

    public init(account: AccountID, name: String, role: MailboxRole?, ids: [MailboxID]) {
        self.account = account
        self.name = name
        self.role = role
        self.ids = ids
    }
}

public struct RenameMailboxCommand: Hashable, Sendable {
    public var account: AccountID
    public var mailbox: MailboxID
    public var newName: String
    /// One id per component of `newName`, used for missing parents and, when INBOX is
    /// renamed, for the new mailbox that receives its messages (RFC 3501 §6.3.5).
    public var ids: [MailboxID]

    public init(account: AccountID, mailbox: MailboxID, newName: String, ids: [MailboxID]) {
        self.account = account
        self.mailbox = mailbox
        self.newName = newName
        self.ids = ids
    }
}

public struct DeleteMailboxCommand: Hashable, Sendable {
    public var account: AccountID
    public var mailbox: MailboxID
    public init(account: AccountID, mailbox: MailboxID) {
        self.account = account
        self.mailbox = mailbox
    }
}

public struct SetSubscribedCommand: Hashable, Sendable {
    public var account: AccountID
    public var name: String
    public var subscribed: Bool
    public init(account: AccountID, name: String, subscribed: Bool) {
        self.account = account
        self.name = name
        self.subscribed = subscribed
    }
}

/// How a blob travels with the command that first references it: small compressed blobs
/// ride inline (one fsync covers blob and metadata), large ones were written to the blob
/// store durably before proposing.
public struct BlobReference: Hashable, Sendable {
    /// Far above any placement of a coded blob (k+m location ids) or of an inline one (64 KiB).
    public static let placementBytesMax = 256 * 1024

    public var id: BlobID
    public var size: UInt64
    public var inlineCompressed: [UInt8]?
    /// For a blob-store blob: the tenant's collection mark for this id that the proposer read
    /// after making sure the file exists (0: none). Apply refuses to reference the file when a
    /// garbage collection marked it since, because the file may be gone.
    public var collectedMark: UInt64
    /// For a blob-store blob whose store needs its location recorded (the erasure-coded
    /// store: an encoded `BlobManifest`, opaque to the log): the placement the write chose.
    /// The command that first references the blob records it in the same batch, so a blob
    /// costs no log entry of its own; nil when the store needs no record (a plain directory)
    /// or the placement is already recorded.
    public var placement: [UInt8]?

    public init(id: BlobID, size: UInt64, inlineCompressed: [UInt8]?, collectedMark: UInt64 = 0, placement: [UInt8]? = nil) {
        self.id = id
        self.size = size
        self.inlineCompressed = inlineCompressed
        self.collectedMark = collectedMark
        self.placement = placement
    }
}

public struct DeliveryEntry: Hashable, Sendable {
    public var account: AccountID
    /// nil: the account's inbox.
    public var mailbox: MailboxID?
    public var keywords: Set<Keyword>
    public var emailID: EmailID
    public var threadID: ThreadID

    public init(account: AccountID, mailbox: MailboxID?, keywords: Set<Keyword>, emailID: EmailID, threadID: ThreadID) {
        self.account = account
        self.mailbox = mailbox
        self.keywords = keywords
        self.emailID = emailID
        self.threadID = threadID
    }
}

/// One message to one or more accounts of one tenant (SMTP delivery, IMAP APPEND, JMAP import).
public struct DeliverCommand: Hashable, Sendable {
    public var tenant: TenantID
    public var blob: BlobReference
    public var receivedAt: Timestamp
    public var entries: [DeliveryEntry]

    public init(tenant: TenantID, blob: BlobReference, receivedAt: Timestamp, entries: [DeliveryEntry]) {
        self.tenant = tenant
        self.blob = blob
        self.receivedAt = receivedAt
        self.entries = entries
    }
}

public struct StoreKeywordsCommand: Hashable, Sendable {
    public var account: AccountID
    public var mailbox: MailboxID
    public var uids: [UInt32]
    public var operation: KeywordOperation
    public var keywords: Set<Keyword>
    public var unchangedSince: ModSeq?

    public init(account: AccountID, mailbox: MailboxID, uids: [UInt32], operation: KeywordOperation,
                keywords: Set<Keyword>, unchangedSince: ModSeq?) {
        self.account = account
        self.mailbox = mailbox
        self.uids = uids
        self.operation = operation
        self.keywords = keywords
        self.unchangedSince = unchangedSince
    }
}

/// COPY creates new emails (fresh ids, same blob) so flags stay per message as IMAP expects;
/// MOVE keeps the email and changes its mailbox membership.
public struct CopyEmailsCommand: Hashable, Sendable {
    public var account: AccountID
    public var source: MailboxID
    public var uids: [UInt32]
    public var destination: MailboxID
    public var move: Bool
    /// Parallel to `uids`; ids for the copies (unused by a move).
    public var newEmailIDs: [EmailID]

    public init(account: AccountID, source: MailboxID, uids: [UInt32], destination: MailboxID, move: Bool, newEmailIDs: [EmailID]) {
        self.account = account
        self.source = source
        self.uids = uids
        self.destination = destination
        self.move = move
        self.newEmailIDs = newEmailIDs
    }
}

public struct ExpungeCommand: Hashable, Sendable {
    public var account: AccountID
    public var mailbox: MailboxID
    /// nil: every message with `$deleted`; otherwise only these UIDs, and only if `$deleted`
    /// is set (UID EXPUNGE, RFC 4315).
    public var uids: [UInt32]?
    public init(account: AccountID, mailbox: MailboxID, uids: [UInt32]?) {
        self.account = account
        self.mailbox = mailbox
        self.uids = uids
    }
}

/// Collects blob-store blobs of a tenant whose last reference is gone: apply marks up to
/// `limit` of them collected, and the state machine deletes their files before the marks
/// become visible.
public struct CollectBlobsCommand: Hashable, Sendable {
    public var tenant: TenantID
    public var limit: UInt32
    public init(tenant: TenantID, limit: UInt32) {
        self.tenant = tenant
        self.limit = limit
    }
}

/// Records where an erasure-coded blob's shards live now, so every replica reads the same
/// placement: after healing moved a shard. (A new blob's placement rides the delivering
/// command, `BlobReference.placement`.) `manifest` is a `BlobManifest` encoding, opaque to
/// the log; the blob is the blob store's id for it (`MailStore.blobStoreID`). A collection
/// of the blob deletes the record in its own batch.
public struct RecordBlobPlacementCommand: Hashable, Sendable {
    public static let manifestBytesMax = BlobReference.placementBytesMax

    public var blob: BlobID
    public var manifest: [UInt8]
    public init(blob: BlobID, manifest: [UInt8]) {
        self.blob = blob
        self.manifest = manifest
    }
}
