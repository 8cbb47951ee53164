import StalCore

/// The k+m shard files of one blob, built in memory: header followed by every stripe's cell.
/// Data cells are copied from the content once and parity is computed in place, so encoding
/// costs one copy plus ISA-L's arithmetic.
public final class EncodedShards {
    public let headers: [ShardHeader]
    private let files: [UnsafeMutableRawBufferPointer]

    public init(content: UnsafeRawBufferPointer, blobID: BlobID, layout: StripeLayout,
                codec: ReedSolomonCodec, writtenAt: Timestamp) {
        precondition(codec.scheme == layout.scheme && content.count == layout.contentLength)
        let k = layout.scheme.dataShards, n = layout.scheme.totalShards
        let headerBytes = ShardHeader.encodedLength(stripeCount: layout.stripeCount)
        let fileBytes = headerBytes + layout.shardPayloadBytes
        let files = (0..<n).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: fileBytes, alignment: 64) }
        let dataPointers = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: k)
        let parityPointers = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: max(1, n - k))
        defer { dataPointers.deallocate(); parityPointers.deallocate() }
        var checksums = [[UInt32]](repeating: [], count: n)
        for s in 0..<layout.stripeCount {
            let cellLength = layout.cellLength(stripe: s)
            let offset = headerBytes + layout.cellOffset(stripe: s)
            for i in 0..<n {
                let cell = files[i].baseAddress! + offset
                if i < k {
                    let range = layout.contentRange(stripe: s, dataIndex: i)
                    if !range.isEmpty {
                        cell.copyMemory(from: content.baseAddress! + range.lowerBound, byteCount: range.count)
                    }
                    if range.count < cellLength {
                        (cell + range.count).initializeMemory(as: UInt8.self, repeating: 0, count: cellLength - range.count)
                    }
                    dataPointers[i] = cell.assumingMemoryBound(to: UInt8.self)
                } else {
                    parityPointers[i - k] = cell.bindMemory(to: UInt8.self, capacity: cellLength)
                }
            }
            codec.encode(cellLength: cellLength, data: dataPointers, parity: parityPointers)
            for i in 0..<n {
                checksums[i].append(CRC32C.checksum(UnsafeRawBufferPointer(start: files[i].baseAddress! + offset, count: cellLength)))
            }
        }
        var headers: [ShardHeader] = []
        for i in 0..<n {
            let header = ShardHeader(blobID: blobID, shardIndex: i, layout: layout, writtenAt: writtenAt, cellChecksums: checksums[i])
            let encoded = header.encode()
            UnsafeMutableRawBufferPointer(rebasing: files[i][0..<headerBytes]).copyBytes(from: encoded)
            headers.append(header)
        }
        self.headers = headers
        self.files = files
    }

    deinit {
        for file in files { file.deallocate() }
    }

    public var count: Int { files.count }

    /// The complete file for shard `index`, valid while this object lives.
    public func file(_ index: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(files[index]) }

    public func bytes(_ index: Int) -> [UInt8] { Array(file(index)) }
}
