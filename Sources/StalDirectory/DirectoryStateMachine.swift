import StalCore
import StalShardLog
import StalStorage

/// Key layout of the `directory` family:
///   D domain      -> DomainRecord (tenant, catch-all account)
///   A account     -> AccountEntryRecord
///   L address     -> account id (primary address = login name)
///   X alias       -> account id
///   P admin name  -> Argon2id hash
///   Q probe key   -> probe value (cluster probe registers)
enum DirectoryKeys {
    static func domain(_ d: String) -> [UInt8] { [UInt8(ascii: "D")] + Array(d.utf8) }
    static let domains: [UInt8] = [UInt8(ascii: "D")]
    static func account(_ a: AccountID) -> [UInt8] { KeyCoding.key(UInt8(ascii: "A"), a.rawValue) }
    static let accounts: [UInt8] = [UInt8(ascii: "A")]
    static func login(_ address: String) -> [UInt8] { [UInt8(ascii: "L")] + Array(address.utf8) }
    static let logins: [UInt8] = [UInt8(ascii: "L")]
    static func alias(_ address: String) -> [UInt8] { [UInt8(ascii: "X")] + Array(address.utf8) }
    static let aliases: [UInt8] = [UInt8(ascii: "X")]
    static func admin(_ name: String) -> [UInt8] { [UInt8(ascii: "P")] + Array(name.utf8) }
    static func probe(_ key: String) -> [UInt8] { [UInt8(ascii: "Q")] + Array(key.utf8) }
}

private let recordVersion: UInt8 = 1

struct DomainRecord: Hashable, Sendable {
    var tenant: TenantID
    var catchAll: AccountID?

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u8(recordVersion); w.u64(tenant.rawValue); w.optionalU64(catchAll?.rawValue)
        return w.bytes
    }

    init(tenant: TenantID, catchAll: AccountID?) {
        self.tenant = tenant
        self.catchAll = catchAll
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard try r.u8() == recordVersion else { throw StalError(.corrupted, "domain record version") }
        tenant = TenantID(rawValue: try r.u64()); catchAll = try r.optionalU64().map(AccountID.init(rawValue:))
        try r.expectEnd()
    }
}

struct AccountEntryRecord: Hashable, Sendable {
    var tenant: TenantID
    var address: String
    var displayName: String
    var passwordHash: String
    var quotaBytes: UInt64?

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u8(recordVersion); w.u64(tenant.rawValue); w.string(address); w.string(displayName); w.string(passwordHash)
        w.optionalU64(quotaBytes)
        return w.bytes
    }

    init(tenant: TenantID, address: String, displayName: String, passwordHash: String, quotaBytes: UInt64?) {
        self.tenant = tenant
        self.address = address
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.quotaBytes = quotaBytes
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard try r.u8() == recordVersion else { throw StalError(.corrupted, "account entry version") }
        tenant = TenantID(rawValue: try r.u64()); address = try r.string(); displayName = try r.string()
        passwordHash = try r.string(); quotaBytes = try r.optionalU64()
        try r.expectEnd()
    }
}

func idBytes(_ a: AccountID) -> [UInt8] {
    var w = ByteWriter(capacity: 8)
    w.u64(a.rawValue)
    return w.bytes
}

func domainOf(_ address: String) -> String {
    address.lastIndex(of: "@").map { String(address[address.index(after: $0)...]) } ?? ""
}

/// Deterministic apply of directory commands (the metadata shard).
public struct DirectoryStateMachine: ShardStateMachine {
    public init() {}

    public var stateFamilies: [ColumnFamily] { [.directory] }

