import Logging
import StalDirectory
import StalMailStore

/// Periodic maintenance of a node: collecting blobs that no email references any more,
/// tenant by tenant, in bounded batches, and the erasure-coded store's orphaned shards.
struct Housekeeping: Sendable {
    let directory: Directory
    let mailStore: MailStore
    /// Its orphaned shards (puts that crashed before their manifest) are collected too.
    let erasureBlobs: ErasureBlobStorage?
    let logger: Logger
    /// Blobs collected per tenant per pass; a larger backlog drains over several passes.
    static let blobsPerPass = 1000

    /// One pass over every tenant that owns a domain; returns how many blobs were removed.
    @discardableResult
    func runOnce() async throws -> Int {
        let tenants = Set(try directory.listDomains().map(\.tenant))
        var removed = 0
        for tenant in tenants.sorted() {
            removed += try await mailStore.collectGarbage(tenant: tenant, limit: Self.blobsPerPass).count
        }
        if let erasureBlobs {
            let orphans = try await erasureBlobs.collectOrphans()
            if orphans.shardsCollected + orphans.temporariesCollected > 0 {
                logger.info("housekeeping collected orphaned shards",
                            metadata: ["shards": "\(orphans.shardsCollected)", "temporaries": "\(orphans.temporariesCollected)"])
            }
        }
        return removed
    }

    /// Awaits `pause`, then runs a pass, until cancelled.
    func run(pause: @Sendable () async throws -> Void) async {
        while !Task.isCancelled {
            do {
                try await pause()
                let removed = try await runOnce()
                if removed > 0 { logger.info("housekeeping collected blobs", metadata: ["count": "\(removed)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("housekeeping pass failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
