import CISAL

/// CRC32C (Castagnoli, as in iSCSI and ext4 metadata) through ISA-L's hardware path.
/// Standard parameters: initial value and final xor 0xFFFFFFFF, so "123456789" → 0xE3069283.
public enum CRC32C {
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Continues a checksum over more bytes: `update(checksum(a), b) == checksum(a + b)`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var state = ~crc
        var base = bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
        var remaining = bytes.count
        // crc32_iscsi takes an Int32 length.
        let chunkMax = 1 << 30
        while remaining > 0, let pointer = base {
            let chunk = min(remaining, chunkMax)
            state = crc32_iscsi(pointer.assumingMemoryBound(to: UInt8.self), Int32(chunk), state)
            base = pointer + chunk
            remaining -= chunk
        }
        return ~state
    }
}
