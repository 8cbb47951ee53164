import StalCore
import StalShardLog
import StalStorage
import Testing

let blob = BlobID(digest: [UInt8](repeating: 0xAB, count: 32))!

let everyCommand: [ShardCommand] = [
    .createAccount(CreateAccountCommand(account: AccountID(rawValue: 1), tenant: TenantID(rawValue: 2),
                                        createdAt: Timestamp(millisecondsSinceEpoch: 1_764_000_000_123), quotaBytes: 1 << 30,
                                        mailboxes: [MailboxSeed(id: MailboxID(rawValue: 3), name: "INBOX", role: .inbox),
                                                    MailboxSeed(id: MailboxID(rawValue: 4), name: "Notes", role: nil)])),
    .deleteAccount(DeleteAccountCommand(account: AccountID(rawValue: 1))),
    .createMailbox(CreateMailboxCommand(account: AccountID(rawValue: 1), name: "a/b/c", role: .archive,
                                        ids: [5, 6, 7].map(MailboxID.init(rawValue:)))),
    .renameMailbox(RenameMailboxCommand(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 5), newName: "Ä/ö",
                                        ids: [8, 9].map(MailboxID.init(rawValue:)))),
    .deleteMailbox(DeleteMailboxCommand(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 5))),
    .setSubscribed(SetSubscribedCommand(account: AccountID(rawValue: 1), name: "gone", subscribed: true)),
    .deliver(DeliverCommand(tenant: TenantID(rawValue: 2), blob: BlobReference(id: blob, size: 4096, inlineCompressed: [1, 2, 3]),
                            receivedAt: Timestamp(millisecondsSinceEpoch: -5),
                            entries: [DeliveryEntry(account: AccountID(rawValue: 1), mailbox: nil, keywords: [.seen, Keyword("custom")],
                                                    emailID: EmailID(rawValue: 10), threadID: ThreadID(rawValue: 11)),
                                      DeliveryEntry(account: AccountID(rawValue: 12), mailbox: MailboxID(rawValue: 13), keywords: [],
                                                    emailID: EmailID(rawValue: 14), threadID: ThreadID(rawValue: 14))])),
    .deliver(DeliverCommand(tenant: TenantID(rawValue: 2), blob: BlobReference(id: blob, size: 1 << 20, inlineCompressed: nil,
                                                                              collectedMark: 4242),
                            receivedAt: Timestamp(millisecondsSinceEpoch: 0), entries: [])),
    placedDelivery,
    .deliver(DeliverCommand(tenant: TenantID(rawValue: 2), blob: BlobReference(id: blob, size: 7, inlineCompressed: [4, 5],
                                                                              placement: [6]),
                            receivedAt: Timestamp(millisecondsSinceEpoch: 0), entries: [])),
    .storeKeywords(StoreKeywordsCommand(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 3), uids: [1, 5, 9],
                                        operation: .remove, keywords: [.deleted], unchangedSince: ModSeq(rawValue: 77))),
    .storeKeywords(StoreKeywordsCommand(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 3), uids: [],
                                        operation: .replace, keywords: [], unchangedSince: nil)),
    .copyEmails(CopyEmailsCommand(account: AccountID(rawValue: 1), source: MailboxID(rawValue: 3), uids: [4, 2],
                                  destination: MailboxID(rawValue: 4), move: false,
                                  newEmailIDs: [20, 21].map(EmailID.init(rawValue:)))),
    .expunge(ExpungeCommand(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 3), uids: nil)),
    .expunge(ExpungeCommand(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 3), uids: [1, 2])),
    .collectBlobs(CollectBlobsCommand(tenant: TenantID(rawValue: 3), limit: 100)),
    .addDomain(AddDomainCommand(tenant: TenantID(rawValue: 1), domain: "example.org")),
    .removeDomain(RemoveDomainCommand(domain: "example.org")),
    .addAccount(AddAccountCommand(account: AccountID(rawValue: 1), tenant: TenantID(rawValue: 1), address: "a@example.org",
                                  displayName: "A", passwordHash: "$argon2id$x", quotaBytes: nil)),
    .removeAccount(RemoveAccountCommand(account: AccountID(rawValue: 1))),
    .setPassword(SetPasswordCommand(account: AccountID(rawValue: 1), passwordHash: "$argon2id$y")),
    .addAlias(AddAliasCommand(alias: "b@example.org", account: AccountID(rawValue: 1))),
    .removeAlias(RemoveAliasCommand(alias: "b@example.org")),
    .setCatchAll(SetCatchAllCommand(domain: "example.org", account: nil)),
    .setAdminPassword(SetAdminPasswordCommand(name: "admin", passwordHash: "$argon2id$z")),
    .setProbe(SetProbeCommand(key: "k1", value: [0, 1, 255])),
    .putSieveScript(PutSieveScriptCommand(account: AccountID(rawValue: 1), name: "main", content: "keep;\n", version: 9,
                                          activate: true)),
    .deleteSieveScript(DeleteSieveScriptCommand(account: AccountID(rawValue: 1), name: "old")),
    .activateSieveScript(ActivateSieveScriptCommand(account: AccountID(rawValue: 1), name: "main")),
    .activateSieveScript(ActivateSieveScriptCommand(account: AccountID(rawValue: 1), name: nil)),
    filteredDelivery,
    .removeOutboxEntries(RemoveOutboxEntriesCommand(ids: [1, 1 << 63])),
    .recordBlobPlacement(RecordBlobPlacementCommand(blob: blob, manifest: [1, 2, 3, 0, 255])),
]

