/// How a keyword update combines with the keywords a message already has (IMAP STORE
/// FLAGS / +FLAGS / -FLAGS, JMAP keywords patch).
public enum KeywordOperation: UInt8, Sendable, Hashable, CaseIterable {
    case add = 1
    case remove = 2
    case replace = 3

    public func applied(to current: Set<Keyword>, _ keywords: Set<Keyword>) -> Set<Keyword> {
        switch self {
        case .add: return current.union(keywords)
        case .remove: return current.subtracting(keywords)
        case .replace: return keywords
        }
    }
}
