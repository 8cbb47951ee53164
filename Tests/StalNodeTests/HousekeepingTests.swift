import Foundation
import StalCore
import StalDeterminism
import StalNode
import Testing

@Suite struct HousekeepingTests {
    func blobFiles(under path: String) -> [String] {
        let e = FileManager.default.enumerator(atPath: path)
        var files: [String] = []
        while let item = e?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path + "/" + item, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(item)
            }
        }
        return files
    }

    /// The collection drops the blob's manifest at once; its shard file (the embedded
    /// default's one) goes on the first pass after the grace period.
    @Test func expungedLargeMessageLosesItsBlobFileAfterTheGracePeriod() async throws {
        let clock = ManualClock(Timestamp(millisecondsSinceEpoch: 1_800_000_000_000))
        let t = try await TestNode(accounts: ["alice@example.test"], adjust: { $0.clock = clock })
        defer { Task { await t.stop() } }
        let account = try #require(try t.node.directory.account(address: EmailAddress("alice@example.test")!))
        let inbox = try #require(try t.node.mailStore.mailboxes(account.id).first { $0.role == .inbox })
        // Incompressible content well over the inline threshold goes to a blob file.
        var random = SeededRandom(seed: 7)
        let body = random.bytes(300_000).map { UInt8(ascii: "A") + $0 % 26 }
        let message = Array("Subject: large\r\n\r\n".utf8) + body + Array("\r\n".utf8)
        _ = try await t.node.mailStore.append(account.id, mailbox: inbox.id, bytes: message, keywords: [.deleted])
        let blobs = t.dataDirectory + "/blobs"
        #expect(blobFiles(under: blobs).count == 1)
        #expect(try await t.node.runHousekeeping() == 0)
        #expect(try await t.node.mailStore.expunge(account.id, mailbox: inbox.id).count == 1)
        #expect(try await t.node.runHousekeeping() == 1)
        #expect(try t.node.mailStore.blobPlacementIDs().isEmpty)
        #expect(blobFiles(under: blobs).count == 1)
        clock.advance(milliseconds: try #require(t.node.blobStore).configuration.garbageGraceMilliseconds + 1)
        #expect(try await t.node.runHousekeeping() == 0)
        #expect(blobFiles(under: blobs).isEmpty)
    }
}
