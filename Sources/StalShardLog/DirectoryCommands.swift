import StalCore

/// Payloads of directory (metadata shard) commands. Passwords travel only as Argon2id
/// encoded hashes computed before proposing.
public struct AddDomainCommand: Hashable, Sendable {
    public var tenant: TenantID
    public var domain: String
    public init(tenant: TenantID, domain: String) {
        self.tenant = tenant
        self.domain = domain
    }
}

public struct RemoveDomainCommand: Hashable, Sendable {
    public var domain: String
    public init(domain: String) { self.domain = domain }
}

public struct AddAccountCommand: Hashable, Sendable {
    public var account: AccountID
    public var tenant: TenantID
    /// Canonical (lower-cased) primary address, also the login name.
    public var address: String
    public var displayName: String
    public var passwordHash: String
    public var quotaBytes: UInt64?

    public init(account: AccountID, tenant: TenantID, address: String, displayName: String,
                passwordHash: String, quotaBytes: UInt64?) {
        self.account = account
        self.tenant = tenant
        self.address = address
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.quotaBytes = quotaBytes
    }
}

public struct RemoveAccountCommand: Hashable, Sendable {
    public var account: AccountID
    public init(account: AccountID) { self.account = account }
}

public struct SetPasswordCommand: Hashable, Sendable {
    public var account: AccountID
    public var passwordHash: String
    public init(account: AccountID, passwordHash: String) {
        self.account = account
        self.passwordHash = passwordHash
    }
}

public struct AddAliasCommand: Hashable, Sendable {
    /// Canonical alias address.
    public var alias: String
    public var account: AccountID
    public init(alias: String, account: AccountID) {
        self.alias = alias
        self.account = account
    }
}

public struct RemoveAliasCommand: Hashable, Sendable {
    public var alias: String
    public init(alias: String) { self.alias = alias }
}

public struct SetCatchAllCommand: Hashable, Sendable {
    public var domain: String
    public var account: AccountID?
    public init(domain: String, account: AccountID?) {
        self.domain = domain
        self.account = account
    }
}

public struct SetAdminPasswordCommand: Hashable, Sendable {
    public var name: String
    public var passwordHash: String
    public init(name: String, passwordHash: String) {
        self.name = name
        self.passwordHash = passwordHash
    }
}

/// A cluster probe register: a small replicated key/value on the metadata shard that
/// operators, the chaos test and the Raft benchmark write and read to exercise consensus
/// end to end without touching mail state.
public struct SetProbeCommand: Hashable, Sendable {
    public static let keyBytesMax = 256
    public static let valueBytesMax = 4096

    public var key: String
    public var value: [UInt8]

    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }
}
