import Crypto
import Dispatch
import StalCore
import StalDeterminism
import StalErasure

/// Content-addressed, compressed, erasure-coded blobs over a set of shard devices.
///
/// A put hashes the bytes (the id is their SHA-256), compresses them with zstd when that
/// pays, and then either keeps them inline in the manifest (small blobs: one durable write)
/// or cuts them into k+m checksummed shards written in parallel to distinct failure domains.
/// It returns once a write quorum of shards is durable and the manifest that makes the blob
/// visible is durable; a crash before that leaves shards without a manifest, which garbage
/// collection removes later.
///
/// Calls block on I/O; run them from a thread pool, not an event loop.
public final class BlobStore: BlobReferenceCounting, @unchecked Sendable {
    public let configuration: BlobStoreConfiguration
    private let clock: any WallClock
    private let catalog: any BlobCatalog
    private let devices: [StorageLocationID: any ShardDevice]
    private let storageLocations: [StorageLocation]
    private let codec: ReedSolomonCodec
    private let stripeBytes: Int
    /// Serialises put, collection and healing of one blob (striped by id).
    private let blobLocks: [Mutex]
    private let stateLock = Mutex()
    private var scrubCursor: BlobID?
    private var lastScrub: ScrubReport?
    private var lastScrubAt: Timestamp?
    /// Blobs a read found damaged, scrubbed first by the next step.
    private var healQueue = Set<BlobID>()
    private let io = DispatchQueue(label: "stal.blobstore.shard-io", attributes: .concurrent)
    private let inFlight = DispatchGroup()
    /// Bounds concurrent shard writes per location, and with it the I/O threads.
    private let writeSlots: [StorageLocationID: DispatchSemaphore]

    /// A store over local directories: `configuration.catalogPath` and one
    /// `FileShardDevice` per configured location.
    public convenience init(configuration: BlobStoreConfiguration, clock: any WallClock) throws(StalError) {
        try self.init(configuration: configuration,
                      catalog: try FileBlobCatalog(root: configuration.catalogPath),
                      devices: configuration.locations.map { FileShardDevice(location: $0) },
                      clock: clock)
    }

    /// A store over any catalog and devices (memory ones in tests and the simulator);
    /// `configuration.catalogPath` and `locations` are not used.
    public init(configuration: BlobStoreConfiguration, catalog: any BlobCatalog, devices: [any ShardDevice],
                clock: any WallClock) throws(StalError) {
        try configuration.validate()
        guard !devices.isEmpty else { throw StalError(.invalidArgument, "blob store: no locations") }
        guard Set(devices.map(\.id)).count == devices.count else {
            throw StalError(.invalidArgument, "blob store: duplicate location ids")
        }
        self.configuration = configuration
        self.clock = clock
        self.catalog = catalog
        self.devices = Dictionary(uniqueKeysWithValues: devices.map { ($0.id, $0) })
        self.storageLocations = devices.map { StorageLocation(id: $0.id, failureDomain: $0.failureDomain) }
        self.codec = ReedSolomonCodec(scheme: configuration.scheme)
        self.stripeBytes = StripeLayout.alignedStripeBytes(configuration.stripeBytes, scheme: configuration.scheme)
        self.blobLocks = (0..<64).map { _ in Mutex() }
        self.writeSlots = Dictionary(uniqueKeysWithValues: devices.map {
            ($0.id, DispatchSemaphore(value: configuration.shardWritesInFlightPerLocationMax))
        })
    }

    // MARK: put

