import Dispatch
import StalBlobStore
import StalCore
import StalDeterminism
import StalErasure
import StalMailStore

/// Blob manifests in the mail shard's replicated state, so every replica reads the same
/// placement, and the mail store's collection of a blob deletes its manifest in the same
/// batch as its collection mark. A new blob's manifest never comes through `store`: the
/// delivery that references the blob records it (`BlobStore.stage`,
/// `BlobReference.placement`). `store` is left to healing, whose moved shard is proposed
/// as a `recordBlobPlacement` entry.
///
/// `BlobStore` calls its catalog synchronously, from `ErasureBlobStorage`'s Dispatch queue;
/// `store` blocks that thread (never a cooperative one) until the proposal is applied. The
/// mail store is attached after it is created, because it needs its blob storage first.
final class ShardLogBlobCatalog: BlobCatalog, @unchecked Sendable {
    private let lock = Mutex()
    private var mailStore: MailStore?

    func attach(_ mailStore: MailStore) {
        lock.withLock { self.mailStore = mailStore }
    }

    private func attached() throws(StalError) -> MailStore {
        guard let mailStore = lock.withLock({ self.mailStore }) else {
            throw StalError(.unavailable, "blob catalog: the mail store is not attached")
        }
        return mailStore
    }

    private static func stalError(_ error: any Error) -> StalError {
        error as? StalError ?? StalError(.internal, "\(error)")
    }

    func manifest(_ id: BlobID) throws(StalError) -> BlobManifest? {
        let encoded: [UInt8]?
        do { encoded = try attached().blobPlacement(id) } catch { throw Self.stalError(error) }
        guard let encoded else { return nil }
        return try BlobManifest(decoding: encoded)
    }

    func store(_ manifest: BlobManifest, at now: Timestamp) throws(StalError) {
        let mailStore = try attached()
        let encoded = manifest.encode()
        let outcome = Outcome()
        let applied = DispatchSemaphore(value: 0)
        Task {
            do {
                try await mailStore.recordBlobPlacement(manifest.blobID, manifest: encoded)
            } catch {
                outcome.set(Self.stalError(error))
            }
            applied.signal()
        }
        applied.wait()
        if let error = outcome.error { throw error }
    }

    /// The mail store counts references to its blobs in its own state.
    func references(_ id: BlobID) throws(StalError) -> BlobReferenceRecord? { nil }

    func store(_ record: BlobReferenceRecord, for id: BlobID, at now: Timestamp) throws(StalError) {
        throw StalError(.invalidArgument, "blob \(id.hex): the mail store counts references to its blobs itself")
    }

    func remove(_ id: BlobID) throws(StalError) {
        throw StalError(.invalidArgument, "blob \(id.hex): manifests of mail blobs are removed by the mail store's collection")
    }

    func allBlobIDs() -> [BlobID] {
        (try? attached().blobPlacementIDs()) ?? []
    }

    /// Proposals leave no files behind.
    func removeLeftovers(before cutoff: Timestamp) throws(StalError) -> Int { 0 }
}

/// A proposal's failure, handed from its task to the thread waiting for it.
private final class Outcome: @unchecked Sendable {
    private let lock = Mutex()
    private var stored: StalError?

    func set(_ error: StalError) { lock.withLock { stored = error } }
    var error: StalError? { lock.withLock { stored } }
}