    public func apply(_ command: ShardCommand, index: UInt64, state: StagedWrites) throws -> CommandResult {
        switch command {
        case let .addDomain(c):
            guard try state.get(.directory, DirectoryKeys.domain(c.domain)) == nil else {
                throw StalError(.alreadyExists, "domain \(c.domain)")
            }
            state.put(.directory, DirectoryKeys.domain(c.domain), DomainRecord(tenant: c.tenant, catchAll: nil).encode())
        case let .removeDomain(c):
            guard try state.get(.directory, DirectoryKeys.domain(c.domain)) != nil else {
                throw StalError(.notFound, "domain \(c.domain)")
            }
            for prefix in [DirectoryKeys.logins, DirectoryKeys.aliases] {
                for pair in try state.scan(.directory, prefix: prefix)
                where domainOf(String(decoding: pair.key.dropFirst(), as: UTF8.self)) == c.domain {
                    throw StalError(.conflict, "domain \(c.domain) still has accounts or aliases")
                }
            }
            state.delete(.directory, DirectoryKeys.domain(c.domain))
        case let .addAccount(c):
            let domain = domainOf(c.address)
            guard try state.get(.directory, DirectoryKeys.domain(domain)) != nil else {
                throw StalError(.notFound, "domain \(domain) is not local")
            }
            guard try state.get(.directory, DirectoryKeys.login(c.address)) == nil,
                  try state.get(.directory, DirectoryKeys.alias(c.address)) == nil
            else { throw StalError(.alreadyExists, "address \(c.address)") }
            guard try state.get(.directory, DirectoryKeys.account(c.account)) == nil else {
                throw StalError(.conflict, "account id \(c.account) in use")
            }
            state.put(.directory, DirectoryKeys.account(c.account),
                      AccountEntryRecord(tenant: c.tenant, address: c.address, displayName: c.displayName,
                                         passwordHash: c.passwordHash, quotaBytes: c.quotaBytes).encode())
            state.put(.directory, DirectoryKeys.login(c.address), idBytes(c.account))
        case let .removeAccount(c):
            guard let bytes = try state.get(.directory, DirectoryKeys.account(c.account)) else {
                throw StalError(.notFound, "account \(c.account)")
            }
            let rec = try AccountEntryRecord(decoding: bytes)
            state.delete(.directory, DirectoryKeys.account(c.account))
            state.delete(.directory, DirectoryKeys.login(rec.address))
            let target = idBytes(c.account)
            for pair in try state.scan(.directory, prefix: DirectoryKeys.aliases) where pair.value == target {
                state.delete(.directory, pair.key)
            }
            for pair in try state.scan(.directory, prefix: DirectoryKeys.domains) {
                var d = try DomainRecord(decoding: pair.value)
                if d.catchAll == c.account {
                    d.catchAll = nil
                    state.put(.directory, pair.key, d.encode())
                }
            }
        case let .setPassword(c):
            guard let bytes = try state.get(.directory, DirectoryKeys.account(c.account)) else {
                throw StalError(.notFound, "account \(c.account)")
            }
            var rec = try AccountEntryRecord(decoding: bytes)
            rec.passwordHash = c.passwordHash
            state.put(.directory, DirectoryKeys.account(c.account), rec.encode())
        case let .addAlias(c):
            let domain = domainOf(c.alias)
            guard try state.get(.directory, DirectoryKeys.domain(domain)) != nil else {
                throw StalError(.notFound, "domain \(domain) is not local")
            }
            guard try state.get(.directory, DirectoryKeys.account(c.account)) != nil else {
                throw StalError(.notFound, "account \(c.account)")
            }
            guard try state.get(.directory, DirectoryKeys.login(c.alias)) == nil,
                  try state.get(.directory, DirectoryKeys.alias(c.alias)) == nil
            else { throw StalError(.alreadyExists, "address \(c.alias)") }
            state.put(.directory, DirectoryKeys.alias(c.alias), idBytes(c.account))
        case let .removeAlias(c):
            guard try state.get(.directory, DirectoryKeys.alias(c.alias)) != nil else {
                throw StalError(.notFound, "alias \(c.alias)")
            }
            state.delete(.directory, DirectoryKeys.alias(c.alias))
        case let .setCatchAll(c):
            guard let bytes = try state.get(.directory, DirectoryKeys.domain(c.domain)) else {
                throw StalError(.notFound, "domain \(c.domain)")
            }
            if let a = c.account, try state.get(.directory, DirectoryKeys.account(a)) == nil {
                throw StalError(.notFound, "account \(a)")
            }
            var d = try DomainRecord(decoding: bytes)
            d.catchAll = c.account
            state.put(.directory, DirectoryKeys.domain(c.domain), d.encode())
        case let .setAdminPassword(c):
            state.put(.directory, DirectoryKeys.admin(c.name), Array(c.passwordHash.utf8))
        case let .setProbe(c):
            state.put(.directory, DirectoryKeys.probe(c.key), c.value)
        case .createAccount, .deleteAccount, .createMailbox, .renameMailbox, .deleteMailbox, .setSubscribed,
             .deliver, .storeKeywords, .copyEmails, .expunge, .collectBlobs,
             .putSieveScript, .deleteSieveScript, .activateSieveScript, .deliverFiltered, .removeOutboxEntries,
             .recordBlobPlacement:
            throw StalError(.invalidArgument, "mail command sent to the directory shard")
        }
        return .done
    }

    public func committed(_ command: ShardCommand, result: CommandResult) {}
}
