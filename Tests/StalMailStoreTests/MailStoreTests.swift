import StalCore
import StalDeterminism
import StalMailStore
import StalShardLog
import StalStorage
import Testing

@Suite struct MailStoreTests {
    @Test func createAccountMakesRoleMailboxes() async throws {
        let f = try StoreFixture()
        let boxes = try await f.store.createAccount(f.account, tenant: f.tenant)
        #expect(boxes.map(\.name) == ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"])
        #expect(Set(boxes.compactMap(\.role)) == [.inbox, .drafts, .sent, .junk, .trash, .archive])
        #expect(boxes.allSatisfy { $0.uidNext == 1 && $0.isSubscribed && $0.totalEmails == 0 })
        #expect(Set(boxes.map(\.uidValidity)).count == 6)
        let again = try await f.store.createAccount(f.account, tenant: f.tenant)
        #expect(again == boxes)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func appendAssignsIncreasingUIDsAndModSeqs() async throws {
        let f = try await StoreFixture.withAccount()
        let inbox = try f.inbox()
        let a = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(1), keywords: [.seen])
        let b = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(2))
        #expect(a.uid == 1 && b.uid == 2)
        #expect(a.modSeq < b.modSeq)
        let info = try #require(try f.store.mailbox(f.account, id: inbox))
        #expect(info.uidNext == 3 && info.totalEmails == 2 && info.unseenEmails == 1)
        #expect(info.highestModSeq == b.modSeq)
        let list = try f.store.messages(f.account, mailbox: inbox)
        #expect(list.map(\.uid) == [1, 2])
        #expect(list[0].keywords == [.seen])
        let body = try await f.store.readBlob(account: f.account, list[1].blobID)
        #expect(body == StoreFixture.message(2))
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }
}

