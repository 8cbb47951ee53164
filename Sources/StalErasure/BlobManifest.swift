import StalCore

/// Everything needed to read a blob back: how its bytes were transformed and where each
/// shard lives. A plain value with a stable binary form, so the shard log can carry it and
/// every replica agrees on placement.
public struct BlobManifest: Hashable, Sendable {
    public enum Compression: UInt8, Hashable, Sendable {
        case none = 0
        case zstd = 1
    }

    /// What the id promises about the bytes.
    public enum Addressing: UInt8, Hashable, Sendable {
        /// The id is the SHA-256 of the original bytes; full reads check it.
        case content = 0
        /// The caller chose the id (say, the digest of bytes it transformed itself); the
        /// store vouches for integrity through its checksums only.
        case caller = 1
    }

    public enum Body: Hashable, Sendable {
        /// Small blobs: the stored bytes travel in the manifest itself.
        case inline([UInt8])
        /// Large blobs: `shards[i]` is the location of shard i of the layout.
        case erasureCoded(layout: StripeLayout, shards: [StorageLocationID])
    }

    static let magic: [UInt8] = Array("STBM".utf8)
    static let formatVersion: UInt8 = 1
    /// Bounds on decoded fields, checked before allocating.
    public static let inlineBytesMax = 16 << 20

    public var blobID: BlobID
    /// Length of the blob as given to put (before compression).
    public var length: Int
    public var compression: Compression
    public var addressing: Addressing
    public var createdAt: Timestamp
    public var body: Body

    public init(blobID: BlobID, length: Int, compression: Compression, addressing: Addressing = .content,
                createdAt: Timestamp, body: Body) {
        self.blobID = blobID
        self.length = length
        self.compression = compression
        self.addressing = addressing
        self.createdAt = createdAt
        self.body = body
    }

    /// Bytes after compression: what is inlined or erasure-coded.
    public var storedLength: Int {
        switch body {
        case .inline(let bytes): bytes.count
        case .erasureCoded(let layout, _): layout.contentLength
        }
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.raw(Self.magic)
        w.u8(Self.formatVersion)
        w.raw(blobID.digest)
        w.u64(UInt64(length))
        w.u8(compression.rawValue)
        w.u8(addressing.rawValue)
        w.i64(createdAt.millisecondsSinceEpoch)
        switch body {
        case .inline(let bytes):
            w.u8(0)
            w.lengthPrefixed(bytes)
        case .erasureCoded(let layout, let shards):
            w.u8(1)
            w.u8(UInt8(layout.scheme.dataShards))
            w.u8(UInt8(layout.scheme.parityShards))
            w.u32(UInt32(layout.stripeBytes))
            w.u64(UInt64(layout.contentLength))
            w.u8(UInt8(shards.count))
            for location in shards { w.lengthPrefixed(Array(location.name.utf8)) }
        }
        w.u32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(StalError) {
        guard bytes.count >= 4 + Self.magic.count, Array(bytes.prefix(4)) == Self.magic else {
            throw StalError(.corrupted, "blob manifest: bad magic")
        }
        let body = Array(bytes.dropLast(4))
        var trailer = ByteReader(Array(bytes.suffix(4)), what: "blob manifest")
        guard try trailer.u32() == CRC32C.checksum(body) else {
            throw StalError(.corrupted, "blob manifest: checksum mismatch")
        }
        var r = ByteReader(body, what: "blob manifest")
        _ = try r.raw(4)
        let version = try r.u8()
        guard version == Self.formatVersion else { throw StalError(.corrupted, "blob manifest: version \(version)") }
        guard let id = BlobID(digest: try r.raw(32)) else { throw StalError(.corrupted, "blob manifest: digest") }
        blobID = id
        length = Int(try r.u64())
        guard let compression = Compression(rawValue: try r.u8()) else {
            throw StalError(.corrupted, "blob manifest: unknown compression")
        }
        self.compression = compression
        guard let addressing = Addressing(rawValue: try r.u8()) else {
            throw StalError(.corrupted, "blob manifest: unknown addressing")
        }
        self.addressing = addressing
        createdAt = Timestamp(millisecondsSinceEpoch: try r.i64())
        switch try r.u8() {
        case 0:
            self.body = .inline(try r.lengthPrefixed(max: Self.inlineBytesMax))
        case 1:
            let k = Int(try r.u8()), m = Int(try r.u8())
            let stripeBytes = Int(try r.u32())
            let contentLength = Int(try r.u64())
            let layout: StripeLayout
            do {
                layout = try StripeLayout(scheme: try ErasureScheme(dataShards: k, parityShards: m),
                                          stripeBytes: stripeBytes, contentLength: contentLength)
            } catch {
                throw StalError(.corrupted, "blob manifest: \(error.context)")
            }
            let count = Int(try r.u8())
            guard count == layout.scheme.totalShards else {
                throw StalError(.corrupted, "blob manifest: \(count) shard locations for \(layout.scheme)")
            }
            var shards: [StorageLocationID] = []
            for _ in 0..<count {
                let name = try r.lengthPrefixed(max: StorageLocationID.lengthMax)
                guard !name.isEmpty, let text = String(validating: name, as: UTF8.self) else {
                    throw StalError(.corrupted, "blob manifest: location name")
                }
                shards.append(StorageLocationID(text))
            }
            self.body = .erasureCoded(layout: layout, shards: shards)
        case let kind:
            throw StalError(.corrupted, "blob manifest: unknown body kind \(kind)")
        }
        guard r.remaining == 0 else { throw StalError(.corrupted, "blob manifest: trailing bytes") }
    }
}