/// A blob-store blob whose placement rides its delivery.
let placedDelivery = ShardCommand.deliver(DeliverCommand(
    tenant: TenantID(rawValue: 2),
    blob: BlobReference(id: blob, size: 1 << 20, inlineCompressed: nil, collectedMark: 7, placement: [0x53, 0x54, 0x42, 0x4D, 0, 255]),
    receivedAt: Timestamp(millisecondsSinceEpoch: 9),
    entries: [DeliveryEntry(account: AccountID(rawValue: 1), mailbox: nil, keywords: [], emailID: EmailID(rawValue: 2),
                            threadID: ThreadID(rawValue: 2))]))

let filteredDelivery = ShardCommand.deliverFiltered(DeliverFilteredCommand(
    deliveries: [DeliverCommand(tenant: TenantID(rawValue: 2), blob: BlobReference(id: blob, size: 10, inlineCompressed: [9]),
                                receivedAt: Timestamp(millisecondsSinceEpoch: 1000),
                                entries: [DeliveryEntry(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 3),
                                                        keywords: [.flagged], emailID: EmailID(rawValue: 4),
                                                        threadID: ThreadID(rawValue: 4))])],
    outbox: [OutboxEntry(id: 77, account: AccountID(rawValue: 1), envelopeFrom: "", envelopeTo: "a@example.com",
                         reason: .vacation, createdAt: Timestamp(millisecondsSinceEpoch: 1000), message: Array("Subject: x\r\n\r\n".utf8))],
    memory: [SieveMemoryRecord(account: AccountID(rawValue: 1), key: [1, 2, 3], expiresAt: Timestamp(millisecondsSinceEpoch: 5000))]))

@Suite struct ShardCommandTests {
    @Test(arguments: everyCommand)
    func encodingRoundTrips(_ command: ShardCommand) throws {
        let bytes = command.encode()
        #expect(bytes[0] == ShardCommand.encodingVersion)
        #expect(try ShardCommand(decoding: bytes) == command)
    }

