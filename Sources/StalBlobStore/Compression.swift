import CZstd
import StalCore

/// zstd before encoding, kept only when it saves enough to be worth a decompression on
/// every read.
enum BlobCompression {
    static let sampleBytes = 128 * 1024

    /// Compresses `bytes`; nil when the result would not be at least `minimumSavingPercent`
    /// smaller.
    static func compress(_ bytes: [UInt8], level: Int32, minimumSavingPercent: Int) -> [UInt8]? {
        guard !bytes.isEmpty else { return nil }
        // Already-compressed payloads (images, archives) are common in mail; a sample tells
        // cheaply whether the whole blob is worth the CPU.
        if bytes.count > 4 * sampleBytes,
           compress(Array(bytes.prefix(sampleBytes)), level: level, minimumSavingPercent: minimumSavingPercent) == nil {
            return nil
        }
        let bound = ZSTD_compressBound(bytes.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { input in
                ZSTD_compress(out.baseAddress, bound, input.baseAddress, input.count, level)
            }
        }
        guard ZSTD_isError(written) == 0 else { return nil }
        guard written * 100 <= bytes.count * (100 - minimumSavingPercent) else { return nil }
        output.removeLast(bound - written)
        return output
    }

    /// Decompresses to exactly `length` bytes or fails; the length comes from the manifest, so
    /// a damaged frame cannot make it allocate more.
    static func decompress(_ bytes: [UInt8], length: Int) throws(StalError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        let written = output.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { input in
                ZSTD_decompress(out.baseAddress, length, input.baseAddress, input.count)
            }
        }
        guard ZSTD_isError(written) == 0, written == length else {
            throw StalError(.corrupted, "zstd frame does not decode to \(length) bytes")
        }
        return output
    }
}
