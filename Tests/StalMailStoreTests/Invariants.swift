import StalCore
@testable import StalMailStore
import StalStorage
import Testing

/// Cross-checks the redundant parts of the store: the UID index copies, mailbox counters,
/// account usage and blob reference counts must all agree with the emails themselves.
/// Blob references are per tenant, so pass every account that holds emails.
func checkInvariants(_ store: MailStore, _ engine: any KVEngine, account: AccountID, others: [AccountID] = []) throws {
    var references: [TenantID: [BlobID: UInt64]] = [:]
    for a in [account] + others { try checkAccount(store, engine, a, &references) }
    for (tenant, blobs) in references {
        for (blob, count) in blobs {
            let rec = try BlobRecord(decoding: try #require(try engine.get(.blobs, Keys.blobRecord(tenant, blob))))
            #expect(rec.references == count, "references of \(blob)")
        }
    }
}

private func checkAccount(_ store: MailStore, _ engine: any KVEngine, _ account: AccountID,
                          _ references: inout [TenantID: [BlobID: UInt64]]) throws {
    let info = try #require(try store.accountInfo(account))
    var emailsSeen: [EmailID: Int] = [:]
    for mailbox in try store.mailboxes(account) {
        let list = try store.messages(account, mailbox: mailbox.id)
        #expect(list.count == mailbox.totalEmails, "total of \(mailbox.name)")
        #expect(list.filter { !$0.keywords.contains(.seen) }.count == mailbox.unseenEmails, "unseen of \(mailbox.name)")
        #expect(list.allSatisfy { $0.uid < mailbox.uidNext && $0.modSeq <= mailbox.highestModSeq }, "uids of \(mailbox.name)")
        for m in list { emailsSeen[m.emailID] = m.size }
    }
    var used: UInt64 = 0
    for pair in try engine.scan(.state, prefix: Keys.emails(account)) {
        let id = EmailID(rawValue: KeyCoding.u64(pair.key, at: 9))
        let rec = try EmailRecord(decoding: pair.value)
        #expect(!rec.memberships.isEmpty, "email \(id) in no mailbox")
        for m in rec.memberships {
            let entry = try #require(try engine.get(.state, Keys.uid(account, m.mailbox, m.uid)))
            #expect(Array(entry[8...]) == pair.value, "UID index copy of \(id)")
        }
        #expect(emailsSeen[id] != nil)
        used += rec.size
        references[info.tenant, default: [:]][rec.blob, default: 0] += 1
    }
    #expect(used == info.usedBytes)
}

/// Blob records of a tenant whose bytes live in the blob store rather than inline.
func fileBlobRecords(_ engine: any KVEngine, tenant: TenantID) throws -> Int {
    try engine.scan(.blobs, prefix: KeyCoding.key(Keys.blobRecord, tenant.rawValue)).filter {
        try !BlobRecord(decoding: $0.value).inline
    }.count
}
