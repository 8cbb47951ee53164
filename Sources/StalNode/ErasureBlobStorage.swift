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
/// as given under a caller-chosen id and removed when the mail store collects them. The id
/// is SHA-256(tenant ‖ content id): two tenants storing the same message hold two blobs, so
/// one tenant's collection never removes a blob the other still references.
final class ErasureBlobStorage: MailBlobStore, BlobAdministration {
    let store: BlobStore
    private let queue = DispatchQueue(label: "stal.erasure-blobs", attributes: .concurrent)

    init(store: BlobStore) {
        self.store = store
    }

    /// A location's id is its path, so reordering the configured list moves no shard.
    static func configuration(_ blobs: NodeConfiguration.BlobStorage, dataDirectory: String) throws -> BlobStoreConfiguration {
        let locations = blobs.locations.map {
            BlobLocation(id: StorageLocationID($0.path), path: $0.path, failureDomain: $0.failureDomain)
        }
        var configuration = BlobStoreConfiguration(
            catalogPath: dataDirectory + "/blob-catalog", locations: locations,
            scheme: try ErasureScheme(dataShards: blobs.dataShards, parityShards: blobs.parityShards))
        configuration.writeQuorum = blobs.writeQuorum
        return configuration
    }

    static func storedID(_ tenant: TenantID, _ id: BlobID) -> BlobID {
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: tenant.rawValue >> (8 * UInt64(i))) }
        return MailStore.blobID(for: bytes + id.digest)
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    func write(tenant: TenantID, id: BlobID, compressed: [UInt8]) async throws {
        let stored = Self.storedID(tenant, id)
        try await run { [store] in try store.write(compressed, as: stored) }
    }

    func read(tenant: TenantID, id: BlobID) async throws -> [UInt8] {
        let stored = Self.storedID(tenant, id)
        return try await run { [store] in try store.get(stored) }
    }

    func delete(tenant: TenantID, id: BlobID) throws {
        try store.remove(Self.storedID(tenant, id))
    }

    /// Orphaned shards (puts that crashed before their manifest) and stale temporaries.
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