@Suite struct MailboxTests {
    @Test func createMailboxMakesMissingParents() async throws {
        let f = try await StoreFixture.withAccount()
        let leaf = try await f.store.createMailbox(f.account, name: "Work/Projects/Stal")
        let boxes = try f.store.mailboxes(f.account)
        let work = try #require(boxes.first { $0.name == "Work" })
        let projects = try #require(boxes.first { $0.name == "Work/Projects" })
        #expect(projects.parentID == work.id)
        #expect(leaf.parentID == projects.id)
        #expect(leaf.uidValidity > work.uidValidity)
        await #expect(throws: StalError(.alreadyExists, "mailbox Work/Projects/Stal")) {
            try await f.store.createMailbox(f.account, name: "Work/Projects/Stal")
        }
        await #expect(throws: StalError.self) { try await f.store.createMailbox(f.account, name: "Bad//Name") }
        let inbox = try #require(try f.store.mailbox(f.account, named: "inbox"))
        #expect(inbox.role == .inbox)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func renameMovesChildrenAndKeepsUIDValidity() async throws {
        let f = try await StoreFixture.withAccount()
        let parent = try await f.store.createMailbox(f.account, name: "A")
        let child = try await f.store.createMailbox(f.account, name: "A/B")
        let renamed = try await f.store.renameMailbox(f.account, id: parent.id, newName: "X/Y")
        #expect(renamed.id == parent.id && renamed.name == "X/Y" && renamed.uidValidity == parent.uidValidity)
        #expect(try f.store.mailbox(f.account, id: child.id)?.name == "X/Y/B")
        #expect(try f.store.mailbox(f.account, named: "A") == nil)
        #expect(try f.store.mailbox(f.account, named: "X")?.id == renamed.parentID)
        #expect(try f.store.subscriptions(f.account).contains("X/Y") == false)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func renamingInboxMovesItsMessages() async throws {
        let f = try await StoreFixture.withAccount()
        let inbox = try f.inbox()
        for i in 1...3 { _ = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(i)) }
        let old = try await f.store.renameMailbox(f.account, id: inbox, newName: "Old Inbox")
        #expect(old.id != inbox && old.totalEmails == 3 && old.uidNext == 4)
        let stillInbox = try #require(try f.store.mailbox(f.account, id: inbox))
        #expect(stillInbox.name == "INBOX" && stillInbox.totalEmails == 0 && stillInbox.uidNext == 4)
        #expect(try f.store.messages(f.account, mailbox: old.id).map(\.uid) == [1, 2, 3])
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func deleteRefusesInboxAndParentsAndDestroysMessages() async throws {
        let f = try await StoreFixture.withAccount()
        await #expect(throws: StalError(.invalidArgument, "INBOX cannot be deleted")) {
            try await f.store.deleteMailbox(f.account, id: try f.inbox())
        }
        let parent = try await f.store.createMailbox(f.account, name: "P")
        let child = try await f.store.createMailbox(f.account, name: "P/C")
        await #expect(throws: StalError(.conflict, "mailbox P has child mailboxes")) {
            try await f.store.deleteMailbox(f.account, id: parent.id)
        }
        let appended = try await f.store.append(f.account, mailbox: child.id, bytes: StoreFixture.message(1))
        let before = try f.store.highestModSeq(f.account)
        try await f.store.deleteMailbox(f.account, id: child.id)
        #expect(try f.store.mailbox(f.account, id: child.id) == nil)
        let changes = try f.store.changes(f.account, since: before)
        #expect(changes.destroyedEmails == [appended.emailID])
        #expect(changes.destroyedMailboxes == [child.id])
        #expect(try f.engine.scan(.blobs, .all).isEmpty)
        #expect(try f.store.accountInfo(f.account)?.usedBytes == 0)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func subscriptionsMayNameMissingMailboxes() async throws {
        let f = try await StoreFixture.withAccount()
        try await f.store.setSubscribed(f.account, name: "Not/There", true)
        #expect(try f.store.subscriptions(f.account).contains("Not/There"))
        let sent = try #require(try f.store.mailboxes(f.account).first { $0.role == .sent })
        try await f.store.setSubscribed(f.account, id: sent.id, false)
        #expect(try f.store.mailbox(f.account, id: sent.id)?.isSubscribed == false)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }
}