    @Test func sameSetEncodesToSameBytes() {
        let a = ShardCommand.storeKeywords(StoreKeywordsCommand(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 1),
                                                                uids: [1], operation: .add,
                                                                keywords: [.seen, .flagged, .answered, Keyword("x")], unchangedSince: nil))
        let encodings = Set((0..<20).map { _ in a.encode() })
        #expect(encodings.count == 1)
    }

    @Test func rejectsUnknownVersionTagTruncationAndTrailingBytes() throws {
        let good = everyCommand[6].encode()
        var wrongVersion = good
        wrongVersion[0] = 99
        #expect(throws: StalError(.corrupted, "shard command encoding version 99 is not supported")) {
            try ShardCommand(decoding: wrongVersion)
        }
        var wrongTag = good
        wrongTag[1] = 200
        #expect(throws: StalError(.corrupted, "unknown shard command tag 200")) { try ShardCommand(decoding: wrongTag) }
        for cut in [1, 2, 10, good.count - 1] {
            #expect(throws: StalError.self) { try ShardCommand(decoding: Array(good.prefix(cut))) }
        }
        #expect(throws: StalError(.corrupted, "1 trailing bytes")) { try ShardCommand(decoding: good + [0]) }
    }

    /// A filtered delivery nests delivery commands: every cut of it is refused, never read
    /// past its end.
    @Test func everyCutOfAFilteredDeliveryIsRefused() {
        let bytes = filteredDelivery.encode()
        for cut in 0..<bytes.count {
            #expect(throws: StalError.self) { try ShardCommand(decoding: Array(bytes.prefix(cut))) }
        }
    }

    /// Before placements the blob body was a bool and the inline bytes: a delivery without a
    /// placement must still encode to exactly those bytes, so logs written then decode now.
    @Test func aDeliveryWithoutAPlacementKeepsTheEarlierLayout() throws {
        for (inline, mark) in [([UInt8]?.some([1, 2, 3]), UInt64(0)), (nil, 4242)] {
            let command = DeliverCommand(tenant: TenantID(rawValue: 2), blob: BlobReference(id: blob, size: 99, inlineCompressed: inline,
                                                                                           collectedMark: mark),
                                         receivedAt: Timestamp(millisecondsSinceEpoch: -5),
                                         entries: [DeliveryEntry(account: AccountID(rawValue: 1), mailbox: MailboxID(rawValue: 3),
                                                                 keywords: [.seen], emailID: EmailID(rawValue: 10),
                                                                 threadID: ThreadID(rawValue: 11))])
            var w = ByteWriter()
            w.u8(1); w.u8(7)  // version 1, deliver
            w.u64(2); w.raw(blob.digest); w.u64(99)
            if let inline { w.bool(true); w.lengthPrefixed(inline) } else { w.bool(false) }
            w.u64(mark); w.i64(-5)
            w.u32(1); w.u64(1); w.optionalU64(3); w.u32(1); w.string("$seen"); w.u64(10); w.u64(11)
            #expect(ShardCommand.deliver(command).encode() == w.bytes)
            #expect(try ShardCommand(decoding: w.bytes) == .deliver(command))
        }
    }

    /// Every cut of a delivery carrying a placement is refused, and so are unknown flag bits
    /// and a placement over its bound.
    @Test func aDeliveryPlacementIsBoundedAndEveryCutIsRefused() throws {
        let bytes = placedDelivery.encode()
        for cut in 0..<bytes.count {
            #expect(throws: StalError.self) { try ShardCommand(decoding: Array(bytes.prefix(cut))) }
        }
        // version, tag, tenant, blob id, size: the flags byte follows.
        let flagsAt = 2 + 8 + 32 + 8
        #expect(bytes[flagsAt] == 2)
        var unknownFlag = bytes
        unknownFlag[flagsAt] = 6
        #expect(throws: StalError(.corrupted, "delivery blob flags 6")) { try ShardCommand(decoding: unknownFlag) }

        func delivery(placementBytes: Int) -> ShardCommand {
            .deliver(DeliverCommand(tenant: TenantID(rawValue: 2),
                                    blob: BlobReference(id: blob, size: 1, inlineCompressed: nil,
                                                        placement: [UInt8](repeating: 7, count: placementBytes)),
                                    receivedAt: Timestamp(millisecondsSinceEpoch: 0), entries: []))
        }
        let largest = delivery(placementBytes: BlobReference.placementBytesMax)
        #expect(try ShardCommand(decoding: largest.encode()) == largest)
        #expect(throws: StalError(.corrupted, "length \(BlobReference.placementBytesMax + 1) over \(BlobReference.placementBytesMax)")) {
            try ShardCommand(decoding: delivery(placementBytes: BlobReference.placementBytesMax + 1).encode())
        }
    }

    @Test func aBlobPlacementOverItsBoundIsRefused() throws {
        let largest = ShardCommand.recordBlobPlacement(RecordBlobPlacementCommand(
            blob: blob, manifest: [UInt8](repeating: 7, count: RecordBlobPlacementCommand.manifestBytesMax)))
        #expect(try ShardCommand(decoding: largest.encode()) == largest)
        let over = ShardCommand.recordBlobPlacement(RecordBlobPlacementCommand(
            blob: blob, manifest: [UInt8](repeating: 7, count: RecordBlobPlacementCommand.manifestBytesMax + 1)))
        #expect(throws: StalError.self) { try ShardCommand(decoding: over.encode()) }
    }

    @Test func hugeCountsAreRejectedBeforeAllocating() {
        var w = ByteWriter()
        w.u8(ShardCommand.encodingVersion)
        w.u8(10)  // expunge
        w.u64(1); w.u64(2); w.u8(1); w.u32(0xFFFF_FFFF)
        #expect(throws: StalError.self) { try ShardCommand(decoding: w.bytes) }
    }
}
