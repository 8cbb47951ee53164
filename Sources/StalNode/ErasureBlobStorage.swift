import Dispatch
import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure
import StalHTTP
import StalMailStore

/// The mail store's blobs on the erasure-coded blob store (`[blobs]` in the configuration).
///
/// The mail store hashes, compresses and counts references itself, so blobs are written
/// as given under a caller-chosen id, `MailStore.blobStoreID` (one blob per tenant), and
/// their manifests ride the mail shard's log: a new blob's in the command that delivers it,
/// a moved shard's in a `recordBlobPlacement` entry (`ShardLogBlobCatalog`).
final class ErasureBlobStorage: MailBlobStore, BlobAdministration {
    let store: BlobStore
    let catalog: ShardLogBlobCatalog
    private let queue = DispatchQueue(label: "stal.erasure-blobs", attributes: .concurrent)

    /// The id of the embedded default's one location, `<data>/blobs`: relative to the data
    /// directory rather than its path, so a data directory that moves keeps its blobs.
    static let embeddedLocationID = StorageLocationID("blobs")

    /// Shard files under the configured locations, manifests in the shard log once
    /// `catalog.attach` has been given the mail store.
    convenience init(_ blobs: NodeConfiguration.BlobStorage, clock: any WallClock) throws {
        // A location's id is its path, so reordering the configured list moves no shard.
        let locations = blobs.locations.map {
            BlobLocation(id: StorageLocationID($0.path), path: $0.path, failureDomain: $0.failureDomain)
        }
        try self.init(locations: locations,
                      scheme: try ErasureScheme(dataShards: blobs.dataShards, parityShards: blobs.parityShards),
                      writeQuorum: blobs.writeQuorum, clock: clock)
    }

    /// The embedded default (no `[blobs]`): one location, `directory`, k=1, m=0, so a large
    /// message costs one shard file, as much as a plain durable file (erasure.md).
    static func embedded(directory: String, clock: any WallClock) throws -> ErasureBlobStorage {
        try ErasureBlobStorage(locations: [BlobLocation(id: embeddedLocationID, path: directory, failureDomain: "local")],
                               scheme: .single, writeQuorum: nil, clock: clock)
    }

    private init(locations: [BlobLocation], scheme: ErasureScheme, writeQuorum: Int?, clock: any WallClock) throws {
        // No catalog directory: the catalog is the shard log.
        var configuration = BlobStoreConfiguration(catalogPath: "", locations: locations, scheme: scheme)
        configuration.writeQuorum = writeQuorum
        catalog = ShardLogBlobCatalog()
        store = try BlobStore(configuration: configuration, catalog: catalog,
                              devices: locations.map { FileShardDevice(location: $0) }, clock: clock)
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Writes the shards and returns the manifest for the delivering command to record
    /// (nil when the blob's manifest is recorded already).
    func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws -> [UInt8]? {
        let stored = MailStore.blobStoreID(tenant: tenant, id)
        return try await run { [store] in try store.stage(compressed, as: stored)?.encode() }
    }

    func read(tenant: TenantID, id: BlobID) async throws -> [UInt8] {
        let stored = MailStore.blobStoreID(tenant: tenant, id)
        return try await run { [store] in try store.get(stored) }
    }

    /// Nothing to do now: the collection that calls this deletes the blob's manifest in its
    /// own batch, which makes the shards orphans that housekeeping (`collectOrphans`) removes
    /// once they are older than the grace period. Removing them here would take the blob's
    /// lock on the log's apply thread, while healing the same blob may hold that lock
    /// waiting for this very thread to apply its moved placement.
    func delete(tenant: TenantID, id: BlobID) throws {}

    /// Orphaned shards (puts that crashed before their manifest, collected blobs) and stale
    /// temporaries.
    func collectOrphans() async throws -> GarbageReport {
        try await run { [store] in try store.collectGarbage() }
    }

    private func perform<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    func scrubStep(maxBytes: Int) async -> ScrubReport {
        await perform { [store] in store.scrub(maxBytes: maxBytes) }
    }

    /// Waits for shard writes that puts left running once their quorum was durable, so a
    /// stopping node does not leave shards for the scrubber to rebuild.
    func drain() async {
        await perform { [store] in store.drain() }
    }

    func statusJSON() async throws -> String {
        try await run { [store] in store.status().json }
    }

    func scrubJSON() async throws -> String {
        try await run { [store] in store.scrubFullPass().json }
    }
}

/// Paces background scrub steps at the configured rate; healing happens inside each step.
struct BlobScrubService: Sendable {
    let storage: ErasureBlobStorage
    let pacing: ScrubPacing

    /// Runs steps until cancelled; `pause` is awaited before each step with the milliseconds
    /// the rate asks for (the first as if a full step had been read).
    func run(pause: @Sendable (Int64) async throws -> Void) async {
        var milliseconds = pacing.pauseMilliseconds(afterReading: pacing.stepBytes)
        while !Task.isCancelled {
            do { try await pause(milliseconds) } catch { return }
            let step = await storage.scrubStep(maxBytes: pacing.stepBytes)
            milliseconds = pacing.pauseMilliseconds(after: step)
        }
    }
}
