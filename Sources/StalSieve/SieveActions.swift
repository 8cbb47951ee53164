/// The SMTP envelope of the message being filtered (RFC 5228 §2.7.4, RFC 6009 extras).
public struct SieveEnvelope: Hashable, Sendable {
    /// Reverse path without angle brackets; empty for the null path `<>`.
    public var from: String
    public var to: String
    public var originalTo: String?
    public var auth: String?
    public var notify: String?
    public var orcpt: String?
    public var ret: String?
    public var envid: String?

    public init(from: String, to: String, originalTo: String? = nil, auth: String? = nil) {
        self.from = from
        self.to = to
        self.originalTo = originalTo
        self.auth = auth
    }
}

public struct SieveFileInto: Hashable, Sendable {
    public var mailbox: String
    public var flags: [String]?
    public var copy: Bool
    public var create: Bool
    public var specialUse: String?
    public var mailboxID: String?

    public init(mailbox: String, flags: [String]?, copy: Bool, create: Bool, specialUse: String?, mailboxID: String?) {
        self.mailbox = mailbox
        self.flags = flags
        self.copy = copy
        self.create = create
        self.specialUse = specialUse
        self.mailboxID = mailboxID
    }
}

public struct SieveRedirect: Hashable, Sendable {
    public var address: String
    public var copy: Bool
    public var dsnNotify: String?
    public var dsnReturn: String?
    public var deliverBySeconds: Int?
    public var deliverByMode: String?

    public init(address: String, copy: Bool, dsnNotify: String? = nil, dsnReturn: String? = nil,
                deliverBySeconds: Int? = nil, deliverByMode: String? = nil) {
        self.address = address
        self.copy = copy
        self.dsnNotify = dsnNotify
        self.dsnReturn = dsnReturn
        self.deliverBySeconds = deliverBySeconds
        self.deliverByMode = deliverByMode
    }
}

public struct SieveVacation: Hashable, Sendable {
    public var reason: String
    public var subject: String?
    public var from: String?
    public var addresses: [String]
    public var isMIME: Bool
    /// Response-tracking key (RFC 5230 §4.2): explicit :handle or derived from the arguments.
    public var handle: String
    public var periodSeconds: Int
    public var fcc: SieveFileInto?

    public init(reason: String, subject: String?, from: String?, addresses: [String], isMIME: Bool, handle: String,
                periodSeconds: Int, fcc: SieveFileInto?) {
        self.reason = reason
        self.subject = subject
        self.from = from
        self.addresses = addresses
        self.isMIME = isMIME
        self.handle = handle
        self.periodSeconds = periodSeconds
        self.fcc = fcc
    }
}

public struct SieveNotify: Hashable, Sendable {
    public var method: String
    public var from: String?
    public var importance: Int
    public var options: [String]
    public var message: String?
    public var fcc: SieveFileInto?
}

/// What the script asks the host to do. The host performs these after the run.
public enum SieveAction: Hashable, Sendable {
    case keep(flags: [String]?)
    case fileInto(SieveFileInto)
    case redirect(SieveRedirect)
    case reject(reason: String, extended: Bool)
    case discard
    case vacation(SieveVacation)
    case notify(SieveNotify)
    /// Record `id` under `handle` as seen for `seconds` (RFC 7352 §3.2).
    case trackDuplicate(handle: String, id: String, seconds: Int)

    /// Pigeonhole's action names, used by the test harness and debug output.
    public var name: String {
        switch self {
        case .keep: return "keep"
        case .fileInto: return "store"
        case .redirect: return "redirect"
        case .reject(_, let extended): return extended ? "ereject" : "reject"
        case .discard: return "discard"
        case .vacation: return "vacation"
        case .notify: return "notify"
        case .trackDuplicate: return "duplicate"
        }
    }
}

/// Accumulated actions plus the implicit-keep state (RFC 5228 §2.10.2).
public struct SieveResult: Hashable, Sendable {
    public var actions: [SieveAction] = []
    public var implicitKeep = true
    /// Flags the implicit keep would use (imap4flags internal variable at the end of the run).
    public var implicitKeepFlags: [String]?
    public var redirectCount = 0

    public init() {}

    /// The actions to perform, with the implicit keep added when nothing cancelled it.
    public var finalActions: [SieveAction] {
        var out = actions
        if implicitKeep, !out.contains(where: { if case .keep = $0 { return true } else { return false } }) {
            out.append(.keep(flags: implicitKeepFlags))
        }
        return out
    }
}
