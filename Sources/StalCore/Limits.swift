/// Every protocol and storage limit in one place, each with a name and a default, so that
/// configuration can override them and every edge enforces the same numbers before it
/// spends memory.
public struct Limits: Sendable, Hashable {
    /// SMTP command line including CRLF (RFC 5321 §4.5.3.1.4 says 512; extensions need more).
    public var smtpCommandLineOctetsMax = 4096
    /// SMTP text line inside DATA including CRLF (RFC 5321 §4.5.3.1.6 says 1000).
    public var smtpDataLineOctetsMax = 1_000_000
    public var smtpMessageOctetsMax = 50 * 1024 * 1024
    public var smtpRecipientsMax = 100
    public var smtpErrorsBeforeDisconnect = 20
    /// IMAP command line outside literals.
    public var imapCommandLineOctetsMax = 64 * 1024
    /// A single non-APPEND literal (e.g. a SEARCH string or LOGIN password).
    public var imapLiteralOctetsMax = 64 * 1024
    public var imapAppendOctetsMax = 50 * 1024 * 1024
    public var imapBadCommandsBeforeDisconnect = 50
    public var mimeNestingDepthMax = 64
    public var mimePartsMax = 10_000
    public var mimeHeaderOctetsMax = 1024 * 1024
    public var authFailuresBeforeSlowdown = 5
    public var authFailuresBeforeBlock = 20
    public var authBlockSecondsMax: Int64 = 15 * 60

    public init() {}

    public static let `default` = Limits()
}
