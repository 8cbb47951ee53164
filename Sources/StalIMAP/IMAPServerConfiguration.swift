import NIOSSL
import StalCore

/// Every knob of the IMAP edge in one place.
public struct IMAPServerConfiguration: Sendable {
    public var limits: Limits
    /// The name in the greeting and in ID responses.
    public var serverName: String
    /// Offered as STARTTLS when the connection is not already TLS.
    public var startTLSContext: NIOSSLContext?
    /// The listener put TLS in front of this handler (IMAPS, port 993).
    public var implicitTLS: Bool
    /// While a command runs, reading from the socket pauses once this many octets wait.
    public var bufferedOctetsMax: Int
    /// Responses are written in chunks of about this size, so FETCH 1:* never builds its
    /// whole output in memory.
    public var outputChunkOctets: Int
    /// Autologout after this long without input (RFC 3501 §5.4: at least 30 minutes;
    /// IDLE clients re-issue IDLE every 29 minutes, RFC 2177).
    public var inactivityTimeoutSeconds: Int64

    public init(limits: Limits = .default, serverName: String = "Stal", startTLSContext: NIOSSLContext? = nil,
                implicitTLS: Bool = false, bufferedOctetsMax: Int = 256 * 1024, outputChunkOctets: Int = 64 * 1024,
                inactivityTimeoutSeconds: Int64 = 30 * 60) {
        self.limits = limits
        self.serverName = serverName
        self.startTLSContext = startTLSContext
        self.implicitTLS = implicitTLS
        self.bufferedOctetsMax = bufferedOctetsMax
        self.outputChunkOctets = outputChunkOctets
        self.inactivityTimeoutSeconds = inactivityTimeoutSeconds
    }
}
