import StalCore
import StalErasure

/// What a scrub pass (or part of one) found and did.
public struct ScrubReport: Hashable, Sendable {
    public var blobsChecked = 0
    public var bytesRead = 0
    public var shardsMissing = 0
    public var shardsCorrupt = 0
    public var shardsHealed = 0
    /// Blobs with a stripe that has fewer than k intact cells: data loss, reported not hidden.
    public var unrecoverable: [BlobID] = []
    /// Shards that could be rebuilt but not written (no usable location).
    public var healFailures = 0
    /// True when this call reached the last blob; the next call starts over.
    public var passCompleted = false
}

/// Checks every cell of every shard of one blob and rewrites the damaged shards.
struct BlobScrub {
    let store: BlobStore
    let id: BlobID

    func run(into report: inout ScrubReport) {
        let manifest: BlobManifest
        do {
            guard let found = try store.manifest(id) else { return }
            manifest = found
        } catch {
            report.blobsChecked += 1
            report.unrecoverable.append(id)
            return
        }
        report.blobsChecked += 1
        guard case .erasureCoded(let layout, let placement) = manifest.body else {
            report.bytesRead += manifest.storedLength
            return
        }
        let n = layout.scheme.totalShards
        var reader = ShardSetReader(store: store, id: id, layout: layout, placement: placement)
        // cells[shard][stripe], nil where missing or damaged.
        var cells = [[[UInt8]?]](repeating: [], count: n)
        var damaged = Set<Int>()
        for index in 0..<n {
            switch reader.open(index) {
            case .failure(.missing):
                report.shardsMissing += 1
                damaged.insert(index)
                cells[index] = Array(repeating: nil, count: layout.stripeCount)
            case .failure:
                report.shardsCorrupt += 1
                damaged.insert(index)
                cells[index] = Array(repeating: nil, count: layout.stripeCount)
            case .success(let shard):
                cells[index] = (0..<layout.stripeCount).map { shard.cell(stripe: $0) }
                report.bytesRead += shard.header.fileLength
                if cells[index].contains(where: { $0 == nil }) || !shard.hasExpectedLength {
                    report.shardsCorrupt += 1
                    damaged.insert(index)
                }
            }
        }
        guard !damaged.isEmpty else { return }
        let targets = damaged.sorted()
        var rebuilt = [[UInt8]](repeating: [], count: n)
        var checksums = [[UInt32]](repeating: [], count: n)
        for s in 0..<layout.stripeCount {
            var intact: [Int: [UInt8]] = [:]
            for index in 0..<n { if let cell = cells[index][s] { intact[index] = cell } }
            let lost = targets.filter { intact[$0] == nil }
            if !lost.isEmpty {
                do {
                    let fresh = try reader.rebuild(lost, stripe: s, known: intact)
                    for (index, cell) in zip(lost, fresh) { intact[index] = cell }
                } catch {
                    report.unrecoverable.append(id)
                    return
                }
            }
            for index in targets {
                rebuilt[index] += intact[index]!
                checksums[index].append(CRC32C.checksum(intact[index]!))
            }
        }
        for index in targets {
            let header = ShardHeader(blobID: id, shardIndex: index, layout: layout, writtenAt: store.now, cellChecksums: checksums[index])
            do {
                try store.heal(id, shard: index, file: header.encode() + rebuilt[index])
                report.shardsHealed += 1
            } catch {
                report.healFailures += 1
            }
        }
    }
}
