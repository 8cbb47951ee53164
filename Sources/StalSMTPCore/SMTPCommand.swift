import StalCore

/// The `BODY=` parameter of MAIL (RFC 6152). BINARYMIME is not offered.
public enum SMTPBodyType: String, Hashable, Sendable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
}

/// The MAIL FROM parameters Stal understands (SIZE RFC 1870, BODY RFC 6152, SMTPUTF8
/// RFC 6531, AUTH RFC 4954 §5 which is accepted and ignored).
public struct SMTPMailParameters: Hashable, Sendable {
    public var declaredSize: Int?
    public var body: SMTPBodyType?
    public var smtpUTF8: Bool
    public var authIdentity: String?

    public init(declaredSize: Int? = nil, body: SMTPBodyType? = nil, smtpUTF8: Bool = false, authIdentity: String? = nil) {
        self.declaredSize = declaredSize
        self.body = body
        self.smtpUTF8 = smtpUTF8
        self.authIdentity = authIdentity
    }
}

/// SASL mechanisms offered by AUTH (RFC 4954): PLAIN (RFC 4616) and LOGIN.
public enum SASLMechanism: String, Hashable, Sendable, CaseIterable {
    case plain = "PLAIN"
    case login = "LOGIN"
}

/// One parsed SMTP/LMTP command line.
public enum SMTPCommand: Hashable, Sendable {
    case helo(String)
    case ehlo(String)
    case lhlo(String)
    /// `nil` is the null reverse path `<>` used by bounces.
    case mail(reversePath: EmailAddress?, parameters: SMTPMailParameters)
    case rcpt(forwardPath: EmailAddress)
    case data
    case bdat(chunkOctets: Int, isLast: Bool)
    case rset
    case noop
    case quit
    case vrfy(String)
    case expn(String)
    case help
    case startTLS
    case auth(SASLMechanism, initialResponse: String?)

    /// The verb as the client would write it, for logs and error texts.
    public var verb: String {
        switch self {
        case .helo: return "HELO"
        case .ehlo: return "EHLO"
        case .lhlo: return "LHLO"
        case .mail: return "MAIL"
        case .rcpt: return "RCPT"
        case .data: return "DATA"
        case .bdat: return "BDAT"
        case .rset: return "RSET"
        case .noop: return "NOOP"
        case .quit: return "QUIT"
        case .vrfy: return "VRFY"
        case .expn: return "EXPN"
        case .help: return "HELP"
        case .startTLS: return "STARTTLS"
        case .auth: return "AUTH"
        }
    }
}
