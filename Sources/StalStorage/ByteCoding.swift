import StalCore

/// Big-endian, length-prefixed binary encoding shared by keys, records and log commands.
/// Big-endian integers keep bytewise key order equal to numeric order.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    public mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    public mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    /// Raw bytes with no length; for fixed-width fields and key components.
    public mutating func raw(_ v: some Sequence<UInt8>) { bytes.append(contentsOf: v) }

    /// A u32 length followed by the bytes.
    public mutating func lengthPrefixed(_ v: [UInt8]) {
        u32(UInt32(v.count))
        bytes.append(contentsOf: v)
    }

    public mutating func string(_ s: String) { lengthPrefixed(Array(s.utf8)) }

    public mutating func optionalU64(_ v: UInt64?) {
        if let v { u8(1); u64(v) } else { u8(0) }
    }
}

public struct ByteReader {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var isAtEnd: Bool { offset == bytes.count }
    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, bytes.count - offset >= n else {
            throw StalError(.corrupted, "record truncated at \(offset) (+\(n) of \(bytes.count))")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func u8() throws -> UInt8 { try take(1).first! }

    public mutating func bool() throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let v: throw StalError(.corrupted, "bool byte \(v)")
        }
    }

    public mutating func u16() throws -> UInt16 {
        try take(2).reduce(0) { $0 << 8 | UInt16($1) }
    }

    public mutating func u32() throws -> UInt32 {
        try take(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func u64() throws -> UInt64 {
        try take(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    public mutating func raw(_ n: Int) throws -> [UInt8] { Array(try take(n)) }

    /// A u32 length then bytes; rejects lengths over `max` before allocating.
    public mutating func lengthPrefixed(max: Int = 1 << 30) throws -> [UInt8] {
        let n = Int(try u32())
        guard n <= max else { throw StalError(.corrupted, "length \(n) over \(max)") }
        return try raw(n)
    }

    public mutating func string(max: Int = 1 << 20) throws -> String {
        let b = try lengthPrefixed(max: max)
        guard let s = String(validating: b, as: UTF8.self) else {
            throw StalError(.corrupted, "invalid UTF-8 string")
        }
        return s
    }

    public mutating func optionalU64() throws -> UInt64? {
        try bool() ? try u64() : nil
    }

    /// A count that must be plausible for the bytes left (each element at least `minElementBytes`).
    public mutating func count(minElementBytes: Int = 1) throws -> Int {
        let n = Int(try u32())
        guard n <= remaining / max(minElementBytes, 1) else {
            throw StalError(.corrupted, "count \(n) exceeds remaining \(remaining) bytes")
        }
        return n
    }

    public func expectEnd() throws {
        guard isAtEnd else { throw StalError(.corrupted, "\(remaining) trailing bytes") }
    }
}

/// Builds keys from a one-byte tag and big-endian components.
public enum KeyCoding {
    public static func key(_ tag: UInt8, _ components: UInt64...) -> [UInt8] {
        var w = ByteWriter(capacity: 1 + 8 * components.count)
        w.u8(tag)
        for c in components { w.u64(c) }
        return w.bytes
    }

    public static func u64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in offset..<offset + 8 { v = v << 8 | UInt64(bytes[i]) }
        return v
    }

    public static func u32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in offset..<offset + 4 { v = v << 8 | UInt32(bytes[i]) }
        return v
    }
}
