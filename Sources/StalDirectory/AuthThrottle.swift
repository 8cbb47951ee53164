import StalCore
#if canImport(Glibc)
import Glibc
#endif

/// Per-address (IPv4) or per-/64 (IPv6) authentication failure accounting, as a pure value: the caller passes the time.
/// After `authFailuresBeforeSlowdown` failures each further failure is answered after a
/// growing delay; after `authFailuresBeforeBlock` the IP is refused outright for a period
/// that doubles with each further failure, capped at `authBlockSecondsMax`. A success, or an
/// hour without failures, clears the record.
public struct AuthThrottle: Sendable {
    public enum Decision: Hashable, Sendable {
        case allowed
        case blocked(retryAfterSeconds: Int64)
    }

    struct Entry: Hashable, Sendable {
        var failures: Int
        var lastFailure: Timestamp
        var blockedUntil: Timestamp?
    }

    public static let forgetAfterMilliseconds: Int64 = 3_600_000
    public static let delayMillisecondsBase: Int64 = 250
    public static let delayMillisecondsMax: Int64 = 4_000
    public static let blockSecondsBase: Int64 = 60
    /// Bound on remembered IPs; the stalest records are dropped first.
    public var trackedAddressesMax = 100_000

    private let limits: Limits
    private var entries: [String: Entry] = [:]

    public init(limits: Limits) {
        self.limits = limits
    }

    public var trackedCount: Int { entries.count }

    /// The unit that is counted: an IPv4 address, or the /64 of an IPv6 address (one
    /// subscriber's LAN, whose addresses an attacker can rotate freely). IPv4-mapped IPv6
    /// counts as the IPv4 address; anything unparsable counts as itself.
    public static func throttleKey(_ remote: String) -> String {
        var v6 = in6_addr()
        guard remote.contains(":"), inet_pton(AF_INET6, remote, &v6) == 1 else { return remote }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let hex = Array("0123456789abcdef")
        return String(bytes[0..<8].flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }) + "::/64"
    }

    public mutating func check(_ address: String, now: Timestamp) -> Decision {
        let remote = Self.throttleKey(address)
        guard let e = entries[remote] else { return .allowed }
        if now.millisecondsSinceEpoch - e.lastFailure.millisecondsSinceEpoch > Self.forgetAfterMilliseconds {
            entries[remote] = nil
            return .allowed
        }
        if let until = e.blockedUntil, now < until {
            return .blocked(retryAfterSeconds: max(1, (until.millisecondsSinceEpoch - now.millisecondsSinceEpoch + 999) / 1000))
        }
        return .allowed
    }

    /// Records a failure; returns how long the caller must wait before answering.
    public mutating func recordFailure(_ address: String, now: Timestamp) -> Int64 {
        let remote = Self.throttleKey(address)
        var e = entries[remote] ?? Entry(failures: 0, lastFailure: now, blockedUntil: nil)
        if now.millisecondsSinceEpoch - e.lastFailure.millisecondsSinceEpoch > Self.forgetAfterMilliseconds {
            e = Entry(failures: 0, lastFailure: now, blockedUntil: nil)
        }
        e.failures += 1
        e.lastFailure = now
        if e.failures >= limits.authFailuresBeforeBlock {
            let doublings = min(e.failures - limits.authFailuresBeforeBlock, 20)
            let seconds = min(Self.blockSecondsBase << Int64(doublings), limits.authBlockSecondsMax)
            e.blockedUntil = now.adding(milliseconds: seconds * 1000)
        }
        if entries[remote] == nil { evictIfFull() }
        entries[remote] = e
        guard e.failures >= limits.authFailuresBeforeSlowdown else { return 0 }
        let doublings = min(e.failures - limits.authFailuresBeforeSlowdown, 20)
        return min(Self.delayMillisecondsBase << Int64(doublings), Self.delayMillisecondsMax)
    }

    public mutating func recordSuccess(_ address: String) {
        entries[Self.throttleKey(address)] = nil
    }

    private mutating func evictIfFull() {
        guard entries.count >= trackedAddressesMax else { return }
        let drop = max(1, entries.count / 10)
        let stalest = entries.sorted { $0.value.lastFailure < $1.value.lastFailure }.prefix(drop)
        for (k, _) in stalest { entries[k] = nil }
    }
}
