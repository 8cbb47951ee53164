import StalCore
import StalDeterminism
import StalShardLog
import StalSieve
import StalStorage

/// A stored Sieve script as listed by ManageSieve LISTSCRIPTS / the management API.
public struct SieveScriptInfo: Hashable, Sendable {
    public var name: String
    public var isActive: Bool
    /// Changes with every put; keys the compiled-script cache.
    public var version: UInt64
}

/// Compiled scripts per account, keyed by script version: a put makes the old entry stale
/// and the next delivery compiles the new text once.
final class SieveScriptCache: @unchecked Sendable {
    static let accountsMax = 10_000
    private let lock = Mutex()
    private var scripts: [AccountID: (version: UInt64, script: SieveScript)] = [:]

    func script(_ account: AccountID, version: UInt64, compile: () throws -> SieveScript) rethrows -> SieveScript {
        if let hit = lock.withLock({ scripts[account] }), hit.version == version { return hit.script }
        let script = try compile()
        lock.withLock {
            if scripts.count >= Self.accountsMax { scripts.removeAll(keepingCapacity: true) }
            scripts[account] = (version, script)
        }
        return script
    }
}

extension MailStore {
    /// Scripts are user scripts: compiled with the untrusted profile's capabilities.
    public static var sieveCompileOptions: SieveCompileOptions {
        SieveCompileOptions(capabilities: SieveCapabilities.untrusted)
    }

    /// Bounds what each delivery compiles and the script cache holds; generated filter sets
    /// with thousands of rules fit.
    public static let sieveScriptOctetsMax = 256 * 1024

    /// Compiles `content` as delivery would; a refusal lists every error as
    /// `line:column: message`, one per line.
    public static func validateSieveScript(_ content: String) throws {
        do {
            _ = try SieveCompiler.compile(content, options: sieveCompileOptions)
        } catch {
            let lines = error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
            throw StalError(.invalidArgument, lines.joined(separator: "\n"))
        }
    }

    /// Stores (or replaces) a script after validating it; `activate` also makes it the
    /// account's one active script, in the same command.
    public func putSieveScript(_ account: AccountID, name: String, content: String, activate: Bool = false) async throws {
        try SieveScriptNames.validate(name)
        guard content.utf8.count <= Self.sieveScriptOctetsMax else {
            throw StalError(.limitExceeded, "Sieve script of \(content.utf8.count) octets over \(Self.sieveScriptOctetsMax)")
        }
        try Self.validateSieveScript(content)
        _ = try await propose(.putSieveScript(PutSieveScriptCommand(account: account, name: name, content: content,
                                                                     version: ids.next(), activate: activate)))
    }

    /// Refused for the active script (ManageSieve DELETESCRIPT semantics).
    public func deleteSieveScript(_ account: AccountID, name: String) async throws {
        _ = try await propose(.deleteSieveScript(DeleteSieveScriptCommand(account: account, name: name)))
    }

    /// Makes `name` the active script; nil deactivates whichever is active.
    public func activateSieveScript(_ account: AccountID, name: String?) async throws {
        _ = try await propose(.activateSieveScript(ActivateSieveScriptCommand(account: account, name: name)))
    }

    public func sieveScripts(_ account: AccountID) throws -> [SieveScriptInfo] {
        let snap = try engine.snapshot()
        _ = try requireAccount(account, in: snap)
        let active = try snap.get(.state, SieveKeys.active(account)).map { String(decoding: $0, as: UTF8.self) }
        let prefix = SieveKeys.scripts(account)
        return try snap.scan(.state, prefix: prefix).map { pair in
            let name = String(decoding: pair.key[prefix.count...], as: UTF8.self)
            return SieveScriptInfo(name: name, isActive: name == active, version: try SieveScriptRecord(decoding: pair.value).version)
        }
    }

    /// The script's text, or nil when the account has no script of that name.
    public func sieveScript(_ account: AccountID, name: String) throws -> String? {
        try engine.get(.state, SieveKeys.script(account, name)).map { try SieveScriptRecord(decoding: $0).content }
    }

    /// The active script's name, version and text.
    func activeSieveScript(_ account: AccountID) throws -> (name: String, record: SieveScriptRecord)? {
        let snap = try engine.snapshot()
        guard let nameBytes = try snap.get(.state, SieveKeys.active(account)) else { return nil }
        let name = String(decoding: nameBytes, as: UTF8.self)
        guard let bytes = try snap.get(.state, SieveKeys.script(account, name)) else { return nil }
        return (name, try SieveScriptRecord(decoding: bytes))
    }

    /// Whether a Sieve response-memory record (vacation reply sent, duplicate seen) is still
    /// in force at `now`.
    func sieveMemoryActive(_ account: AccountID, key: [UInt8], now: Timestamp) -> Bool {
        guard let bytes = try? engine.get(.state, SieveKeys.memory(account, key)), bytes.count == 8 else { return false }
        return Int64(bitPattern: KeyCoding.u64(bytes, at: 0)) > now.millisecondsSinceEpoch
    }

    // MARK: outbox

    /// Outbox entries in id order, at most `limit`.
    public func outboxEntries(limit: Int = 1000) throws -> [OutboxEntry] {
        try engine.scan(.state, prefix: SieveKeys.outboxPrefix, limit: limit).map { try OutboxEntry(decodingRecord: $0.value) }
    }

    public func outboxEntry(_ id: UInt64) throws -> OutboxEntry? {
        try engine.get(.state, SieveKeys.outbox(id)).map { try OutboxEntry(decodingRecord: $0) }
    }

    /// Removes sent (or abandoned) entries; unknown ids are ignored.
    public func removeOutboxEntries(_ ids: [UInt64]) async throws {
        _ = try await propose(.removeOutboxEntries(RemoveOutboxEntriesCommand(ids: ids)))
    }
}