@Suite struct MessageTests {
    @Test func storeKeywordsUpdatesCountsAndHonoursUnchangedSince() async throws {
        let f = try await StoreFixture.withAccount()
        let inbox = try f.inbox()
        let first = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(1))
        _ = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(2))
        let added = try await f.store.storeKeywords(f.account, mailbox: inbox, uids: [1, 2, 99], operation: .add,
                                                    keywords: [.seen, .flagged])
        #expect(added.changed.map(\.uid) == [1, 2])
        #expect(added.changed.allSatisfy { $0.keywords == [.seen, .flagged] && $0.modSeq == added.highestModSeq })
        #expect(try f.store.mailbox(f.account, id: inbox)?.unseenEmails == 0)
        let conditional = try await f.store.storeKeywords(f.account, mailbox: inbox, uids: [1], operation: .remove,
                                                          keywords: [.seen], unchangedSince: first.modSeq)
        #expect(conditional.changed.isEmpty && conditional.failed == [1])
        let replaced = try await f.store.storeKeywords(f.account, mailbox: inbox, uids: [1], operation: .replace,
                                                       keywords: [Keyword("$label1")], unchangedSince: added.highestModSeq)
        #expect(replaced.changed.first?.keywords == [Keyword("$label1")])
        #expect(try f.store.mailbox(f.account, id: inbox)?.unseenEmails == 1)
        let unchanged = try await f.store.storeKeywords(f.account, mailbox: inbox, uids: [1], operation: .add,
                                                        keywords: [Keyword("$label1")])
        #expect(unchanged.changed.isEmpty && unchanged.highestModSeq == replaced.highestModSeq)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func copyCreatesNewEmailsSharingTheBlob() async throws {
        let f = try await StoreFixture.withAccount()
        let inbox = try f.inbox()
        let archive = try #require(try f.store.mailboxes(f.account).first { $0.role == .archive })
        for i in 1...3 { _ = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(i), keywords: [.seen]) }
        let copied = try await f.store.copy(f.account, from: inbox, uids: [3, 1, 42], to: archive.id)
        #expect(copied.uidValidity == archive.uidValidity)
        #expect(copied.mapping == [UIDPair(source: 1, destination: 1), UIDPair(source: 3, destination: 2)])
        let originals = try f.store.messages(f.account, mailbox: inbox)
        let copies = try f.store.messages(f.account, mailbox: archive.id)
        #expect(copies.map(\.blobID) == [originals[0].blobID, originals[2].blobID])
        #expect(Set(copies.map(\.emailID)).isDisjoint(with: originals.map(\.emailID)))
        #expect(copies.allSatisfy { $0.keywords == [.seen] })
        _ = try await f.store.storeKeywords(f.account, mailbox: inbox, uids: [1, 2, 3], operation: .add, keywords: [.deleted])
        #expect(try await f.store.expunge(f.account, mailbox: inbox) == [1, 2, 3])
        let body = try await f.store.readBlob(account: f.account, copies[0].blobID)
        #expect(body == StoreFixture.message(1))
        #expect(try f.engine.scan(.blobs, prefix: [UInt8(ascii: "r")]).count == 2)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func moveKeepsEmailIDAndReportsRemovedUIDs() async throws {
        let f = try await StoreFixture.withAccount()
        let inbox = try f.inbox()
        let trash = try #require(try f.store.mailboxes(f.account).first { $0.role == .trash })
        let a = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(1))
        let before = try f.store.highestModSeq(f.account)
        let moved = try await f.store.move(f.account, from: inbox, uids: [a.uid], to: trash.id)
        #expect(moved.mapping == [UIDPair(source: 1, destination: 1)])
        #expect(try f.store.messages(f.account, mailbox: inbox).isEmpty)
        #expect(try f.store.messages(f.account, mailbox: trash.id).map(\.emailID) == [a.emailID])
        let email = try #require(try f.store.email(f.account, id: a.emailID))
        #expect(email.mailboxes == [trash.id: 1] && email.modSeq == moved.highestModSeq)
        let inboxInfo = try #require(try f.store.mailbox(f.account, id: inbox))
        #expect(inboxInfo.totalEmails == 0 && inboxInfo.unseenEmails == 0)
        #expect(try f.store.mailbox(f.account, id: trash.id)?.unseenEmails == 1)
        let changes = try f.store.changes(f.account, since: before)
        #expect(changes.updatedEmails == [a.emailID] && changes.createdEmails.isEmpty)
        #expect(changes.removedUIDs == [inbox: [1]])
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func expungeRemovesOnlyDeletedAndReleasesInlineBlobs() async throws {
        let f = try await StoreFixture.withAccount()
        let inbox = try f.inbox()
        for i in 1...4 { _ = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(i)) }
        _ = try await f.store.storeKeywords(f.account, mailbox: inbox, uids: [2, 3], operation: .add, keywords: [.deleted])
        #expect(try await f.store.expunge(f.account, mailbox: inbox, uids: [1, 2]) == [2])
        #expect(try await f.store.expunge(f.account, mailbox: inbox) == [3])
        #expect(try f.store.messages(f.account, mailbox: inbox).map(\.uid) == [1, 4])
        #expect(try f.engine.scan(.blobs, prefix: [UInt8(ascii: "d")]).count == 2)
        let info = try #require(try f.store.mailbox(f.account, id: inbox))
        #expect(info.totalEmails == 2 && info.uidNext == 5)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func changesFoldCreatedThenDestroyed() async throws {
        let f = try await StoreFixture.withAccount()
        let inbox = try f.inbox()
        let start = try f.store.highestModSeq(f.account)
        let kept = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(1))
        let gone = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(2))
        _ = try await f.store.storeKeywords(f.account, mailbox: inbox, uids: [gone.uid], operation: .add, keywords: [.deleted])
        _ = try await f.store.expunge(f.account, mailbox: inbox)
        let all = try f.store.changes(f.account, since: start)
        #expect(all.createdEmails == [kept.emailID])
        #expect(all.updatedEmails.isEmpty && all.destroyedEmails.isEmpty)
        #expect(all.updatedMailboxes == [inbox])
        let late = try f.store.changes(f.account, since: gone.modSeq)
        #expect(late.destroyedEmails == [gone.emailID] && late.createdEmails.isEmpty)
        #expect(try f.store.changes(f.account, since: all.upTo).createdEmails.isEmpty)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func changeLogIsPrunedAndOldStatesAreRefused() async throws {
        var options = MailStore.Options()
        options.changeLogRetained = 5
        let f = try await StoreFixture.withAccount(options: options)
        let inbox = try f.inbox()
        let start = try f.store.highestModSeq(f.account)
        for i in 0..<10 { _ = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(i)) }
        #expect(try f.engine.scan(.state, prefix: [UInt8(ascii: "c")]).count == 5)
        #expect(throws: StalError(.limitExceeded, "changes since modseq \(start) are no longer kept")) {
            try f.store.changes(f.account, since: start)
        }
        let recent = try f.store.changes(f.account, since: ModSeq(rawValue: start.rawValue + 5))
        #expect(recent.createdEmails.count == 5)
        f.store.shutdown()
    }

    @Test func notificationsFireAfterCommit() async throws {
        let f = try await StoreFixture.withAccount()
        let stream = f.store.changeNotifications(f.account)
        let appended = try await f.store.append(f.account, mailbox: try f.inbox(), bytes: StoreFixture.message(1))
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next() == appended.modSeq)
    }

    @Test func quotaRefusesOversizedDelivery() async throws {
        let f = try StoreFixture()
        try await f.store.createAccount(f.account, tenant: f.tenant, quotaBytes: 100)
        let inbox = try f.inbox()
        _ = try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(1))
        await #expect(throws: StalError(.quotaExceeded, "account 1001 is over quota")) {
            try await f.store.append(f.account, mailbox: inbox, bytes: StoreFixture.message(2, padding: 100))
        }
        #expect(try f.store.messages(f.account, mailbox: inbox).count == 1)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }
}

