import StalCore

/// The one place where a store or directory failure becomes an IMAP reply.
public enum IMAPErrorMapping {
    public static func response(tag: String, _ error: StalError) -> IMAPResponse {
        let code: ResponseCode
        let text: String
        switch error.kind {
        case .notFound: code = .nonexistent; text = "No such mailbox or message"
        case .alreadyExists: code = .alreadyExists; text = "Already exists"
        case .invalidArgument: code = .cannot; text = "Operation not permitted"
        case .permissionDenied: code = .noPerm; text = "Permission denied"
        case .authenticationFailed: code = .authenticationFailed; text = "Authentication failed"
        case .rateLimited: code = .unavailable; text = "Try again later"
        case .quotaExceeded: code = .overQuota; text = "Quota exceeded"
        case .limitExceeded: code = .limit; text = "Limit exceeded"
        case .conflict: code = .inUse; text = "Conflicting change, try again"
        case .unavailable, .notLeader: code = .unavailable; text = "Temporarily unavailable"
        case .corrupted, .storage, .internal: code = .serverBug; text = "Internal error"
        }
        return .tagged(tag: tag, .no, code, text)
    }
}
