/// The replicated state machine the simulator's clients use: a handful of registers.
public struct KVCommand: Hashable, Sendable {
    public enum Kind: UInt8, Sendable { case put = 1, get = 2 }

    public var clientID: UInt16
    public var operationID: UInt32
    public var kind: Kind
    public var key: UInt8
    public var value: UInt32

    public init(clientID: UInt16, operationID: UInt32, kind: Kind, key: UInt8, value: UInt32) {
        self.clientID = clientID
        self.operationID = operationID
        self.kind = kind
        self.key = key
        self.value = value
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [kind.rawValue, UInt8(truncatingIfNeeded: clientID), UInt8(truncatingIfNeeded: clientID >> 8), key]
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: operationID >> UInt32(shift))) }
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        return out
    }

    public init?(decoding b: [UInt8]) {
        guard b.count == 12, let kind = Kind(rawValue: b[0]) else { return nil }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << UInt32(8 * $1) } }
        self.init(clientID: UInt16(b[1]) | UInt16(b[2]) << 8, operationID: u32(4), kind: kind, key: b[3], value: u32(8))
    }
}

public struct KVStore: Hashable, Sendable {
    public private(set) var values: [UInt32]

    public init(keyCount: Int) {
        values = Array(repeating: 0, count: keyCount)
    }

    /// Applies a command; returns the value read (gets) or written (puts).
    public mutating func apply(_ c: KVCommand) -> UInt32 {
        let k = Int(c.key) % values.count
        if c.kind == .put { values[k] = c.value }
        return values[k]
    }

    public func read(_ key: UInt8) -> UInt32 { values[Int(key) % values.count] }

    public func encoded() -> [UInt8] {
        values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) } }
    }

    public init(decoding b: [UInt8], keyCount: Int) {
        self.init(keyCount: keyCount)
        guard b.count == keyCount * 4 else { return }
        for k in 0..<keyCount {
            values[k] = (0..<4).reduce(0) { $0 | UInt32(b[4 * k + $1]) << UInt32(8 * $1) }
        }
    }
}
