/// Identifiers are small fixed-width values chosen by a shard leader before a command is
/// proposed, so every replica applies the same ids. Each kind is its own type so an
/// account id can never be passed where a mailbox id is expected.
public protocol StalIdentifier: Hashable, Comparable, Sendable, CustomStringConvertible {
    var rawValue: UInt64 { get }
    init(rawValue: UInt64)
}

extension StalIdentifier {
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

public struct TenantID: StalIdentifier {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

public struct AccountID: StalIdentifier {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

public struct MailboxID: StalIdentifier {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

public struct EmailID: StalIdentifier {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

public struct ThreadID: StalIdentifier {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// The account-wide modification sequence (RFC 7162); every change to an account raises it.
public struct ModSeq: StalIdentifier {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let zero = ModSeq(rawValue: 0)
    public func next() -> ModSeq { ModSeq(rawValue: rawValue + 1) }
}

/// A content address: the SHA-256 of a blob's uncompressed bytes.
public struct BlobID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let digest: [UInt8]

    public init?(digest: [UInt8]) {
        guard digest.count == 32 else { return nil }
        self.digest = digest
    }

    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high { bytes.append(h << 4 | v); high = nil } else { high = v }
        }
        self.digest = bytes
    }

    public var hex: String {
        let table = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in digest { out.append(table[Int(b >> 4)]); out.append(table[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func < (lhs: BlobID, rhs: BlobID) -> Bool {
        lhs.digest.lexicographicallyPrecedes(rhs.digest)
    }
}