@Suite struct DeliveryTests {
    @Test func oneBlobPerTenantForManyRecipients() async throws {
        let f = try StoreFixture()
        let other = AccountID(rawValue: 2002)
        let foreign = AccountID(rawValue: 3003)
        try await f.store.createAccount(f.account, tenant: f.tenant)
        try await f.store.createAccount(other, tenant: f.tenant)
        try await f.store.createAccount(foreign, tenant: TenantID(rawValue: 9))
        let bytes = StoreFixture.message(7)
        let results = try await f.store.deliver(bytes, recipients: [
            DeliveryTarget(account: f.account), DeliveryTarget(account: other, keywords: [.flagged]),
            DeliveryTarget(account: foreign), DeliveryTarget(account: AccountID(rawValue: 404)),
            DeliveryTarget(account: other, mailbox: MailboxID(rawValue: 12345)),
        ])
        #expect(try results[0].get().uid == 1)
        #expect(try results[1].get().uid == 1)
        #expect(try results[2].get().uid == 1)
        #expect(throws: StalError(.notFound, "account 404")) { try results[3].get() }
        #expect(throws: StalError(.notFound, "mailbox 12345")) { try results[4].get() }
        let records = try f.engine.scan(.blobs, prefix: [UInt8(ascii: "r")])
        #expect(records.count == 2)  // one per tenant
        let id = MailStore.blobID(for: bytes)
        #expect(try await f.store.readBlob(tenant: f.tenant, id) == bytes)
        #expect(try await f.store.readBlob(account: foreign, id, range: 0..<9) == Array(bytes.prefix(9)))
        try checkInvariants(f.store, f.engine, account: f.account, others: [other, foreign])
        f.store.shutdown()
    }

