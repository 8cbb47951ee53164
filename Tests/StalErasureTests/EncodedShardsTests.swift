import StalCore
import StalDeterminism
import Testing
@testable import StalErasure

@Suite struct EncodedShardsTests {
    let blobID = BlobID(digest: [UInt8](repeating: 0xAB, count: 32))!
    let writtenAt = Timestamp(millisecondsSinceEpoch: 1_764_000_000_000)

    func encode(_ content: [UInt8], k: Int, m: Int, stripeBytes: Int) throws -> (StripeLayout, EncodedShards) {
        let scheme = try ErasureScheme(dataShards: k, parityShards: m)
        let layout = try StripeLayout(scheme: scheme, stripeBytes: stripeBytes, contentLength: content.count)
        let shards = content.withUnsafeBytes {
            EncodedShards(content: $0, blobID: blobID, layout: layout, codec: ReedSolomonCodec(scheme: scheme), writtenAt: writtenAt)
        }
        return (layout, shards)
    }

    /// Reads the content back from shard files, rebuilding each stripe from whichever shards verify.
    func readBack(_ files: [[UInt8]?], layout: StripeLayout) throws -> [UInt8] {
        let codec = ReedSolomonCodec(scheme: layout.scheme)
        var content: [UInt8] = []
        let headers = files.map { $0.flatMap { try? ShardHeader.decode($0) } }
        for s in 0..<layout.stripeCount {
            let cells: [[UInt8]?] = files.indices.map { i in
                guard let file = files[i], let header = headers[i] else { return nil }
                let start = header.fileOffset(stripe: s)
                let cell = Array(file[start..<(start + layout.cellLength(stripe: s))])
                return cell.withUnsafeBytes { header.verify(cell: $0, stripe: s) } ? cell : nil
            }
            let full = try codec.reconstruct(cells)
            for i in 0..<layout.scheme.dataShards {
                content += full[i].prefix(layout.contentRange(stripe: s, dataIndex: i).count)
            }
        }
        return content
    }

    @Test(arguments: [(1, 0, 0), (1, 0, 5000), (4, 2, 1), (4, 2, 20_000), (6, 3, 99_999), (10, 4, 64 * 10 * 7 * 3)])
    func encodesAndReadsBack(k: Int, m: Int, length: Int) throws {
        var random = SeededRandom(seed: UInt64(length))
        let content = random.bytes(length)
        let (layout, shards) = try encode(content, k: k, m: m, stripeBytes: StripeLayout.alignedStripeBytes(4096 * 2, scheme: try ErasureScheme(dataShards: k, parityShards: m)))
        #expect(shards.count == k + m)
        let files = (0..<shards.count).map { shards.bytes($0) }
        for (i, file) in files.enumerated() {
            let header = try ShardHeader.decode(file)
            #expect(header == shards.headers[i])
            #expect(header.shardIndex == i && header.blobID == blobID && header.writtenAt == writtenAt)
            #expect(file.count == header.fileLength)
        }
        #expect(try readBack(files, layout: layout) == content)
        var damaged: [[UInt8]?] = files
        for i in 0..<m { damaged[(i * 7 + 1) % (k + m)] = nil }
        #expect(try readBack(damaged, layout: layout) == content)
    }

    @Test func bitRotIsDetectedAndRepaired() throws {
        var random = SeededRandom(seed: 5)
        let content = random.bytes(50_000)
        let (layout, shards) = try encode(content, k: 4, m: 2, stripeBytes: 8192)
        var files: [[UInt8]?] = (0..<6).map { shards.bytes($0) }
        let header = try ShardHeader.decode(files[1]!)
        files[1]![header.fileOffset(stripe: 2) + 17] ^= 0x40
        files[4]![header.fileOffset(stripe: 0)] ^= 0x01
        #expect(try readBack(files, layout: layout) == content)
        // A third damaged shard in the same stripe exceeds m=2: an error, never wrong bytes.
        files[0]![header.fileOffset(stripe: 0) + 3] ^= 0x80
        files[1]![header.fileOffset(stripe: 0) + 3] ^= 0x80
        #expect(throws: StalError.self) { try readBack(files, layout: layout) }
    }

    @Test func damagedHeaderIsRejected() throws {
        let (_, shards) = try encode([UInt8](repeating: 7, count: 10_000), k: 4, m: 2, stripeBytes: 4096)
        var file = shards.bytes(3)
        file[30] ^= 0x04
        #expect(throws: StalError.self) { try ShardHeader.decode(file) }
        #expect(throws: StalError.self) { try ShardHeader.decode(Array(shards.bytes(3).prefix(40))) }
        file = shards.bytes(3)
        file[0] = 0
        #expect(throws: StalError.self) { try ShardHeader.decode(file) }
    }
}
