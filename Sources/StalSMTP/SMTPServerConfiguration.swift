import NIOSSL
import StalCore
import StalSMTPCore

/// Everything one SMTP, submission or LMTP listener needs; StalNode builds one per port.
public struct SMTPServerConfiguration: Sendable {
    /// The name in the greeting, EHLO reply and Received headers.
    public var hostname: String
    public var mode: SMTPMode
    public var limits: Limits
    /// Offered through STARTTLS when set.
    public var tlsContext: NIOSSLContext?
    /// PLAIN/LOGIN only after STARTTLS, except from loopback addresses.
    public var requireTLSForAuth: Bool
    /// Set when the listener already put TLS in front (port 465, RFC 8314).
    public var implicitTLS: Bool
    /// Closes a session whose client sends nothing for this long (RFC 5321 §4.5.3.2 suggests
    /// 5 minutes); time spent waiting for the directory or the store does not count. nil: never.
    public var idleTimeoutSeconds: Int64?

    public init(hostname: String, mode: SMTPMode, limits: Limits = .default, tlsContext: NIOSSLContext? = nil,
                requireTLSForAuth: Bool = true, implicitTLS: Bool = false, idleTimeoutSeconds: Int64? = 300) {
        self.hostname = hostname
        self.mode = mode
        self.limits = limits
        self.tlsContext = tlsContext
        self.requireTLSForAuth = requireTLSForAuth
        self.implicitTLS = implicitTLS
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    var session: SMTPSessionConfiguration {
        SMTPSessionConfiguration(hostname: hostname, mode: mode, limits: limits,
                                 tlsAvailable: tlsContext != nil && !implicitTLS,
                                 requireTLSForAuth: requireTLSForAuth, implicitTLS: implicitTLS)
    }
}
