/// Standard base64 (RFC 4648 §4) for SASL exchanges.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var bits: UInt32 = 0
        var count = 0
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let v = alphabet.firstIndex(of: c) else { return nil }
            bits = bits << 6 | UInt32(v)
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8((bits >> UInt32(count)) & 0xFF))
            }
        }
        guard padding <= 2, (text.utf8.count % 4 == 0) || padding == 0 else { return nil }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SASL PLAIN (RFC 4616): `authzid NUL authcid NUL passwd`.
public struct SASLPlainCredentials: Hashable, Sendable {
    public var authorizationID: String
    public var username: String
    public var password: String

    public init?(base64 text: String) {
        guard let bytes = Base64.decode(text) else { return nil }
        let parts = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty else { return nil }
        authorizationID = String(decoding: parts[0], as: UTF8.self)
        username = String(decoding: parts[1], as: UTF8.self)
        password = String(decoding: parts[2], as: UTF8.self)
    }

    public static func encode(username: String, password: String) -> String {
        Base64.encode([0] + Array(username.utf8) + [0] + Array(password.utf8))
    }
}
