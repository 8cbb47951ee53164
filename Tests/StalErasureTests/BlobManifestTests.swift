import StalCore
import Testing
@testable import StalErasure

@Suite struct BlobManifestTests {
    let id = BlobID(digest: Array(0..<32))!
    let at = Timestamp(millisecondsSinceEpoch: 1_764_000_123_456)

    @Test func roundTripsBothBodies() throws {
        let inline = BlobManifest(blobID: id, length: 5, compression: .none, createdAt: at, body: .inline(Array("hello".utf8)))
        #expect(try BlobManifest(decoding: inline.encode()) == inline)
        #expect(inline.storedLength == 5)
        let layout = try StripeLayout(scheme: try ErasureScheme(dataShards: 4, parityShards: 2), stripeBytes: 1 << 20, contentLength: 3_000_000)
        let coded = BlobManifest(blobID: id, length: 9_000_000, compression: .zstd, createdAt: at,
                                 body: .erasureCoded(layout: layout, shards: (0..<6).map { StorageLocationID("node\($0)/disk") }))
        #expect(try BlobManifest(decoding: coded.encode()) == coded)
        var chosen = coded
        chosen.addressing = .caller
        #expect(try BlobManifest(decoding: chosen.encode()) == chosen)
        #expect(chosen.encode() != coded.encode())
        #expect(coded.storedLength == 3_000_000)
    }

    @Test func everyFlippedByteIsDetected() throws {
        let manifest = BlobManifest(blobID: id, length: 3, compression: .none, createdAt: at, body: .inline([1, 2, 3]))
        let bytes = manifest.encode()
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x10
            #expect(throws: StalError.self) { try BlobManifest(decoding: damaged) }
        }
        for cut in 0..<bytes.count {
            #expect(throws: StalError.self) { try BlobManifest(decoding: Array(bytes.prefix(cut))) }
        }
    }
}