    /// Stores `bytes` and returns their id. Idempotent: the same bytes give the same id and
    /// a second put only renews the blob's grace period.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws(StalError) -> BlobID {
        guard bytes.count <= configuration.blobBytesMax else {
            throw StalError(.limitExceeded, "blob of \(bytes.count) bytes exceeds \(configuration.blobBytesMax)")
        }
        let id = BlobID(digest: Array(SHA256.hash(data: bytes)))!
        try withBlobLock(id) { () throws(StalError) in
            let now = clock.now()
            if try catalog.manifest(id) != nil {
                var record = try catalog.references(id) ?? BlobReferenceRecord(count: 0, lastPutAt: now)
                record.lastPutAt = now
                try catalog.store(record, for: id, at: now)
                return
            }
            let manifest = try stageShards(id: id, bytes: bytes, at: now)
            try commit(manifest, at: now)
        }
        return id
    }

    /// Stores bytes under an id the caller chose, as they are: no hashing, no compression.
    /// For callers that identify and compress blobs themselves (the mail store hashes the
    /// message and inlines small zstd frames in its log); integrity is then the shard and
    /// manifest checksums. A blob already stored under `id` is left as it is.
    public func write(_ stored: [UInt8], as id: BlobID) throws(StalError) {
        try withBlobLock(id) { () throws(StalError) in
            let now = clock.now()
            guard let manifest = try stageUnrecorded(stored, as: id, at: now) else { return }
            try commit(manifest, at: now)
        }
    }

    /// `write(_:as:)` without its commit: writes the blob's shards (a write quorum durable)
    /// and returns the manifest, which the caller makes durable where it likes (the mail
    /// store puts it into the command that references the blob, so the blob costs its shard
    /// files and nothing more). nil when the catalog already holds the blob. Until the
    /// manifest is recorded the shards are orphans, which `collectGarbage` removes once older
    /// than the grace period; recording it later than that loses the blob.
    public func stage(_ stored: [UInt8], as id: BlobID) throws(StalError) -> BlobManifest? {
        try withBlobLock(id) { () throws(StalError) -> BlobManifest? in try stageUnrecorded(stored, as: id, at: clock.now()) }
    }

    private func stageUnrecorded(_ stored: [UInt8], as id: BlobID, at now: Timestamp) throws(StalError) -> BlobManifest? {
        guard stored.count <= configuration.blobBytesMax else {
            throw StalError(.limitExceeded, "blob of \(stored.count) bytes exceeds \(configuration.blobBytesMax)")
        }
        guard try catalog.manifest(id) == nil else { return nil }
        return try stageShards(id: id, bytes: stored, compressing: false, addressing: .caller, at: now)
    }

    /// Deletes a blob now, whatever its reference count: for callers that count references
    /// themselves. The manifest goes first, so a crash leaves only orphaned shards, which
    /// garbage collection removes. A missing blob is not an error.
    public func remove(_ id: BlobID) throws(StalError) {
        try withBlobLock(id) { () throws(StalError) in
            guard let manifest = try catalog.manifest(id) else { return }
            try catalog.remove(id)
            if case .erasureCoded(_, let shards) = manifest.body {
                for (index, location) in shards.enumerated() { try devices[location]?.remove(blob: id, shard: index) }
            }
        }
    }

    /// Compresses, encodes and durably writes the shards of a new blob; returns the manifest
    /// that would make it visible. Until `commit` the shards are orphans.
    func stageShards(id: BlobID, bytes: [UInt8], compressing: Bool = true, addressing: BlobManifest.Addressing = .content,
                     at now: Timestamp) throws(StalError) -> BlobManifest {
        var stored = bytes
        var compression = BlobManifest.Compression.none
        if compressing, bytes.count >= configuration.compressionBytesMin,
           let compressed = BlobCompression.compress(bytes, level: configuration.zstdLevel,
                                                     minimumSavingPercent: configuration.compressionSavingPercentMin) {
            stored = compressed
            compression = .zstd
        }
        if stored.count <= configuration.inlineBytesMax {
            return BlobManifest(blobID: id, length: bytes.count, compression: compression, addressing: addressing,
                                createdAt: now, body: .inline(stored))
        }
        let layout = try StripeLayout(scheme: configuration.scheme, stripeBytes: stripeBytes, contentLength: stored.count)
        // Locations that are down take no new shards while enough others remain to keep the
        // shards apart; otherwise the down ones count against the write quorum instead of
        // doubling shards up. The manifest records where shards went either way.
        let usable = storageLocations.filter { devices[$0.id]!.isUsable }
        let candidates = usable.count >= min(layout.scheme.totalShards, storageLocations.count) ? usable : storageLocations
        let placement = ShardPlacement.place(blob: id, shardCount: layout.scheme.totalShards, locations: candidates)
        let shards = stored.withUnsafeBytes { EncodedShards(content: $0, blobID: id, layout: layout, codec: codec, writtenAt: now) }
        let outcome = writeInParallel(shards: shards, id: id, placement: placement, at: now)
        guard outcome.durable >= configuration.effectiveWriteQuorum else {
            throw StalError(.unavailable, "blob \(id.hex): \(outcome.durable) of \(placement.count) shards durable, quorum \(configuration.effectiveWriteQuorum): \(outcome.errors.map(\.description).joined(separator: "; "))")
        }
        return BlobManifest(blobID: id, length: bytes.count, compression: compression, addressing: addressing,
                            createdAt: now, body: .erasureCoded(layout: layout, shards: placement))
    }

    /// Makes a staged blob visible: the manifest write is the commit point. No reference
    /// record yet: its absence means zero references since the manifest's creation.
    func commit(_ manifest: BlobManifest, at now: Timestamp) throws(StalError) {
        try catalog.store(manifest, at: now)
    }

    /// Starts every shard write at once (each ends in its own fsyncs) and returns as soon as
    /// the write quorum is durable, or can no longer be. Writes still in flight finish in the
    /// background: the manifest already places them, and a write that fails is a missing
    /// shard the scrubber rebuilds.
    private func writeInParallel(shards: EncodedShards, id: BlobID, placement: [StorageLocationID],
                                 at now: Timestamp) -> (durable: Int, errors: [StalError]) {
        let tracker = ShardWriteTracker(count: placement.count)
        let shared = UncheckedSendable(shards)
        for (index, locationID) in placement.enumerated() {
            let device = devices[locationID]!
            let slots = writeSlots[locationID]!
            slots.wait()
            io.async(group: inFlight) {
                defer { slots.signal() }
                do throws(StalError) {
                    try device.writeNew(shared.value.file(index), blob: id, shard: index, at: now)
                    tracker.record(index, nil)
                } catch {
                    tracker.record(index, error)
                }
            }
        }
        return tracker.wait(quorum: configuration.effectiveWriteQuorum)
    }

    /// Waits until every shard write started by earlier puts has finished (shutdown, tests).
    public func drain() {
        inFlight.wait()
    }

    // MARK: get

    /// The whole blob; a content-addressed one is verified against its id.
    public func get(_ id: BlobID) throws(StalError) -> [UInt8] {
        let manifest = try requireManifest(id)
        let bytes = try content(of: manifest, range: 0..<manifest.length)
        guard manifest.addressing == .caller || Array(SHA256.hash(data: bytes)) == id.digest else {
            throw StalError(.corrupted, "blob \(id.hex): content does not match its id")
        }
        return bytes
    }

    /// Bytes `range` of the blob (clamped to its length). When healthy, an uncompressed
    /// erasure-coded blob is read from the data shards that hold the range and nothing else.
    public func get(_ id: BlobID, range: Range<Int>) throws(StalError) -> [UInt8] {
        let manifest = try requireManifest(id)
        let lower = min(max(0, range.lowerBound), manifest.length)
        return try content(of: manifest, range: lower..<min(max(lower, range.upperBound), manifest.length))
    }

    public func manifest(_ id: BlobID) throws(StalError) -> BlobManifest? { try catalog.manifest(id) }

    private func requireManifest(_ id: BlobID) throws(StalError) -> BlobManifest {
        guard let manifest = try catalog.manifest(id) else { throw StalError(.notFound, "blob \(id.hex)") }
        return manifest
    }

    private func content(of manifest: BlobManifest, range: Range<Int>) throws(StalError) -> [UInt8] {
        switch (manifest.body, manifest.compression) {
        case (.inline(let stored), .none):
            guard stored.count == manifest.length else { throw StalError(.corrupted, "blob \(manifest.blobID.hex): inline length") }
            return Array(stored[range])
        case (.inline(let stored), .zstd):
            return Array(try BlobCompression.decompress(stored, length: manifest.length)[range])
        case (.erasureCoded(let layout, let shards), .none):
            return try readCoded(manifest.blobID, layout: layout, placement: shards, range: range)
        case (.erasureCoded(let layout, let shards), .zstd):
            let stored = try readCoded(manifest.blobID, layout: layout, placement: shards, range: 0..<layout.contentLength)
            return Array(try BlobCompression.decompress(stored, length: manifest.length)[range])
        }
    }

    /// Reads coded bytes; a read that had to decode queues the blob for healing, so damage
    /// found by clients is repaired by the next scrub step instead of waiting for a full pass.
    private func readCoded(_ id: BlobID, layout: StripeLayout, placement: [StorageLocationID],
                           range: Range<Int>) throws(StalError) -> [UInt8] {
        var reader = ShardSetReader(store: self, id: id, layout: layout, placement: placement)
        defer {
            if reader.sawDamage { noteDamaged(id) }
        }
        return try reader.read(range)
    }

    func noteDamaged(_ id: BlobID) {
        stateLock.withLock { _ = healQueue.insert(id) }
    }

    func device(_ id: StorageLocationID) -> (any ShardDevice)? { devices[id] }

    func decodePlan(available: [Int], targets: [Int]) throws(StalError) -> DecodePlan {
        try codec.decodePlan(available: available, targets: targets)
    }

    // MARK: references

    public func retain(_ id: BlobID) throws(StalError) {
        try updateReferences(id) { $0 += 1 }
    }

    public func release(_ id: BlobID) throws(StalError) {
        try updateReferences(id) { count throws(StalError) in
            guard count > 0 else { throw StalError(.conflict, "blob \(id.hex): release without a reference") }
            count -= 1
        }
    }

    public func referenceCount(_ id: BlobID) throws(StalError) -> Int {
        guard try catalog.manifest(id) != nil else { throw StalError(.notFound, "blob \(id.hex)") }
        return try catalog.references(id)?.count ?? 0
    }

    private func updateReferences(_ id: BlobID, _ change: (inout Int) throws(StalError) -> Void) throws(StalError) {
        try withBlobLock(id) { () throws(StalError) in
            guard let manifest = try catalog.manifest(id) else { throw StalError(.notFound, "blob \(id.hex)") }
            let now = clock.now()
            var record = try catalog.references(id) ?? BlobReferenceRecord(count: 0, lastPutAt: manifest.createdAt)
            try change(&record.count)
            try catalog.store(record, for: id, at: now)
        }
    }

    // MARK: garbage collection

    /// Removes content-addressed blobs without references whose grace period has passed, shards no manifest
    /// places where they are (crashed puts, shards moved by healing), and old temporary files.
    public func collectGarbage() throws(StalError) -> GarbageReport {
        let now = clock.now()
        let grace = configuration.garbageGraceMilliseconds
        var report = GarbageReport()
        for id in catalog.allBlobIDs() {
            try withBlobLock(id) { () throws(StalError) in
                // A caller-addressed blob's lifetime is its caller's (it counts references in
                // its own replicated state and calls `remove`); only its orphaned shards are ours.
                guard let manifest = try catalog.manifest(id), manifest.addressing == .content else { return }
                let record = try catalog.references(id)
                guard (record?.count ?? 0) == 0,
                      (record?.lastPutAt ?? manifest.createdAt).adding(milliseconds: grace) <= now else { return }
                try catalog.remove(id)
                report.blobsCollected += 1
                if case .erasureCoded(_, let shards) = manifest.body {
                    for (index, location) in shards.enumerated() {
                        try devices[location]?.remove(blob: id, shard: index)
                        report.shardsCollected += 1
                    }
                }
            }
        }
        let cutoff = now.adding(milliseconds: -grace)
        for device in devices.values {
            for address in device.inventory() {
                try withBlobLock(address.blob) { () throws(StalError) in
                    if case .erasureCoded(_, let placement)? = try? catalog.manifest(address.blob)?.body,
                       address.shard < placement.count, placement[address.shard] == device.id { return }
                    if let writtenAt = device.header(blob: address.blob, shard: address.shard)?.writtenAt,
                       writtenAt > cutoff { return }
                    try device.remove(blob: address.blob, shard: address.shard)
                    report.shardsCollected += 1
                }
            }
            report.temporariesCollected += try device.removeLeftovers(before: cutoff)
        }
        report.temporariesCollected += try catalog.removeLeftovers(before: cutoff)
        return report
    }

    // MARK: scrub and heal

    /// Verifies blobs from where the last call stopped until about `maxBytes` have been
    /// read, rebuilding missing or corrupt shards onto usable locations.
    public func scrub(maxBytes: Int) -> ScrubReport {
        let (cursor, queued) = stateLock.withLock { () -> (BlobID?, Set<BlobID>) in
            defer { healQueue.removeAll() }
            return (scrubCursor, healQueue)
        }
        var report = ScrubReport()
        for id in queued.sorted() { BlobScrub(store: self, id: id).run(into: &report) }
        let ids = catalog.allBlobIDs().filter { cursor == nil || $0 > cursor! }
        var last = cursor
        for id in ids {
            if report.bytesRead >= maxBytes { break }
            if !queued.contains(id) { BlobScrub(store: self, id: id).run(into: &report) }
            last = id
        }
        report.passCompleted = ids.isEmpty || last == ids.last
        stateLock.withLock {
            scrubCursor = report.passCompleted ? nil : last
            lastScrub = report
            lastScrubAt = clock.now()
        }
        return report
    }

    /// Verifies every blob now, from the first, whatever the background cursor says; the
    /// next paced step starts a new pass.
    public func scrubFullPass() -> ScrubReport {
        stateLock.withLock { scrubCursor = nil }
        return scrub(maxBytes: Int.max)
    }

    /// Rewrites shard `index` of a blob from rebuilt bytes, on its own location if usable or
    /// on a replacement, and records a moved shard in the manifest.
    func heal(_ id: BlobID, shard index: Int, file: [UInt8]) throws(StalError) {
        try withBlobLock(id) { () throws(StalError) in
            guard var manifest = try catalog.manifest(id), case .erasureCoded(let layout, var placement) = manifest.body else {
                throw StalError(.notFound, "blob \(id.hex) vanished while healing")
            }
            let now = clock.now()
            var target = placement[index]
            if devices[target]?.isUsable != true {
                guard let replacement = ShardPlacement.replacement(blob: id, shardIndex: index, current: placement,
                                                                   locations: storageLocations,
                                                                   usable: { self.devices[$0]?.isUsable == true }) else {
                    throw StalError(.unavailable, "blob \(id.hex): no usable location for shard \(index)")
                }
                target = replacement
            }
            try devices[target]!.replace(file, blob: id, shard: index, at: now)
            if target != placement[index] {
                placement[index] = target
                manifest.body = .erasureCoded(layout: layout, shards: placement)
                try catalog.store(manifest, at: now)
            }
        }
    }

    var now: Timestamp { clock.now() }

    // MARK: status

    public func status() -> BlobStoreStatus {
        var status = BlobStoreStatus()
        var shardsPerLocation: [StorageLocationID: Int] = [:]
        for id in catalog.allBlobIDs() {
            guard let manifest = try? catalog.manifest(id) else { status.unreadableManifests += 1; continue }
            status.blobs += 1
            status.logicalBytes += manifest.length
            status.storedBytes += manifest.storedLength
            switch manifest.body {
            case .inline: status.inlineBlobs += 1
            case .erasureCoded(_, let shards):
                status.erasureCodedBlobs += 1
                for location in shards { shardsPerLocation[location, default: 0] += 1 }
            }
            if ((try? catalog.references(id))??.count ?? 0) > 0 { status.referencedBlobs += 1 }
        }
        status.locations = storageLocations.map {
            BlobStoreStatus.Location(id: $0.id, failureDomain: $0.failureDomain, usable: devices[$0.id]!.isUsable,
                                     shards: shardsPerLocation[$0.id] ?? 0)
        }
        status.scheme = configuration.scheme
        (status.lastScrub, status.lastScrubAt, status.blobsAwaitingHeal) = stateLock.withLock { (lastScrub, lastScrubAt, healQueue.count) }
        return status
    }

    // MARK: helpers

    private func withBlobLock<T>(_ id: BlobID, _ body: () throws(StalError) -> T) throws(StalError) -> T {
        let lock = blobLocks[Int(id.digest[1]) % blobLocks.count]
        let result: Result<T, StalError> = lock.withLock {
            do throws(StalError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

public struct GarbageReport: Hashable, Sendable {
    public var blobsCollected = 0
    public var shardsCollected = 0
    public var temporariesCollected = 0
}

/// Lets a non-Sendable value cross into a closure whose lifetime the caller bounds (the
/// caller waits for the closure before the value goes away).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Outcomes of one put's shard writes, and a wait that ends at quorum rather than at the
/// slowest write.
final class ShardWriteTracker: @unchecked Sendable {
    private let lock = Mutex()
    private let progress = DispatchSemaphore(value: 0)
    private let count: Int
    private var durable = 0
    private var errors: [StalError] = []

    init(count: Int) { self.count = count }

    func record(_ index: Int, _ error: StalError?) {
        lock.withLock {
            if let error { errors.append(error) } else { durable += 1 }
        }
        progress.signal()
    }

    func wait(quorum: Int) -> (durable: Int, errors: [StalError]) {
        while true {
            let state = lock.withLock { (durable, errors) }
            let pending = count - state.0 - state.1.count
            if state.0 >= quorum || state.0 + pending < quorum || pending == 0 { return state }
            progress.wait()
        }
    }
}