    @Test func largeBlobsGoToTheBlobStoreBeforeTheCommand() async throws {
        var options = MailStore.Options()
        options.inlineBlobBytesMax = 16
        let f = try await StoreFixture.withAccount(options: options)
        let bytes = StoreFixture.message(1, padding: 5000)
        let r = try await f.store.append(f.account, mailbox: try f.inbox(), bytes: bytes)
        #expect(f.blobs.count == 1)
        #expect(try f.engine.scan(.blobs, prefix: [UInt8(ascii: "d")]).isEmpty)
        // A directory of files finds blobs by id: no placement is recorded.
        #expect(try f.store.blobPlacementIDs().isEmpty)
        let summary = try #require(try f.store.messages(f.account, mailbox: r.mailbox).first)
        #expect(try await f.store.readBlob(account: f.account, summary.blobID) == bytes)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    @Test func unreferencedBlobFilesAreCollected() async throws {
        var options = MailStore.Options()
        options.inlineBlobBytesMax = 16
        let f = try await StoreFixture.withAccount(options: options)
        let inbox = try f.inbox()
        let bytes = StoreFixture.message(1, padding: 3000)
        let id = MailStore.blobID(for: bytes)
        _ = try await f.store.append(f.account, mailbox: inbox, bytes: bytes, keywords: [.deleted])
        #expect(try await f.store.collectGarbage(tenant: f.tenant).isEmpty)
        _ = try await f.store.expunge(f.account, mailbox: inbox)
        #expect(f.blobs.count == 1)
        #expect(try await f.store.collectGarbage(tenant: f.tenant) == [id])
        #expect(f.blobs.count == 0)
        #expect(try await f.store.collectGarbage(tenant: f.tenant).isEmpty)
        let again = try await f.store.append(f.account, mailbox: inbox, bytes: bytes)
        #expect(f.blobs.count == 1)
        let summary = try #require(try f.store.messages(f.account, mailbox: inbox).first { $0.uid == again.uid })
        #expect(try await f.store.readBlob(account: f.account, summary.blobID) == bytes)
        try checkInvariants(f.store, f.engine, account: f.account)
        f.store.shutdown()
    }

