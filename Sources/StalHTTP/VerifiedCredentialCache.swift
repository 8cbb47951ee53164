import Crypto
import StalDeterminism

/// Administrator credentials that passed Argon2id verification recently. Argon2id is
/// deliberately slow (tens of milliseconds), and the management API authenticates every
/// request, so a client issuing many requests would be bound by the hash; a credential
/// seen valid within `lifetimeMilliseconds` is accepted without hashing again.
///
/// Only SHA-256 digests of the credential are kept, never the password. Failed attempts
/// are not cached (they stay throttled by the directory). At most `capacity` credentials
/// are remembered; the one closest to expiry is forgotten first.
public final class VerifiedCredentialCache: @unchecked Sendable {
    public let capacity: Int
    public let lifetimeMilliseconds: UInt64
    private let clock: any WallClock
    private let lock = Mutex()
    private var expiries: [SHA256Digest: UInt64] = [:]

    public init(clock: any WallClock = SystemClock(), capacity: Int = 64, lifetimeMilliseconds: UInt64 = 30_000) {
        precondition(capacity > 0)
        self.clock = clock
        self.capacity = capacity
        self.lifetimeMilliseconds = lifetimeMilliseconds
    }

    public func contains(user: String, password: String) -> Bool {
        let key = Self.digest(user: user, password: password)
        let now = clock.monotonicNanoseconds()
        return lock.withLock {
            guard let expiry = expiries[key] else { return false }
            if expiry > now { return true }
            expiries[key] = nil
            return false
        }
    }

    public func insert(user: String, password: String) {
        let key = Self.digest(user: user, password: password)
        let now = clock.monotonicNanoseconds()
        lock.withLock {
            if expiries[key] == nil, expiries.count >= capacity {
                expiries = expiries.filter { $0.value > now }
                if expiries.count >= capacity, let soonest = expiries.min(by: { $0.value < $1.value })?.key {
                    expiries[soonest] = nil
                }
            }
            expiries[key] = now + lifetimeMilliseconds * 1_000_000
        }
    }

    public var count: Int { lock.withLock { expiries.count } }

    /// The user and password are length-prefixed so no two pairs share an input.
    static func digest(user: String, password: String) -> SHA256Digest {
        var hasher = SHA256()
        let u = Array(user.utf8)
        hasher.update(data: withUnsafeBytes(of: UInt64(u.count).littleEndian) { Array($0) })
        hasher.update(data: u)
        hasher.update(data: Array(password.utf8))
        return hasher.finalize()
    }
}
