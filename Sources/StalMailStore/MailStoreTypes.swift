import StalCore
import StalShardLog

public struct MailboxInfo: Hashable, Sendable {
    public var id: MailboxID
    /// Full path with "/" separators; the inbox is "INBOX".
    public var name: String
    public var parentID: MailboxID?
    public var role: MailboxRole?
    public var isSubscribed: Bool
    public var uidValidity: UInt32
    public var uidNext: UInt32
    public var highestModSeq: ModSeq
    public var totalEmails: Int
    public var unseenEmails: Int

    public init(id: MailboxID, name: String, parentID: MailboxID?, role: MailboxRole?, isSubscribed: Bool, uidValidity: UInt32, uidNext: UInt32, highestModSeq: ModSeq, totalEmails: Int, unseenEmails: Int) {
        self.id = id
        self.name = name
        self.parentID = parentID
        self.role = role
        self.isSubscribed = isSubscribed
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.highestModSeq = highestModSeq
        self.totalEmails = totalEmails
        self.unseenEmails = unseenEmails
    }
}

public struct AccountInfo: Hashable, Sendable {
    public var id: AccountID
    public var tenant: TenantID
    public var highestModSeq: ModSeq
    public var quotaBytes: UInt64?
    public var usedBytes: UInt64
    public var inbox: MailboxID

    public init(id: AccountID, tenant: TenantID, highestModSeq: ModSeq, quotaBytes: UInt64?, usedBytes: UInt64, inbox: MailboxID) {
        self.id = id
        self.tenant = tenant
        self.highestModSeq = highestModSeq
        self.quotaBytes = quotaBytes
        self.usedBytes = usedBytes
        self.inbox = inbox
    }
}

/// Where an appended or delivered copy landed: the shard log's own result, so apply and the
/// store's callers share one type.
public typealias AppendResult = AppendedEmail

public struct DeliveryTarget: Hashable, Sendable {
    public var account: AccountID
    /// nil: the account's inbox.
    public var mailbox: MailboxID?
    public var keywords: Set<Keyword>

    public init(account: AccountID, mailbox: MailboxID? = nil, keywords: Set<Keyword> = []) {
        self.account = account
        self.mailbox = mailbox
        self.keywords = keywords
    }
}

/// One message as a mailbox view lists it.
public struct MessageSummary: Hashable, Sendable {
    public var uid: UInt32
    public var emailID: EmailID
    public var threadID: ThreadID
    public var blobID: BlobID
    public var size: Int
    public var receivedAt: Timestamp
    public var keywords: Set<Keyword>
    /// The modseq of the message's last change (RFC 7162 MODSEQ).
    public var modSeq: ModSeq

    public init(uid: UInt32, emailID: EmailID, threadID: ThreadID, blobID: BlobID, size: Int, receivedAt: Timestamp, keywords: Set<Keyword>, modSeq: ModSeq) {
        self.uid = uid
        self.emailID = emailID
        self.threadID = threadID
        self.blobID = blobID
        self.size = size
        self.receivedAt = receivedAt
        self.keywords = keywords
        self.modSeq = modSeq
    }
}

public struct StoreKeywordsResult: Hashable, Sendable {
    /// Messages whose keywords changed, with their new state.
    public var changed: [MessageSummary]
    /// UIDs refused because they changed after `unchangedSince` (RFC 7162 MODIFIED).
    public var failed: [UInt32]
    public var highestModSeq: ModSeq

    public init(changed: [MessageSummary], failed: [UInt32], highestModSeq: ModSeq) {
        self.changed = changed
        self.failed = failed
        self.highestModSeq = highestModSeq
    }
}

public struct CopyResult: Hashable, Sendable {
    /// UIDVALIDITY of the destination (RFC 4315 COPYUID).
    public var uidValidity: UInt32
    /// Source UID -> destination UID, ascending by source.
    public var mapping: [UIDPair]
    public var highestModSeq: ModSeq

    public init(uidValidity: UInt32, mapping: [UIDPair], highestModSeq: ModSeq) {
        self.uidValidity = uidValidity
        self.mapping = mapping
        self.highestModSeq = highestModSeq
    }
}

/// What changed in an account after a modseq (JMAP /changes, IMAP CONDSTORE/QRESYNC).
/// An id appears in at most one of created/updated/destroyed.
public struct ChangeSet: Hashable, Sendable {
    public var since: ModSeq
    public var upTo: ModSeq
    public var createdEmails: [EmailID] = []
    public var updatedEmails: [EmailID] = []
    public var destroyedEmails: [EmailID] = []
    public var createdMailboxes: [MailboxID] = []
    public var updatedMailboxes: [MailboxID] = []
    public var destroyedMailboxes: [MailboxID] = []
    /// UIDs that left each mailbox (expunged or moved away): QRESYNC VANISHED (EARLIER).
    public var removedUIDs: [MailboxID: [UInt32]] = [:]

    public init(since: ModSeq, upTo: ModSeq, createdEmails: [EmailID] = [], updatedEmails: [EmailID] = [], destroyedEmails: [EmailID] = [], createdMailboxes: [MailboxID] = [], updatedMailboxes: [MailboxID] = [], destroyedMailboxes: [MailboxID] = [], removedUIDs: [MailboxID: [UInt32]] = [:]) {
        self.since = since
        self.upTo = upTo
        self.createdEmails = createdEmails
        self.updatedEmails = updatedEmails
        self.destroyedEmails = destroyedEmails
        self.createdMailboxes = createdMailboxes
        self.updatedMailboxes = updatedMailboxes
        self.destroyedMailboxes = destroyedMailboxes
        self.removedUIDs = removedUIDs
    }
}

/// One email with every mailbox it is in (the JMAP Email view).
public struct EmailInfo: Hashable, Sendable {
    public var id: EmailID
    public var threadID: ThreadID
    public var blobID: BlobID
    public var size: Int
    public var receivedAt: Timestamp
    public var keywords: Set<Keyword>
    /// Mailbox -> this email's UID there.
    public var mailboxes: [MailboxID: UInt32]
    public var modSeq: ModSeq

    public init(id: EmailID, threadID: ThreadID, blobID: BlobID, size: Int, receivedAt: Timestamp, keywords: Set<Keyword>,
                mailboxes: [MailboxID: UInt32], modSeq: ModSeq) {
        self.id = id
        self.threadID = threadID
        self.blobID = blobID
        self.size = size
        self.receivedAt = receivedAt
        self.keywords = keywords
        self.mailboxes = mailboxes
        self.modSeq = modSeq
    }
}
