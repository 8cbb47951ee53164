import NIOCore
import StalDeterminism

/// The plug point for StalServerKit's listeners: installs an SMTP, submission or LMTP
/// session on a freshly accepted channel.
public enum SMTPChannelInitializer {
    /// Must run on the channel's event loop (as `childChannelInitializer` does).
    /// `sessionID` names the session in Received headers and replies; see `makeSessionID`.
    public static func configure(channel: Channel, configuration: SMTPServerConfiguration, backend: any SMTPBackend,
                                 clock: any WallClock, sessionID: String) throws {
        let handler = SMTPServerHandler(configuration: configuration, backend: backend, clock: clock, sessionID: sessionID)
        try channel.pipeline.syncOperations.addHandler(handler)
    }

    /// A 16-character lower-case base32 id (80 bits), unique enough to name a session in logs.
    public static func makeSessionID(using random: inout some RandomSource) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var out: [UInt8] = []
        for word in [random.next(), random.next()] {
            var bits = word
            for _ in 0..<8 {
                out.append(alphabet[Int(bits & 31)])
                bits >>= 5
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
