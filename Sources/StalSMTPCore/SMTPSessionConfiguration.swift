import StalCore

/// Which service a listener offers.
public enum SMTPMode: String, Hashable, Sendable {
    /// Inbound mail for local domains (port 25): no AUTH, relaying refused.
    case mx
    /// Message submission (RFC 6409, port 587): AUTH required before MAIL.
    case submission
    /// LMTP (RFC 2033): LHLO, one reply per recipient after the message.
    case lmtp
}

/// What the pure session needs to know about its listener; the L3 handler builds it from
/// its own configuration.
public struct SMTPSessionConfiguration: Hashable, Sendable {
    /// The name the server greets with and writes into Received headers.
    public var hostname: String
    public var mode: SMTPMode
    public var limits: Limits
    /// Whether STARTTLS can be offered (a TLS context is configured).
    public var tlsAvailable: Bool
    /// Whether PLAIN/LOGIN need TLS; loopback clients are exempt (RFC 4954 §4 leaves the
    /// policy to the server; sending passwords in clear over a network is refused).
    public var requireTLSForAuth: Bool
    /// The connection is TLS from its first byte (RFC 8314 submissions on port 465): the
    /// session starts as if STARTTLS had completed and does not offer STARTTLS.
    public var implicitTLS: Bool

    public init(hostname: String, mode: SMTPMode, limits: Limits = .default, tlsAvailable: Bool,
                requireTLSForAuth: Bool = true, implicitTLS: Bool = false) {
        self.hostname = hostname
        self.mode = mode
        self.limits = limits
        self.tlsAvailable = tlsAvailable
        self.requireTLSForAuth = requireTLSForAuth
        self.implicitTLS = implicitTLS
    }
}

/// The client's side of the connection as the handler sees it.
public struct SMTPPeer: Hashable, Sendable {
    /// A textual IP address (`192.0.2.1`, `2001:db8::1`), or empty when unknown.
    public var address: String
    public var isLoopback: Bool

    public init(address: String, isLoopback: Bool) {
        self.address = address
        self.isLoopback = isLoopback
    }

    /// The address as an RFC 5321 address literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
    public var addressLiteral: String {
        if address.isEmpty { return "[unknown]" }
        return address.contains(":") ? "[IPv6:\(address)]" : "[\(address)]"
    }
}
