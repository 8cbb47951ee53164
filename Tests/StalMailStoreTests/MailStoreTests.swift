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
        f.store.shutdown()
    }

    @Test func appendAssignsIncreasingUIDsAndModSeqs() async throws {
        let f = try StoreFixture()
        try await f.store.createAccount(f.account, tenant: f.tenant)
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
        f.store.shutdown()
    }
}
