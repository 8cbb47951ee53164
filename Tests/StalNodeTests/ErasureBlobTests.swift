import Foundation
import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure
import StalMailStore
import StalNode
import Testing

/// A node whose `[blobs]` section spreads mail over six locations as 4+2: mail goes in over
/// SMTP, shards are damaged on disk, and IMAP and `stalctl blob` see the consequences.
@Suite(.serialized) struct ErasureBlobTests {
    /// Locations must exist: a missing location directory counts as a lost disk.
    static func sixLocations(_ configuration: inout NodeConfiguration, _ data: String) {
        for disk in 0..<6 { try! FileManager.default.createDirectory(atPath: "\(data)/disk\(disk)", withIntermediateDirectories: true) }
        configuration.blobs = .init(
            locations: (0..<6).map { .init(path: "\(data)/disk\($0)", failureDomain: "domain\($0)") },
            dataShards: 4, parityShards: 2)
    }

    /// A message large and incompressible enough to be erasure-coded rather than inlined in
    /// the log (base64 of seeded pseudo-random bytes, 76-column lines).
    static func largeMessage(seed: UInt64, subject: String) -> String {
        var state = seed
        var bytes = [UInt8]()
        for _ in 0..<(160 * 1024) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        let encoded = Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return "From: sender@elsewhere.test\r\nTo: alice@example.test\r\nSubject: \(subject)\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + encoded + "\r\n"
    }

