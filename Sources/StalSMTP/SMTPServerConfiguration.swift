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

    public init(hostname: String, mode: SMTPMode, limits: Limits = .default, tlsContext: NIOSSLContext? = nil,
                requireTLSForAuth: Bool = true) {
        self.hostname = hostname
        self.mode = mode
        self.limits = limits
        self.tlsContext = tlsContext
        self.requireTLSForAuth = requireTLSForAuth
    }

    var session: SMTPSessionConfiguration {
        SMTPSessionConfiguration(hostname: hostname, mode: mode, limits: limits, tlsAvailable: tlsContext != nil,
                                 requireTLSForAuth: requireTLSForAuth)
    }
}
