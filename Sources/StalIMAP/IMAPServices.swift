import StalDirectory
import StalMailStore

/// The services an IMAP session acts on.
public struct IMAPServices: Sendable {
    public var mailStore: MailStore
    public var directory: Directory
    /// Shared by every session of the node.
    public var structureCache: IMAPStructureCache

    public init(mailStore: MailStore, directory: Directory, structureCache: IMAPStructureCache = IMAPStructureCache()) {
        self.mailStore = mailStore
        self.directory = directory
        self.structureCache = structureCache
    }
}