    /// Shard files by blob: `<location>/<2 hex>/<64 hex>.<index>.shard`.
    static func shardFiles(_ data: String) throws -> [String: [Int: String]] {
        var byBlob: [String: [Int: String]] = [:]
        let fm = FileManager.default
        for disk in 0..<6 {
            let root = "\(data)/disk\(disk)"
            for sub in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
                for name in try fm.contentsOfDirectory(atPath: "\(root)/\(sub)") where name.hasSuffix(".shard") {
                    let parts = name.split(separator: ".")
                    byBlob[String(parts[0]), default: [:]][Int(parts[1])!] = "\(root)/\(sub)/\(name)"
                }
            }
        }
        return byBlob
    }

    /// Flips one byte well inside the payload, past the header.
    static func corrupt(_ path: String) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 100] ^= 0x5A
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    func send(_ t: TestNode, _ message: String) async throws {
        let file = TestPaths.temporaryDirectory("msg") + "/message.eml"
        #expect(FileManager.default.createFile(atPath: file, contents: Data(message.utf8)))
        let sent = try await mailClient(["send", "--port", "\(t.port(.smtp))", "--from", "sender@elsewhere.test",
                                         "--to", "alice@example.test", "--file", file])
        #expect(sent.stdout.contains("sent refused=0"), "\(sent.stdout) \(sent.stderr)")
    }

    func fetch(_ t: TestNode, index: Int) async throws -> (ProcessResult, String) {
        let out = TestPaths.temporaryDirectory("fetch") + "/fetched.eml"
        let result = try await mailClient(["fetch", "--port", "\(t.port(.imap))", "--user", "alice@example.test",
                                           "--password", TestNode.password, "--index", "\(index)", "--out", out])
        let body = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return (result, body)
    }

    /// Messages 1...count of alice's INBOX as IMAP serves them; each fetch must succeed.
    func served(_ t: TestNode, count: Int) async throws -> [String] {
        var bodies: [String] = []
        for index in 1...count {
            let (result, body) = try await fetch(t, index: index)
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            bodies.append(body)
        }
        return bodies
    }

    /// `stalctl blob <command>` against the node.
    func stalctlBlob(_ t: TestNode, _ command: String) async throws -> ProcessResult {
        try await runProcess(TestPaths.executable("stalctl"), ["blob", command], environment: ["STAL_DATA": t.dataDirectory])
    }

    @Test func damagedShardsStillServeIdenticalMailScrubHealsThemAndMPlusOneIsAnError() async throws {
        let t = try await TestNode(accounts: ["alice@example.test"], configure: Self.sixLocations)
        defer { Task { await t.stop() } }
        let messages = (0..<3).map { Self.largeMessage(seed: UInt64($0 + 1), subject: "large \($0)") }
        for message in messages { try await send(t, message) }

        let original = try await served(t, count: 3)
        #expect(zip(original, messages).allSatisfy { $0.hasSuffix($1) })

        var shards = try Self.shardFiles(t.dataDirectory)
        #expect(shards.count == 3)
        #expect(shards.values.allSatisfy { $0.count == 6 })
        #expect(Set(shards.values.flatMap { $0.values.map { URL(fileURLWithPath: $0).pathComponents.dropLast(2).last! } }).count == 6)

        // m = 2 damaged shards per blob: one deleted, one with a flipped payload byte.
        for files in shards.values {
            try FileManager.default.removeItem(atPath: files[0]!)
            try Self.corrupt(files[3]!)
        }
        #expect(try await served(t, count: 3) == original)

        // The reads decoded around the damage and queued the blobs for the next scrub step.
        let degraded = try await stalctlBlob(t, "status")
        #expect(degraded.stdout.contains("health\tdegraded"), "\(degraded.stdout)")
        #expect(degraded.stdout.contains("awaiting heal\t3"), "\(degraded.stdout)")
        let scrub = try await stalctlBlob(t, "scrub")
        #expect(scrub.status == 0, "\(scrub.stdout) \(scrub.stderr)")
        #expect(scrub.stdout.contains("checked 3\t"), "\(scrub.stdout)")
        #expect(scrub.stdout.contains("missing 3\t"), "\(scrub.stdout)")
        #expect(scrub.stdout.contains("corrupt 3\t"), "\(scrub.stdout)")
        #expect(scrub.stdout.contains("healed 6\t"), "\(scrub.stdout)")
        shards = try Self.shardFiles(t.dataDirectory)
        #expect(shards.values.allSatisfy { $0.count == 6 })
        let clean = try await stalctlBlob(t, "scrub")
        #expect(clean.stdout.contains("missing 0\tcorrupt 0\thealed 0"), "\(clean.stdout)")

        let status = try await stalctlBlob(t, "status")
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("health\thealthy"), "\(status.stdout)")
        #expect(status.stdout.contains("scheme\t4+2"), "\(status.stdout)")
        #expect(status.stdout.contains("blobs\t3\tinline 0\tcoded 3"), "\(status.stdout)")
        #expect(status.stdout.components(separatedBy: "location\t").count == 7, "\(status.stdout)")

        // m + 1 = 3 damaged shards of the first message's blob: a clear NO, never other bytes.
        let (_, victim) = shards.min { $0.key < $1.key }!
        for index in [1, 2, 4] { try Self.corrupt(victim[index]!) }
        var failures = 0
        for index in 1...3 {
            let (result, body) = try await fetch(t, index: index)
            if result.status == 0 {
                #expect(body == original[index - 1])
            } else {
                failures += 1
                #expect(result.stdout.hasPrefix("fetch NO"), "\(result.stdout) \(result.stderr)")
            }
        }
        #expect(failures == 1)
        let lost = try await stalctlBlob(t, "scrub")
        #expect(lost.status == 1)
        #expect(lost.stdout.contains("unrecoverable\t"), "\(lost.stdout)")
        #expect(lost.stderr.contains("1 blob(s) unrecoverable"), "\(lost.stderr)")
        let lostStatus = try await stalctlBlob(t, "status")
        #expect(lostStatus.stdout.contains("health\tunrecoverable"), "\(lostStatus.stdout)")
    }

    @Test func aPutThatCrashedBeforeItsManifestLeavesNoBlobAndHousekeepingCollectsItsShards() async throws {
        let clock = ManualClock(Timestamp(millisecondsSinceEpoch: 1_800_000_000_000))
        let t = try await TestNode(accounts: ["alice@example.test"], configure: Self.sixLocations, adjust: { $0.clock = clock })
        defer { Task { await t.stop() } }
        try await send(t, Self.largeMessage(seed: 7, subject: "kept"))
        let kept = try Self.shardFiles(t.dataDirectory)
        #expect(kept.count == 1)

        // What a delivery killed between its blob write and its log entry leaves: the shards
        // the write made durable, and a manifest that only the lost entry would have recorded
        // (the node's blob write is `stage`; the delivering command carries what it returns).
        let store = try #require(t.node.blobStore)
        let orphanID = BlobID(digest: [UInt8](repeating: 0xAB, count: 32))!
        let manifest = try #require(try store.stage([UInt8](repeating: 0x42, count: 300 * 1024), as: orphanID))
        guard case .erasureCoded(_, let placement) = manifest.body else {
            Issue.record("300 KiB is erasure-coded, got \(manifest.body)")
            return
        }
        #expect(Set(placement).count == 6)
        store.drain()
        #expect(try Self.shardFiles(t.dataDirectory)[orphanID.hex]?.count == 6)
        #expect(try store.manifest(orphanID) == nil)
        #expect(try !t.node.mailStore.blobPlacementIDs().contains(orphanID))
        #expect(throws: StalError.self) { try store.get(orphanID) }

        // Inside the grace period a put in flight is indistinguishable from a crashed one.
        try await t.node.runHousekeeping()
        #expect(try Self.shardFiles(t.dataDirectory).count == 2)
        clock.advance(milliseconds: store.configuration.garbageGraceMilliseconds + 1)
        try await t.node.runHousekeeping()
        let after = try Self.shardFiles(t.dataDirectory)
        #expect(after.keys.sorted() == kept.keys.sorted())
        #expect(after.values.allSatisfy { $0.count == 6 })
        let (result, _) = try await fetch(t, index: 1)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
    }

    @Test func manifestsRideTheShardLogAndACollectedBlobsShardsGoAfterTheGrace() async throws {
        let clock = ManualClock(Timestamp(millisecondsSinceEpoch: 1_800_000_000_000))
        let t = try await TestNode(accounts: ["alice@example.test"], configure: Self.sixLocations, adjust: { $0.clock = clock })
        defer { Task { await t.stop() } }
        let message = Self.largeMessage(seed: 11, subject: "placed")
        try await send(t, message)
        let account = try #require(try t.node.directory.account(address: EmailAddress("alice@example.test")!))
        let inbox = try #require(try t.node.mailStore.mailboxes(account.id).first { $0.role == .inbox })
        let email = try #require(try t.node.mailStore.messages(account.id, mailbox: inbox.id).first)
        let stored = MailStore.blobStoreID(tenant: account.tenant, email.blobID)

        // The manifest is the mail shard's replicated state, not a file beside the shards.
        #expect(try t.node.mailStore.blobPlacementIDs() == [stored])
        let manifest = try BlobManifest(decoding: try #require(try t.node.mailStore.blobPlacement(stored)))
        guard case .erasureCoded(_, let shards) = manifest.body else {
            Issue.record("a large message's blob is erasure-coded, got \(manifest.body)")
            return
        }
        #expect(Set(shards).count == 6)
        #expect(!FileManager.default.fileExists(atPath: t.dataDirectory + "/blob-catalog"))
        #expect(try Self.shardFiles(t.dataDirectory)[stored.hex]?.count == 6)

        // Expunged and collected: the collection's batch drops the manifest; the shards are
        // orphans from then on, removed once older than the grace period.
        _ = try await t.node.mailStore.storeKeywords(account.id, mailbox: inbox.id, uids: [email.uid],
                                                     operation: .add, keywords: [.deleted])
        #expect(try await t.node.mailStore.expunge(account.id, mailbox: inbox.id).count == 1)
        #expect(try await t.node.runHousekeeping() == 1)
        #expect(try t.node.mailStore.blobPlacementIDs().isEmpty)
        #expect(try Self.shardFiles(t.dataDirectory)[stored.hex]?.count == 6)
        let store = try #require(t.node.blobStore)
        clock.advance(milliseconds: store.configuration.garbageGraceMilliseconds + 1)
        #expect(try await t.node.runHousekeeping() == 0)
        #expect(try Self.shardFiles(t.dataDirectory).isEmpty)
    }

    @Test func aLostLocationsShardsAreRebuiltElsewhereAndTheMovedPlacementIsLogged() async throws {
        let t = try await TestNode(accounts: ["alice@example.test"], configure: Self.sixLocations)
        defer { Task { await t.stop() } }
        let messages = (0..<2).map { Self.largeMessage(seed: UInt64(30 + $0), subject: "moved \($0)") }
        for message in messages { try await send(t, message) }
        let lost = t.dataDirectory + "/disk5"
        try FileManager.default.removeItem(atPath: lost)

        let original = try await served(t, count: 2)
        #expect(zip(original, messages).allSatisfy { $0.hasSuffix($1) })
        let down = try await stalctlBlob(t, "status")
        #expect(down.stdout.contains("health\tdegraded"), "\(down.stdout)")
        #expect(down.stdout.contains("location\t\(lost)\tdomain domain5\tDOWN"), "\(down.stdout)")

        let scrub = try await stalctlBlob(t, "scrub")
        #expect(scrub.stdout.contains("missing 2\t"), "\(scrub.stdout)")
        #expect(scrub.stdout.contains("healed 2\t"), "\(scrub.stdout)")
        // The rebuilt shards went to the surviving locations, and the log says so.
        let placements = try t.node.mailStore.blobPlacementIDs()
        #expect(placements.count == 2)
        for id in placements {
            let manifest = try BlobManifest(decoding: try #require(try t.node.mailStore.blobPlacement(id)))
            guard case .erasureCoded(_, let shards) = manifest.body else {
                Issue.record("expected an erasure-coded blob, got \(manifest.body)")
                continue
            }
            #expect(shards.count == 6)
            #expect(!shards.contains(StorageLocationID(lost)))
        }
        #expect(try Self.shardFiles(t.dataDirectory).values.allSatisfy { $0.count == 6 })
        let again = try await stalctlBlob(t, "scrub")
        #expect(again.stdout.contains("missing 0\tcorrupt 0\thealed 0"), "\(again.stdout)")
        #expect(try await served(t, count: 2) == original)
    }

    @Test func theBackgroundScrubberPausesAtTheConfiguredRateAndHealsWhatItFinds() async throws {
        let clock = ManualClock(Timestamp(millisecondsSinceEpoch: 1_800_000_000_000))
        let gate = ScrubGate()
        let t = try await TestNode(accounts: ["alice@example.test"], configure: {
            Self.sixLocations(&$0, $1)
            $0.blobs?.scrubBytesPerSecond = 1_000_000
        }, adjust: {
            $0.clock = clock
            $0.blobScrubPause = { try await gate.pause($0) }
        })
        defer { Task { await t.stop() } }
        var pauses = gate.pauses.makeAsyncIterator()
        let pacing = ScrubPacing()
        // Before its first step the scrubber waits as long as a full step takes at the rate.
        #expect(await pauses.next() == Int64((pacing.stepBytes * 1000 + 999_999) / 1_000_000))

        for seed in 1...2 { try await send(t, Self.largeMessage(seed: UInt64(seed), subject: "large \(seed)")) }
        let shards = try Self.shardFiles(t.dataDirectory)
        #expect(shards.count == 2)
        for files in shards.values { try FileManager.default.removeItem(atPath: files[5]!) }
        clock.advance(milliseconds: 5000)

        gate.allowStep()
        // The step read both blobs and ended the pass, so the next pause is the pass pause.
        #expect(await pauses.next() == pacing.passPauseMilliseconds)
        #expect(try Self.shardFiles(t.dataDirectory).values.allSatisfy { $0.count == 6 })
        let status = try #require(t.node.blobStore).status()
        #expect(status.lastScrub?.blobsChecked == 2)
        #expect(status.lastScrub?.shardsMissing == 2)
        #expect(status.lastScrub?.shardsHealed == 2)
        #expect(status.lastScrubAt == clock.now())
        #expect(status.health == .healthy)
        let printed = try await stalctlBlob(t, "status")
        #expect(printed.stdout.contains("last scrub\tat 2027-01-15T08:00:05Z\tchecked 2\t"), "\(printed.stdout)")
    }

    @Test func aNodeWhoseMailIsInTheBlobDirectoryRefusesABlobsSection() async throws {
        let error = await #expect(throws: StalError.self) {
            _ = try await TestNode(accounts: [], configure: { configuration, data in
                Self.sixLocations(&configuration, data)
                let directory = data + "/blobs/1/ab"
                try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                #expect(FileManager.default.createFile(atPath: directory + "/" + String(repeating: "ab", count: 32), contents: Data([1])))
            })
        }
        #expect(error?.context.contains("would be unreadable") == true, "\(String(describing: error))")
    }

    /// Without `[blobs]` a single node keeps large messages in the embedded default: one
    /// location, `<data>/blobs`, k=1, m=0 — one shard file per blob, its manifest in the
    /// delivery's log entry (a restart reading it back: `DurabilityTests`).
    @Test func aNodeWithoutABlobsSectionStoresOneShardFilePerBlobInItsDataDirectory() async throws {
        let t = try await TestNode(accounts: ["alice@example.test"])
        defer { Task { await t.stop() } }
        try await send(t, Self.largeMessage(seed: 21, subject: "embedded"))
        let account = try #require(try t.node.directory.account(address: EmailAddress("alice@example.test")!))
        let inbox = try #require(try t.node.mailStore.mailboxes(account.id).first { $0.role == .inbox })
        let email = try #require(try t.node.mailStore.messages(account.id, mailbox: inbox.id).first)
        let stored = MailStore.blobStoreID(tenant: account.tenant, email.blobID)
        let manifest = try BlobManifest(decoding: try #require(try t.node.mailStore.blobPlacement(stored)))
        guard case .erasureCoded(let layout, let shards) = manifest.body else {
            Issue.record("a large message's blob is a shard file, got \(manifest.body)")
            return
        }
        #expect(layout.scheme == .single)
        #expect(shards == [StorageLocationID("blobs")])
        let files = try FileManager.default.subpathsOfDirectory(atPath: t.dataDirectory + "/blobs").filter { $0.hasSuffix(".shard") }
        #expect(files == ["\(stored.hex.prefix(2))/\(stored.hex).0.shard"])
        let printed = try await stalctlBlob(t, "status")
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(printed.stdout.contains("scheme\t1+0"), "\(printed.stdout)")
        #expect(printed.stdout.contains("location\tblobs\t"), "\(printed.stdout)")
        let served = try await t.node.mailStore.readBlob(account: account.id, email.blobID)
        #expect(String(decoding: served, as: UTF8.self).contains("Subject: embedded"))
    }

    /// A data directory whose blobs the plain-file default of earlier versions wrote is
    /// refused with what to do, not opened as a store that cannot see them.
    @Test func aNodeWithoutABlobsSectionRefusesThePlainFileLayoutOfEarlierVersions() async throws {
        let error = await #expect(throws: StalError.self) {
            _ = try await TestNode(accounts: [], configure: { _, data in
                let directory = data + "/blobs/1/ab"
                try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                #expect(FileManager.default.createFile(atPath: directory + "/" + String(repeating: "ab", count: 32), contents: Data([1])))
            })
        }
        #expect(error?.context.contains("plain files") == true, "\(String(describing: error))")
        #expect(error?.context.contains("start this one on an empty data directory") == true, "\(String(describing: error))")
    }
}

/// Stands in for the background scrubber's sleep: every pause it asks for is reported to
/// the test, and the next step runs only when the test allows it.
final class ScrubGate: Sendable {
    let pauses: AsyncStream<Int64>
    private let pauseReports: AsyncStream<Int64>.Continuation
    private let permits: AsyncStream<Void>
    private let permitGrants: AsyncStream<Void>.Continuation

    init() {
        (pauses, pauseReports) = AsyncStream.makeStream()
        (permits, permitGrants) = AsyncStream.makeStream()
    }

    /// Only the scrubber's task calls this, one call at a time, so the permit stream has a
    /// single consumer. A cancelled wait ends the scrubber.
    func pause(_ milliseconds: Int64) async throws {
        pauseReports.yield(milliseconds)
        var iterator = permits.makeAsyncIterator()
        guard await iterator.next() != nil else { throw CancellationError() }
        try Task.checkCancellation()
    }

    func allowStep() { permitGrants.yield() }
}
