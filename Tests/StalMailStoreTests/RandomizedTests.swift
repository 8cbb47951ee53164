import StalCore
import StalDeterminism
import StalMailStore
import StalShardLog
import StalStorage
import Testing

@Suite struct RandomizedTests {
    /// Random sequences of every mutating operation; after each step the invariants hold,
    /// and UIDNEXT / UIDVALIDITY of surviving mailboxes never go backwards or change.
    @Test(arguments: [11, 12, 13, 14, 15, 16] as [UInt64])
    func invariantsHoldUnderRandomOperations(seed: UInt64) async throws {
        var rng = SeededRandom(seed: seed)
        var options = MailStore.Options()
        options.inlineBlobBytesMax = 300
        let f = try await StoreFixture.withAccount(seed: seed, options: options)
        var seen: [MailboxID: (uidValidity: UInt32, uidNext: UInt32)] = [:]
        var names = ["A", "A/B", "C", "C/D/E", "Lists"]
        for step in 0..<120 {
            let boxes = try f.store.mailboxes(f.account)
            let box = boxes[Int(rng.next(below: UInt64(boxes.count)))]
            let other = boxes[Int(rng.next(below: UInt64(boxes.count)))]
            let uids = try f.store.messages(f.account, mailbox: box.id).map(\.uid).filter { _ in rng.chance(1, in: 3) }
            do {
                switch rng.next(below: 11) {
                case 0, 1, 2:
                    // Random padding does not compress: about half the bodies become blob-store files.
                    _ = try await f.store.append(f.account, mailbox: box.id,
                                                 bytes: StoreFixture.message(step) + rng.bytes(Int(rng.next(below: 600))),
                                                 keywords: rng.chance(1, in: 2) ? [.seen] : [])
                case 3:
                    let ops: [KeywordOperation] = [.add, .remove, .replace]
                    let kws: [Set<Keyword>] = [[.seen], [.deleted], [.seen, .deleted], [Keyword("x")], []]
                    _ = try await f.store.storeKeywords(f.account, mailbox: box.id, uids: uids,
                                                        operation: ops[Int(rng.next(below: 3))], keywords: kws[Int(rng.next(below: 5))])
                case 4: _ = try await f.store.copy(f.account, from: box.id, uids: uids, to: other.id)
                case 5: _ = try await f.store.move(f.account, from: box.id, uids: uids, to: other.id)
                case 6: _ = try await f.store.expunge(f.account, mailbox: box.id, uids: rng.chance(1, in: 2) ? nil : uids)
                case 7: _ = try await f.store.createMailbox(f.account, name: names[Int(rng.next(below: UInt64(names.count)))])
                case 8:
                    let newName = "R\(step)/" + box.name
                    names.append(newName)
                    _ = try await f.store.renameMailbox(f.account, id: box.id, newName: newName)
                case 9: try await f.store.deleteMailbox(f.account, id: box.id)
                default: _ = try await f.store.collectGarbage(tenant: f.tenant, limit: Int(rng.next(below: 4)))
                }
            } catch let error as StalError where [.alreadyExists, .conflict, .invalidArgument].contains(error.kind) {
                // Refusals are part of the space being explored; the invariants must still hold.
            }
            try checkInvariants(f.store, f.engine, account: f.account)
            for b in try f.store.mailboxes(f.account) {
                if let before = seen[b.id] {
                    #expect(b.uidValidity == before.uidValidity, "step \(step): UIDVALIDITY of \(b.name) changed")
                    #expect(b.uidNext >= before.uidNext, "step \(step): UIDNEXT of \(b.name) went back")
                }
                seen[b.id] = (b.uidValidity, b.uidNext)
            }
        }
        for b in try f.store.mailboxes(f.account) {
            for m in try f.store.messages(f.account, mailbox: b.id) {
                #expect(try await f.store.readBlob(account: f.account, m.blobID).count == m.size)
            }
        }
        #expect(try f.store.highestModSeq(f.account).rawValue > 40)
        #expect(f.blobs.count > 0)
        _ = try await f.store.collectGarbage(tenant: f.tenant, limit: 10_000)
        #expect(f.blobs.count == (try fileBlobRecords(f.engine, tenant: f.tenant)), "files left after collection")
        #expect(seen.count > 6)
        f.store.shutdown()
    }
}