    /// A delivery prepared before a collection (it saw the file, then the file was deleted)
    /// must be refused rather than reference the deleted file.
    @Test func deliveryRacingACollectionIsRefused() async throws {
        let engine = MemoryEngine()
        let blobs = MemoryBlobStore()
        let notifier = ChangeNotifier(engine: engine)
        let driver = try RaftNodeDriver(engine: engine, nodeID: 1, transport: nil)
        defer { driver.shutdown() }
        let log = try driver.addGroup(shard: 0, stateMachine: MailStateMachine(notifier: notifier, blobs: blobs))
        var options = MailStore.Options()
        options.inlineBlobBytesMax = 16
        let store = MailStore(engine: engine, log: log, blobs: blobs, notifier: notifier, clock: ManualClock(),
                              random: SeededRandom(seed: 4), options: options)
        let account = AccountID(rawValue: 9)
        let tenant = TenantID(rawValue: 1)
        try await store.createAccount(account, tenant: tenant)
        let inbox = try store.mailboxes(account).first { $0.role == .inbox }!.id
        let bytes = StoreFixture.message(2, padding: 3000)
        _ = try await store.append(account, mailbox: inbox, bytes: bytes, keywords: [.deleted])
        _ = try await store.expunge(account, mailbox: inbox)
        let id = MailStore.blobID(for: bytes)
        let stale = DeliverCommand(tenant: tenant, blob: BlobReference(id: id, size: UInt64(bytes.count), inlineCompressed: nil),
                                   receivedAt: Timestamp(millisecondsSinceEpoch: 0),
                                   entries: [DeliveryEntry(account: account, mailbox: nil, keywords: [], emailID: EmailID(rawValue: 77),
                                                           threadID: ThreadID(rawValue: 77))])
        #expect(try await store.collectGarbage(tenant: tenant) == [id])
        let refused = try await log.propose(.deliver(stale))
        guard case let .failed(error) = refused else {
            Issue.record("stale delivery applied: \(refused)")
            return
        }
        #expect(error.kind == .conflict)
        #expect(try store.messages(account, mailbox: inbox).isEmpty)
        let retried = try await store.append(account, mailbox: inbox, bytes: bytes)
        #expect(retried.uid == 2)
        #expect(try await store.readBlob(account: account, MailStore.blobID(for: bytes)) == bytes)
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(BlobID(digest: SHA256.hash([]))!.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(BlobID(digest: SHA256.hash(Array("abc".utf8)))!.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(BlobID(digest: SHA256.hash(long))!.hex == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var incremental = SHA256()
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        for chunk in stride(from: 0, to: million.count, by: 999) { incremental.update(Array(million[chunk..<min(chunk + 999, million.count)])) }
        #expect(BlobID(digest: incremental.finalize())!.hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

/// A blob store that runs a hook after its next write: the race of a collection committing
/// between a delivery's blob write and its log entry, made to happen on purpose.
final class HookedBlobStore: MailBlobStore, @unchecked Sendable {
    let inner = MemoryBlobStore()
    private let lock = Mutex()
    private var afterNextWrite: (@Sendable () async throws -> Void)?
    private(set) var writes = 0

    func runAfterNextWrite(_ hook: @escaping @Sendable () async throws -> Void) {
        lock.withLock { afterNextWrite = hook }
    }

    func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws -> [UInt8]? {
        try await inner.write(tenant: tenant, id: id, compressed: compressed)
        let hook = lock.withLock { () -> (@Sendable () async throws -> Void)? in
            writes += 1
            defer { afterNextWrite = nil }
            return afterNextWrite
        }
        try await hook?()
        return nil
    }

    func read(tenant: TenantID, id: BlobID) async throws -> [UInt8] { try await inner.read(tenant: tenant, id: id) }
    func delete(tenant: TenantID, id: BlobID) throws { try inner.delete(tenant: tenant, id: id) }
}

@Suite struct BlobCollectionRaceTests {
    /// The collection deletes the file the delivery has just written; the delivery must not
    /// be accepted with a reference to it, but write it again.
    @Test func aCollectionBetweenWriteAndApplyMakesTheDeliveryWriteAgain() async throws {
        let blobs = HookedBlobStore()
        let store = try MailStore.local(engine: MemoryEngine(), blobs: blobs, clock: ManualClock(), random: SeededRandom(seed: 9))
        let account = AccountID(rawValue: 5), tenant = TenantID(rawValue: 1)
        try await store.createAccount(account, tenant: tenant)
        let inbox = try #require(try store.mailbox(account, named: "INBOX")).id
        var random = SeededRandom(seed: 10)
        let large = Array("Subject: big\r\n\r\n".utf8) + (0..<200_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }

        _ = try await store.append(account, mailbox: inbox, bytes: large, keywords: [.deleted])
        _ = try await store.expunge(account, mailbox: inbox)
        blobs.runAfterNextWrite { _ = try await store.collectGarbage(tenant: tenant) }
        _ = try await store.append(account, mailbox: inbox, bytes: large)

        #expect(blobs.writes == 3)
        let stored = try #require(try store.messages(account, mailbox: inbox).first)
        #expect(try await store.readBlob(account: account, stored.blobID) == large)
        store.shutdown()
    }
}
