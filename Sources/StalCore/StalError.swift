/// The kinds of failure every layer reports, so that each protocol can map them to its own
/// wire reply in one place.
public struct StalError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case notFound
        case alreadyExists
        case invalidArgument
        case permissionDenied
        case authenticationFailed
        case rateLimited
        case quotaExceeded
        case limitExceeded
        case conflict
        case unavailable
        case notLeader
        case corrupted
        case storage
        case `internal`
    }

    public var kind: Kind
    public var context: String

    public init(_ kind: Kind, _ context: String = "") {
        self.kind = kind
        self.context = context
    }

    public var description: String { context.isEmpty ? kind.rawValue : "\(kind.rawValue): \(context)" }
}
