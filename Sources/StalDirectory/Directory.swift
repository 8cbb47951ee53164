import StalCore
import StalDeterminism
import StalMailStore
import StalShardLog
import StalStorage

public enum RecipientResolution: Hashable, Sendable {
    case local(AccountID, TenantID)
    /// The domain is ours but no such user (550 5.1.1).
    case unknownUser
    /// Not one of our domains: relaying is the caller's decision (5.7.1 when unauthenticated).
    case notLocal
}

public struct Principal: Hashable, Sendable {
    public var account: AccountID
    public var tenant: TenantID
    public var address: EmailAddress
    public var displayName: String

    public init(account: AccountID, tenant: TenantID, address: EmailAddress, displayName: String) {
        self.account = account
        self.tenant = tenant
        self.address = address
        self.displayName = displayName
    }
}

public enum AuthResult: Hashable, Sendable {
    case success(Principal)
    case failure
    /// Too many failures from this address; try again after the given time.
    case rateLimited(retryAfterSeconds: Int64)
}

public struct DomainInfo: Hashable, Sendable {
    public var name: String
    public var tenant: TenantID
    public var catchAll: AccountID?

    public init(name: String, tenant: TenantID, catchAll: AccountID?) {
        self.name = name
        self.tenant = tenant
        self.catchAll = catchAll
    }
}

public struct DirectoryAccount: Hashable, Sendable {
    public var id: AccountID
    public var tenant: TenantID
    public var address: EmailAddress
    public var displayName: String
    public var quotaBytes: UInt64?

    public init(id: AccountID, tenant: TenantID, address: EmailAddress, displayName: String, quotaBytes: UInt64?) {
        self.id = id
        self.tenant = tenant
        self.address = address
        self.displayName = displayName
        self.quotaBytes = quotaBytes
    }
}

public struct AliasInfo: Hashable, Sendable {
    public var alias: EmailAddress
    public var account: AccountID

    public init(alias: EmailAddress, account: AccountID) {
        self.alias = alias
        self.account = account
    }
}

/// Domains, accounts, aliases and the one authentication API every protocol uses.
/// Mutations go through the directory's shard log (the metadata shard) so a cluster can
/// replicate them; reads come from the local engine.
public final class Directory: Sendable {
    public static let defaultTenant = TenantID(rawValue: 1)
    /// The metadata shard's id, kept apart from tenant shards in the shared log family.
    public static let metadataShard: UInt64 = 1 << 63
    public static let adminName = "admin"

    private let engine: any KVEngine
    private let log: any ShardLog
    private let mailStore: MailStore?
    private let clock: any WallClock
    private let random: RandomBox
    private let hasher: PasswordHasher
    private let throttle: ThrottleBox
    private let sleep: @Sendable (Int64) async -> Void
    private let onShutdown: @Sendable () -> Void
    /// Verified against when the user does not exist, so unknown and known users cost the same.
    private let decoyHash: String

