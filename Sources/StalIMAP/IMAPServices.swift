import StalDirectory
import StalMailStore

/// The services an IMAP session acts on.
public struct IMAPServices: Sendable {
    public var mailStore: MailStore
    public var directory: Directory

    public init(mailStore: MailStore, directory: Directory) {
        self.mailStore = mailStore
        self.directory = directory
    }
}
