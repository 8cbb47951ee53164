import StalCore
import StalErasure

/// Where one location's shard files live: a local directory today (`FileShardDevice`), a
/// simulated disk in tests and the simulator (`MemoryShardDevice`), a remote node later.
/// Every write method returns only once the bytes are durable.
public protocol ShardDevice: AnyObject, Sendable {
    var id: StorageLocationID { get }
    var failureDomain: String { get }
    /// False while the device cannot take writes (a lost disk, an unreachable node).
    var isUsable: Bool { get }

    /// Durably writes a new blob's shard. Nothing reads it before the blob's manifest commits,
    /// so a crash may leave it partial: checksums reject it and collection removes it. A shard
    /// that already exists is replaced atomically instead, as `replace` does: another writer
    /// of the same blob may have committed its manifest since this put found none, and
    /// readers and a crash must then see the old complete file or the new one.
    func writeNew(_ file: UnsafeRawBufferPointer, blob: BlobID, shard: Int, at now: Timestamp) throws(StalError)
    /// Durably and atomically replaces a shard that readers may be using (healing).
    func replace(_ file: [UInt8], blob: BlobID, shard: Int, at now: Timestamp) throws(StalError)
    /// Up to `count` bytes at `offset` (fewer at the end); nil when the shard does not exist.
    func read(blob: BlobID, shard: Int, offset: Int, count: Int) throws(StalError) -> [UInt8]?
    /// The shard's length in bytes, nil when it does not exist.
    func length(blob: BlobID, shard: Int) -> Int?
    /// Removes a shard; a missing one is not an error.
    func remove(blob: BlobID, shard: Int) throws(StalError)
    /// Every shard the device holds.
    func inventory() -> [ShardAddress]
    /// Removes what interrupted writes left behind before `cutoff`; returns how many.
    func removeLeftovers(before cutoff: Timestamp) throws(StalError) -> Int
}

public struct ShardAddress: Hashable, Sendable {
    public var blob: BlobID
    public var shard: Int

    public init(blob: BlobID, shard: Int) {
        self.blob = blob
        self.shard = shard
    }
}

extension ShardDevice {
    /// The header of a shard whatever its layout, or nil when missing or damaged.
    func header(blob: BlobID, shard: Int) -> ShardHeader? {
        guard let fixed = try? read(blob: blob, shard: shard, offset: 0, count: ShardHeader.fixedBytes),
              let stripes = try? ShardHeader.declaredStripeCount(fixedPart: fixed),
              stripes <= (1 << 24),
              let bytes = try? read(blob: blob, shard: shard, offset: 0, count: ShardHeader.encodedLength(stripeCount: stripes))
        else { return nil }
        return try? ShardHeader.decode(bytes)
    }
}

/// A shard being read: its header, checked against what the manifest expects, and cell
/// reads verified against the header's checksums.
struct OpenShard {
    let device: any ShardDevice
    let header: ShardHeader

    /// Opens and validates shard `shard` of the blob, or says why it cannot be used.
    static func open(_ device: any ShardDevice, blob: BlobID, shard: Int, layout: StripeLayout) -> Result<OpenShard, ShardFault> {
        let headerBytes = ShardHeader.encodedLength(stripeCount: layout.stripeCount)
        let bytes: [UInt8]
        do {
            guard let read = try device.read(blob: blob, shard: shard, offset: 0, count: headerBytes) else { return .failure(.missing) }
            bytes = read
        } catch {
            return .failure(.unreadable)
        }
        guard let header = try? ShardHeader.decode(bytes), header.blobID == blob, header.shardIndex == shard, header.layout == layout else {
            return .failure(.corrupt)
        }
        return .success(OpenShard(device: device, header: header))
    }

    /// Stripe `s`'s cell, or nil when it is short or fails its checksum.
    func cell(stripe s: Int) -> [UInt8]? {
        let length = header.layout.cellLength(stripe: s)
        guard let bytes = try? device.read(blob: header.blobID, shard: header.shardIndex, offset: header.fileOffset(stripe: s), count: length),
              bytes.count == length,
              bytes.withUnsafeBytes({ header.verify(cell: $0, stripe: s) }) else { return nil }
        return bytes
    }

    /// Whether the shard has exactly the header's length (no truncation, no trailing bytes).
    var hasExpectedLength: Bool {
        device.length(blob: header.blobID, shard: header.shardIndex) == header.fileLength
    }
}

public enum ShardFault: String, Error, Hashable, Sendable {
    case missing
    case unreadable
    case corrupt
}
