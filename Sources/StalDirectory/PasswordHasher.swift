import CArgon2
import Dispatch
import StalCore

/// Argon2id (RFC 9106) password hashes in the PHC string format (`$argon2id$v=19$m=...`).
/// Hashing and verifying take tens of milliseconds of CPU by design, so they run on a
/// Dispatch queue rather than a Swift concurrency thread.
public struct PasswordHasher: Sendable {
    public var timeCost: UInt32
    public var memoryKiB: UInt32
    public var parallelism: UInt32
    public static let saltBytes = 16
    public static let hashBytes = 32

    /// OWASP's minimum recommendation for Argon2id: 19 MiB, 2 iterations, 1 lane.
    public static let standard = PasswordHasher(timeCost: 2, memoryKiB: 19 * 1024, parallelism: 1)
    /// Cheap parameters for tests; never for stored production hashes.
    public static let fastForTests = PasswordHasher(timeCost: 1, memoryKiB: 64, parallelism: 1)

    public init(timeCost: UInt32, memoryKiB: UInt32, parallelism: UInt32) {
        self.timeCost = timeCost
        self.memoryKiB = memoryKiB
        self.parallelism = parallelism
    }

    public func hash(_ password: String, salt: [UInt8]) throws -> String {
        let pwd = Array(password.utf8)
        let length = argon2_encodedlen(timeCost, memoryKiB, parallelism, UInt32(salt.count), UInt32(Self.hashBytes), Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        let rc = pwd.withUnsafeBytes { p in
            salt.withUnsafeBytes { s in
                argon2id_hash_encoded(timeCost, memoryKiB, parallelism, p.baseAddress, pwd.count, s.baseAddress, salt.count,
                                      Self.hashBytes, &encoded, length)
            }
        }
        guard rc == ARGON2_OK.rawValue else {
            throw StalError(.internal, "argon2id: \(String(cString: argon2_error_message(rc)))")
        }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func verify(_ password: String, encoded: String) -> Bool {
        let pwd = Array(password.utf8)
        return pwd.withUnsafeBytes { p in argon2id_verify(encoded, p.baseAddress, pwd.count) } == ARGON2_OK.rawValue
    }

    func hashOffPool(_ password: String, salt: [UInt8]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.hash(password, salt: salt) })
            }
        }
    }

    static func verifyOffPool(_ password: String, encoded: String) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: verify(password, encoded: encoded))
            }
        }
    }

    /// Rejects passwords shorter than 8 characters or drawn from one character class only.
    public static func checkStrength(_ password: String) throws {
        guard password.count >= 8 else { throw StalError(.invalidArgument, "password shorter than 8 characters") }
        var classes = Set<Int>()
        for s in password.unicodeScalars {
            switch s.value {
            case 0x61...0x7A: classes.insert(0)
            case 0x41...0x5A: classes.insert(1)
            case 0x30...0x39: classes.insert(2)
            default: classes.insert(3)
            }
        }
        guard classes.count >= 2 else {
            throw StalError(.invalidArgument, "password uses only one character class")
        }
    }
}
