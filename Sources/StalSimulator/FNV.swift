/// FNV-1a, 64-bit: a hash that is the same in every process (Swift's `Hasher` is seeded
/// per process), so trace hashes and entry digests are reproducible.
public struct FNV64: Hashable, Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine(byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }

    public mutating func combine(_ v: UInt64) {
        var x = v
        for _ in 0..<8 {
            combine(byte: UInt8(truncatingIfNeeded: x))
            x >>= 8
        }
    }

    public mutating func combine(_ bytes: [UInt8]) {
        combine(UInt64(bytes.count))
        for b in bytes { combine(byte: b) }
    }
}