    /// - Parameter sleep: awaits the given milliseconds; the slowdown for repeated failures.
    public init(engine: any KVEngine, log: any ShardLog, mailStore: MailStore?, clock: any WallClock,
                random: any RandomSource, limits: Limits = .default, hasher: PasswordHasher = .standard,
                sleep: @escaping @Sendable (Int64) async -> Void = { ms in try? await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000) },
                onShutdown: @escaping @Sendable () -> Void = {}) throws {
        self.engine = engine
        self.log = log
        self.mailStore = mailStore
        self.clock = clock
        self.random = RandomBox(random)
        self.hasher = hasher
        self.throttle = ThrottleBox(AuthThrottle(limits: limits))
        self.sleep = sleep
        self.onShutdown = onShutdown
        self.decoyHash = try hasher.hash("decoy password", salt: self.random.bytes(PasswordHasher.saltBytes))
    }

    /// A directory on one node: the metadata shard as a Raft group on `driver` (the node's
    /// driver, which the caller shuts down), or, without one, on a one-replica driver of its
    /// own over `engine` that `shutdown()` stops.
    public static func local(engine: any KVEngine, mailStore: MailStore?, clock: any WallClock, random: any RandomSource,
                             limits: Limits = .default, hasher: PasswordHasher = .standard,
                             sleep: @escaping @Sendable (Int64) async -> Void = { ms in try? await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000) },
                             driver: RaftNodeDriver? = nil)
        throws -> Directory {
        let owned = driver == nil ? try RaftNodeDriver(engine: engine, nodeID: 1, transport: nil) : nil
        let log = try (driver ?? owned!).addGroup(shard: metadataShard, stateMachine: DirectoryStateMachine())
        return try Directory(engine: engine, log: log, mailStore: mailStore, clock: clock, random: random, limits: limits,
                             hasher: hasher, sleep: sleep, onShutdown: { owned?.shutdown() })
    }

    public func shutdown() { onShutdown() }

    private func propose(_ command: ShardCommand) async throws {
        let result = try await log.propose(command)
        if case let .failed(error) = result { throw error }
    }

    private func newHash(_ password: String) async throws -> String {
        try await hasher.hashOffPool(password, salt: random.bytes(PasswordHasher.saltBytes))
    }

    // MARK: domains

    /// Writes a cluster probe register through the metadata shard's log.
    public func putProbe(key: String, value: [UInt8]) async throws {
        guard !key.isEmpty, key.utf8.count <= SetProbeCommand.keyBytesMax else {
            throw StalError(.invalidArgument, "probe key must be 1 to \(SetProbeCommand.keyBytesMax) bytes")
        }
        guard value.count <= SetProbeCommand.valueBytesMax else {
            throw StalError(.invalidArgument, "probe value over \(SetProbeCommand.valueBytesMax) bytes")
        }
        try await propose(.setProbe(SetProbeCommand(key: key, value: value)))
    }

    /// A probe register: `linearizable` waits until this replica has applied every write
    /// acknowledged before the call; otherwise the replica's applied value as it stands.
    public func probe(key: String, linearizable: Bool) async throws -> [UInt8]? {
        if linearizable { try await log.linearizableRead() }
        return try engine.get(.directory, DirectoryKeys.probe(key))
    }

    public func addDomain(_ name: String, tenant: TenantID = Directory.defaultTenant) async throws {
        let domain = name.lowercased()
        guard !domain.isEmpty, domain.utf8.count <= EmailAddress.domainOctetsMax, !domain.contains("@") else {
            throw StalError(.invalidArgument, "domain name \(name)")
        }
        try await propose(.addDomain(AddDomainCommand(tenant: tenant, domain: domain)))
    }

    /// Refused while accounts or aliases remain in the domain.
    public func removeDomain(_ name: String) async throws {
        try await propose(.removeDomain(RemoveDomainCommand(domain: name.lowercased())))
    }

    public func listDomains() throws -> [DomainInfo] {
        try engine.scan(.directory, prefix: DirectoryKeys.domains).map { pair in
            let d = try DomainRecord(decoding: pair.value)
            return DomainInfo(name: String(decoding: pair.key.dropFirst(), as: UTF8.self), tenant: d.tenant, catchAll: d.catchAll)
        }
    }

    public func setCatchAll(domain: String, account: AccountID?) async throws {
        try await propose(.setCatchAll(SetCatchAllCommand(domain: domain.lowercased(), account: account)))
    }

    // MARK: accounts

    /// Adds an account (and creates its mailboxes in the mail store). Rejects a duplicate
    /// address, an unknown domain, and weak passwords.
    @discardableResult
    public func addAccount(address: EmailAddress, password: String, displayName: String = "",
                           quotaBytes: UInt64? = nil) async throws -> DirectoryAccount {
        try PasswordHasher.checkStrength(password)
        let canonical = address.canonical
        guard let domainBytes = try engine.get(.directory, DirectoryKeys.domain(address.domain)) else {
            throw StalError(.notFound, "domain \(address.domain) is not local")
        }
        let tenant = try DomainRecord(decoding: domainBytes).tenant
        let id = AccountID(rawValue: random.nonzero())
        let hash = try await newHash(password)
        try await propose(.addAccount(AddAccountCommand(account: id, tenant: tenant, address: canonical, displayName: displayName,
                                                        passwordHash: hash, quotaBytes: quotaBytes)))
        try await mailStore?.createAccount(id, tenant: tenant, quotaBytes: quotaBytes)
        return DirectoryAccount(id: id, tenant: tenant, address: EmailAddress(canonical)!, displayName: displayName,
                                quotaBytes: quotaBytes)
    }

    public func removeAccount(_ id: AccountID) async throws {
        try await propose(.removeAccount(RemoveAccountCommand(account: id)))
        if let mailStore, try mailStore.accountInfo(id) != nil { try await mailStore.deleteAccount(id) }
    }

    public func setPassword(_ id: AccountID, password: String) async throws {
        try PasswordHasher.checkStrength(password)
        try await propose(.setPassword(SetPasswordCommand(account: id, passwordHash: try await newHash(password))))
    }

    private func entry(_ id: AccountID) throws -> AccountEntryRecord? {
        try engine.get(.directory, DirectoryKeys.account(id)).map { try AccountEntryRecord(decoding: $0) }
    }

    public func account(_ id: AccountID) throws -> DirectoryAccount? {
        try entry(id).map { r in
            DirectoryAccount(id: id, tenant: r.tenant, address: EmailAddress(r.address)!, displayName: r.displayName,
                             quotaBytes: r.quotaBytes)
        }
    }

    public func account(address: EmailAddress) throws -> DirectoryAccount? {
        guard let v = try engine.get(.directory, DirectoryKeys.login(address.canonical)) else { return nil }
        return try account(AccountID(rawValue: KeyCoding.u64(v, at: 0)))
    }

    public func listAccounts(domain: String? = nil) throws -> [DirectoryAccount] {
        let wanted = domain?.lowercased()
        var out: [DirectoryAccount] = []
        for pair in try engine.scan(.directory, prefix: DirectoryKeys.accounts) {
            let r = try AccountEntryRecord(decoding: pair.value)
            if let wanted, domainOf(r.address) != wanted { continue }
            out.append(DirectoryAccount(id: AccountID(rawValue: KeyCoding.u64(pair.key, at: 1)), tenant: r.tenant,
                                        address: EmailAddress(r.address)!, displayName: r.displayName, quotaBytes: r.quotaBytes))
        }
        return out.sorted { $0.address < $1.address }
    }

    // MARK: aliases

    public func addAlias(_ alias: EmailAddress, to account: AccountID) async throws {
        try await propose(.addAlias(AddAliasCommand(alias: alias.canonical, account: account)))
    }

    public func removeAlias(_ alias: EmailAddress) async throws {
        try await propose(.removeAlias(RemoveAliasCommand(alias: alias.canonical)))
    }

    public func listAliases(domain: String? = nil) throws -> [AliasInfo] {
        let wanted = domain?.lowercased()
        return try engine.scan(.directory, prefix: DirectoryKeys.aliases).compactMap { pair in
            let address = String(decoding: pair.key.dropFirst(), as: UTF8.self)
            if let wanted, domainOf(address) != wanted { return nil }
            return AliasInfo(alias: EmailAddress(address)!, account: AccountID(rawValue: KeyCoding.u64(pair.value, at: 0)))
        }
    }

    // MARK: routing

    /// Primary address, then alias, then the same without a `+tag`, then the domain's
    /// catch-all.
    public func resolveRecipient(_ address: EmailAddress) throws -> RecipientResolution {
        guard let domainBytes = try engine.get(.directory, DirectoryKeys.domain(address.domain)) else { return .notLocal }
        let domain = try DomainRecord(decoding: domainBytes)
        var candidates = [address.canonical]
        let (base, detail) = address.detachingSubaddress()
        if detail != nil { candidates.append(base.canonical) }
        for c in candidates {
            for key in [DirectoryKeys.login(c), DirectoryKeys.alias(c)] {
                if let v = try engine.get(.directory, key) {
                    let id = AccountID(rawValue: KeyCoding.u64(v, at: 0))
                    guard let r = try entry(id) else { continue }
                    return .local(id, r.tenant)
                }
            }
        }
        if let catchAll = domain.catchAll, let r = try entry(catchAll) { return .local(catchAll, r.tenant) }
        return .unknownUser
    }

    // MARK: authentication

    /// The one authentication path for every protocol. `username` is the primary address.
    /// Repeated failures from `remote` are answered late and then refused for a while.
    public func authenticate(username: String, password: String, remote: String) async -> AuthResult {
        let now = clock.now()
        if case let .blocked(retry) = throttle.withLock({ $0.check(remote, now: now) }) {
            return .rateLimited(retryAfterSeconds: retry)
        }
        var principal: Principal?
        var hash = decoyHash
        if let address = EmailAddress(username), let found = try? account(address: address), let r = try? entry(found.id) {
            principal = Principal(account: found.id, tenant: found.tenant, address: found.address, displayName: found.displayName)
            hash = r.passwordHash
        }
        let ok = await PasswordHasher.verifyOffPool(password, encoded: hash)
        if ok, let principal {
            throttle.withLock { $0.recordSuccess(remote) }
            await repairMailAccount(principal)
            return .success(principal)
        }
        let delay = throttle.withLock { $0.recordFailure(remote, now: clock.now()) }
        if delay > 0 { await sleep(delay) }
        return .failure
    }

    /// Account creation is two commands (directory, then mail store); a crash between them
    /// leaves an account without mailboxes, which the first successful login repairs.
    private func repairMailAccount(_ principal: Principal) async {
        guard let mailStore, (try? mailStore.accountInfo(principal.account)) == nil else { return }
        let quota = (try? entry(principal.account))?.flatMap { $0.quotaBytes }
        _ = try? await mailStore.createAccount(principal.account, tenant: principal.tenant, quotaBytes: quota)
    }

    /// Sets the management API's admin password (first start, or a reset from the console).
    public func bootstrapAdmin(password: String) async throws {
        try PasswordHasher.checkStrength(password)
        try await propose(.setAdminPassword(SetAdminPasswordCommand(name: Self.adminName, passwordHash: try await newHash(password))))
    }

    public var hasAdmin: Bool { (try? engine.get(.directory, DirectoryKeys.admin(Self.adminName))) != nil }

    /// Authenticates the management API's admin, throttled like every other login.
    public func authenticateAdmin(password: String, remote: String) async -> Bool {
        let now = clock.now()
        if case .blocked = throttle.withLock({ $0.check(remote, now: now) }) { return false }
        let stored = (try? engine.get(.directory, DirectoryKeys.admin(Self.adminName))).flatMap { $0 }
        let hash = stored.map { String(decoding: $0, as: UTF8.self) } ?? decoyHash
        if await PasswordHasher.verifyOffPool(password, encoded: hash), stored != nil {
            throttle.withLock { $0.recordSuccess(remote) }
            return true
        }
        let delay = throttle.withLock { $0.recordFailure(remote, now: clock.now()) }
        if delay > 0 { await sleep(delay) }
        return false
    }
}

final class RandomBox: @unchecked Sendable {
    private let lock = Mutex()
    private var random: any RandomSource

    init(_ random: any RandomSource) { self.random = random }

    func bytes(_ n: Int) -> [UInt8] { lock.withLock { random.bytes(n) } }

    func nonzero() -> UInt64 {
        lock.withLock {
            var v: UInt64 = 0
            while v == 0 { v = random.next() }
            return v
        }
    }
}

final class ThrottleBox: @unchecked Sendable {
    private let lock = Mutex()
    private var throttle: AuthThrottle

    init(_ throttle: AuthThrottle) { self.throttle = throttle }

    func withLock<T>(_ body: (inout AuthThrottle) -> T) -> T { lock.withLock { body(&throttle) } }
}
