import StalCore
import StalDeterminism
import Testing
@testable import StalErasure

/// The manifest and shard-header decoders take bytes from disk and, later, from the network:
/// garbage must be rejected with an error, never a crash or a huge allocation.
@Suite struct DecodingRobustnessTests {
    @Test func randomAndMutatedInputsAreRejectedOrRoundTrip() throws {
        var random = SeededRandom(seed: 42)
        let layout = try StripeLayout(scheme: try ErasureScheme(dataShards: 4, parityShards: 2), stripeBytes: 8192, contentLength: 20_000)
        let id = BlobID(digest: random.bytes(32))!
        let manifest = BlobManifest(blobID: id, length: 30_000, compression: .zstd, createdAt: Timestamp(millisecondsSinceEpoch: 5),
                                    body: .erasureCoded(layout: layout, shards: (0..<6).map { StorageLocationID("l\($0)") }))
        let header = ShardHeader(blobID: id, shardIndex: 3, layout: layout, writtenAt: Timestamp(millisecondsSinceEpoch: 9),
                                 cellChecksums: [1, 2, 3])
        let seeds = [manifest.encode(), header.encode()]
        var accepted = 0
        for round in 0..<20_000 {
            var input: [UInt8]
            if round % 4 == 0 {
                input = random.bytes(Int(random.next(below: 200)))
            } else {
                input = seeds[round % 2]
                for _ in 0..<(1 + Int(random.next(below: 4))) where !input.isEmpty {
                    input[Int(random.next(below: UInt64(input.count)))] = UInt8(truncatingIfNeeded: random.next())
                }
                if random.chance(1, in: 4) { input.removeLast(Int(random.next(below: UInt64(input.count)))) }
            }
            if let decoded = try? BlobManifest(decoding: input) {
                #expect(decoded.encode() == input)
                accepted += 1
            }
            if let decoded = try? ShardHeader.decode(input) {
                #expect(decoded.encode() == Array(input.prefix(decoded.encodedLength)))
                accepted += 1
            }
        }
        // Only mutations that left the bytes unchanged (same value written back) decode.
        #expect(accepted < 2_000)
    }
}
