import CZstd
import StalCore

/// zstd frames for blob bodies. The frame header records the content size, which
/// decompression checks against the size the blob record promises.
enum Zstd {
    static func compress(_ input: [UInt8], level: Int32) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in
                ZSTD_compress(dst.baseAddress, bound, src.baseAddress, input.count, level)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw StalError(.internal, "zstd compress: \(String(cString: ZSTD_getErrorName(written)))")
        }
        out.removeLast(bound - written)
        return out
    }

    static func decompress(_ input: [UInt8], expectedSize: Int) throws -> [UInt8] {
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, input.count) }
        guard declared == UInt64(expectedSize) else {
            throw StalError(.corrupted, "zstd frame declares \(declared) bytes, record says \(expectedSize)")
        }
        var out = [UInt8](repeating: 0, count: expectedSize)
        let n = out.withUnsafeMutableBytes { dst in
            input.withUnsafeBytes { src in
                ZSTD_decompress(dst.baseAddress, expectedSize, src.baseAddress, input.count)
            }
        }
        if ZSTD_isError(n) != 0 {
            throw StalError(.corrupted, "zstd decompress: \(String(cString: ZSTD_getErrorName(n)))")
        }
        guard n == expectedSize else { throw StalError(.corrupted, "zstd produced \(n) of \(expectedSize) bytes") }
        return out
    }
}
