import CZstd
import Crypto
import StalCore
import StalErasure

extension BlobStore {
    /// Bytes handed to `read(_:chunk:)`'s consumer at a time, at most.
    public static let streamChunkBytesMax = 256 * 1024

    /// Streams the whole blob to `consume` in order, one stripe at a time, so a 50 MB message
    /// is never held in memory whole. Every cell is checked against its checksum before it is
    /// passed on (degraded stripes are rebuilt first); the id is checked at the end over
    /// everything streamed, and a mismatch throws after the last chunk.
    public func read(_ id: BlobID, chunk consume: (ArraySlice<UInt8>) throws(StalError) -> Void) throws(StalError) {
        guard let manifest = try manifest(id) else { throw StalError(.notFound, "blob \(id.hex)") }
        var hasher = SHA256()
        var emitted = 0
        func emit(_ bytes: ArraySlice<UInt8>) throws(StalError) {
            var start = bytes.startIndex
            while start < bytes.endIndex {
                let end = min(bytes.endIndex, start + Self.streamChunkBytesMax)
                hasher.update(data: bytes[start..<end])
                emitted += end - start
                try consume(bytes[start..<end])
                start = end
            }
        }
        var decompressor = manifest.compression == .zstd ? try StreamingDecompressor(expectedLength: manifest.length) : nil
        func feed(_ stored: ArraySlice<UInt8>) throws(StalError) {
            if decompressor != nil { try decompressor!.decompress(stored, emit: emit) } else { try emit(stored) }
        }
        switch manifest.body {
        case .inline(let stored):
            try feed(stored[...])
        case .erasureCoded(let layout, let placement):
            var reader = ShardSetReader(store: self, id: id, layout: layout, placement: placement)
            for s in 0..<layout.stripeCount {
                let start = s * layout.stripeBytes
                try feed(try reader.read(start..<(start + layout.dataBytes(inStripe: s)))[...])
            }
            if reader.sawDamage { noteDamaged(id) }
        }
        try decompressor?.finish()
        guard emitted == manifest.length, manifest.addressing == .caller || Array(hasher.finalize()) == id.digest else {
            throw StalError(.corrupted, "blob \(id.hex): streamed content does not match its id")
        }
    }
}

/// zstd streaming decompression bounded by the length the manifest promises.
private struct StreamingDecompressor: ~Copyable {
    private let stream: OpaquePointer
    private let expectedLength: Int
    private var produced = 0
    private var frameComplete = false
    private var output: [UInt8]

    init(expectedLength: Int) throws(StalError) {
        guard let stream = ZSTD_createDStream() else { throw StalError(.internal, "zstd: cannot create a stream") }
        ZSTD_initDStream(stream)
        self.stream = stream
        self.expectedLength = expectedLength
        self.output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    }

    deinit { ZSTD_freeDStream(stream) }

    mutating func decompress(_ input: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws(StalError) -> Void) throws(StalError) {
        var position = 0
        while position < input.count {
            let (status, consumed, written) = input.withUnsafeBytes { raw in
                output.withUnsafeMutableBytes { out in
                    var inBuffer = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: position)
                    var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let status = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                    return (status, inBuffer.pos, outBuffer.pos)
                }
            }
            guard ZSTD_isError(status) == 0 else { throw StalError(.corrupted, "zstd: damaged frame") }
            produced += written
            guard produced <= expectedLength else { throw StalError(.corrupted, "zstd: frame longer than \(expectedLength) bytes") }
            if written > 0 { try emit(output[0..<written]) }
            frameComplete = status == 0
            guard consumed > position || written > 0 else { throw StalError(.corrupted, "zstd: no progress") }
            position = consumed
        }
    }

    mutating func finish() throws(StalError) {
        guard frameComplete, produced == expectedLength else {
            throw StalError(.corrupted, "zstd: frame ends after \(produced) of \(expectedLength) bytes")
        }
    }
}
