import StalCore

/// Little-endian fixed-width writer for the on-disk and in-log formats of this module.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { append(v) }
    mutating func u32(_ v: UInt32) { append(v) }
    mutating func u64(_ v: UInt64) { append(v) }
    mutating func i64(_ v: Int64) { append(UInt64(bitPattern: v)) }
    mutating func raw(_ v: some Sequence<UInt8>) { bytes.append(contentsOf: v) }

    /// A u32 length prefix, then the bytes.
    mutating func lengthPrefixed(_ v: [UInt8]) {
        u32(UInt32(v.count))
        raw(v)
    }

    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        var le = v.littleEndian
        withUnsafeBytes(of: &le) { bytes.append(contentsOf: $0) }
    }
}

/// The reading side of `ByteWriter`; every read checks the remaining length first.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    let what: String

    init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.offset = 0
        self.what = what
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(StalError) -> UInt8 { try integer() }
    mutating func u16() throws(StalError) -> UInt16 { try integer() }
    mutating func u32() throws(StalError) -> UInt32 { try integer() }
    mutating func u64() throws(StalError) -> UInt64 { try integer() }
    mutating func i64() throws(StalError) -> Int64 { Int64(bitPattern: try integer() as UInt64) }

    mutating func raw(_ count: Int) throws(StalError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw truncated() }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func lengthPrefixed(max: Int) throws(StalError) -> [UInt8] {
        let count = Int(try u32())
        guard count <= max else {
            throw StalError(.corrupted, "\(what): field of \(count) bytes exceeds \(max)")
        }
        return try raw(count)
    }

    private mutating func integer<T: FixedWidthInteger>() throws(StalError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw truncated() }
        var v: T = 0
        for i in 0..<size { v |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return v
    }

    private func truncated() -> StalError { StalError(.corrupted, "\(what): truncated at byte \(offset)") }
}
