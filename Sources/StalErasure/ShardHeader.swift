import StalCore

/// The self-describing front of every shard file: which blob and which shard it is, the
/// layout needed to read it, and a CRC32C per cell so a flipped bit is detected before it is
/// decoded into wrong bytes. The header has its own CRC32C, so a damaged header is a damaged
/// shard too. A shard found without its manifest (a put that crashed) can be identified and
/// aged from the header alone.
public struct ShardHeader: Hashable, Sendable {
    static let magic: [UInt8] = Array("STALSHRD".utf8)
    public static let formatVersion: UInt16 = 1
    /// magic, version, k, m, index, reserved, stripe bytes, content length, digest, writtenAt, stripe count.
    public static let fixedBytes = 8 + 2 + 4 + 4 + 8 + 32 + 8 + 4

    public var blobID: BlobID
    public var shardIndex: Int
    public var layout: StripeLayout
    /// When the put that wrote this shard started; garbage collection ages orphans by it.
    public var writtenAt: Timestamp
    /// CRC32C of each stripe's cell in this shard.
    public var cellChecksums: [UInt32]

    public init(blobID: BlobID, shardIndex: Int, layout: StripeLayout, writtenAt: Timestamp, cellChecksums: [UInt32]) {
        precondition((0..<layout.scheme.totalShards).contains(shardIndex))
        precondition(cellChecksums.count == layout.stripeCount)
        self.blobID = blobID
        self.shardIndex = shardIndex
        self.layout = layout
        self.writtenAt = writtenAt
        self.cellChecksums = cellChecksums
    }

    public static func encodedLength(stripeCount: Int) -> Int { fixedBytes + 4 * stripeCount + 4 }

    public var encodedLength: Int { Self.encodedLength(stripeCount: layout.stripeCount) }

    /// Offset of stripe `s`'s cell from the start of the shard file.
    public func fileOffset(stripe s: Int) -> Int { encodedLength + layout.cellOffset(stripe: s) }

    public var fileLength: Int { encodedLength + layout.shardPayloadBytes }

    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.raw(Self.magic)
        w.u16(Self.formatVersion)
        w.u8(UInt8(layout.scheme.dataShards))
        w.u8(UInt8(layout.scheme.parityShards))
        w.u8(UInt8(shardIndex))
        w.u8(0)
        w.u32(UInt32(layout.stripeBytes))
        w.u64(UInt64(layout.contentLength))
        w.raw(blobID.digest)
        w.i64(writtenAt.millisecondsSinceEpoch)
        w.u32(UInt32(cellChecksums.count))
        for crc in cellChecksums { w.u32(crc) }
        w.u32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    /// The stripe count a header declares, read from its fixed part, so a reader knows how
    /// many bytes the whole header takes.
    public static func declaredStripeCount(fixedPart: [UInt8]) throws(StalError) -> Int {
        guard fixedPart.count >= fixedBytes, Array(fixedPart.prefix(8)) == magic else {
            throw StalError(.corrupted, "shard header: bad magic")
        }
        var r = ByteReader(Array(fixedPart[(fixedBytes - 4)..<fixedBytes]), what: "shard header")
        return Int(try r.u32())
    }

    public static func decode(_ bytes: [UInt8]) throws(StalError) -> ShardHeader {
        let stripeCount = try declaredStripeCount(fixedPart: bytes)
        guard stripeCount <= (Int(UInt32.max) - fixedBytes) / 4, bytes.count >= encodedLength(stripeCount: stripeCount) else {
            throw StalError(.corrupted, "shard header: truncated")
        }
        let length = encodedLength(stripeCount: stripeCount)
        let stored = bytes.withUnsafeBytes { raw in
            raw.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self).littleEndian
        }
        guard stored == bytes.withUnsafeBytes({ CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(length - 4)])) }) else {
            throw StalError(.corrupted, "shard header: checksum mismatch")
        }
        var r = ByteReader(bytes, what: "shard header")
        _ = try r.raw(8)
        let version = try r.u16()
        guard version == formatVersion else { throw StalError(.corrupted, "shard header: version \(version)") }
        let k = Int(try r.u8()), m = Int(try r.u8()), index = Int(try r.u8())
        _ = try r.u8()
        let stripeBytes = Int(try r.u32())
        let contentLength = Int(try r.u64())
        guard let blobID = BlobID(digest: try r.raw(32)) else { throw StalError(.corrupted, "shard header: digest") }
        let writtenAt = Timestamp(millisecondsSinceEpoch: try r.i64())
        _ = try r.u32()
        var checksums: [UInt32] = []
        checksums.reserveCapacity(stripeCount)
        for _ in 0..<stripeCount { checksums.append(try r.u32()) }
        let layout: StripeLayout
        do {
            layout = try StripeLayout(scheme: try ErasureScheme(dataShards: k, parityShards: m),
                                      stripeBytes: stripeBytes, contentLength: contentLength)
        } catch {
            throw StalError(.corrupted, "shard header: \(error.context)")
        }
        guard layout.stripeCount == stripeCount, index < layout.scheme.totalShards else {
            throw StalError(.corrupted, "shard header: inconsistent layout")
        }
        return ShardHeader(blobID: blobID, shardIndex: index, layout: layout, writtenAt: writtenAt, cellChecksums: checksums)
    }

    /// Whether `cell` is intact stripe `s`'s cell of this shard.
    public func verify(cell: UnsafeRawBufferPointer, stripe s: Int) -> Bool {
        cell.count == layout.cellLength(stripe: s) && CRC32C.checksum(cell) == cellChecksums[s]
    }
}
