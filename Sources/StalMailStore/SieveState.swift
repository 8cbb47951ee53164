import StalCore
import StalShardLog
import StalStorage

/// Keys of the per-account Sieve scripts, the outbox and the Sieve response memory, all in
/// the `state` family (upper-case tags; the mail records use lower case).
enum SieveKeys {
    static let script: UInt8 = UInt8(ascii: "S")
    static let active: UInt8 = UInt8(ascii: "T")
    static let outbox: UInt8 = UInt8(ascii: "O")
    static let memory: UInt8 = UInt8(ascii: "R")
    static let memoryExpiry: UInt8 = UInt8(ascii: "E")

    static func script(_ a: AccountID, _ name: String) -> [UInt8] { KeyCoding.key(script, a.rawValue) + Array(name.utf8) }
    static func scripts(_ a: AccountID) -> [UInt8] { KeyCoding.key(script, a.rawValue) }
    static func active(_ a: AccountID) -> [UInt8] { KeyCoding.key(active, a.rawValue) }
    static func outbox(_ id: UInt64) -> [UInt8] { KeyCoding.key(outbox, id) }
    static let outboxPrefix: [UInt8] = [outbox]
    static func memory(_ a: AccountID, _ key: [UInt8]) -> [UInt8] { KeyCoding.key(memory, a.rawValue) + key }
    static func memories(_ a: AccountID) -> [UInt8] { KeyCoding.key(memory, a.rawValue) }
    /// Expiry-ordered index of the memory records, so expired ones are found without a scan.
    static func memoryExpiry(_ expiresAt: Timestamp, _ a: AccountID, _ key: [UInt8]) -> [UInt8] {
        KeyCoding.key(memoryExpiry, UInt64(max(0, expiresAt.millisecondsSinceEpoch)), a.rawValue) + key
    }
    static func memoryExpiry(before t: Timestamp) -> KeyRange {
        KeyRange(lower: [memoryExpiry], upper: KeyCoding.key(memoryExpiry, UInt64(max(0, t.millisecondsSinceEpoch))))
    }
}

/// Stored script: version byte, script version, text.
struct SieveScriptRecord: Hashable, Sendable {
    var version: UInt64
    var content: String

    func encode() -> [UInt8] {
        var w = ByteWriter(capacity: content.utf8.count + 16)
        w.u8(1); w.u64(version); w.string(content)
        return w.bytes
    }

    init(version: UInt64, content: String) {
        self.version = version
        self.content = content
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard try r.u8() == 1 else { throw StalError(.corrupted, "sieve script record version") }
        version = try r.u64()
        content = try r.string(max: 2 << 20)
        try r.expectEnd()
    }
}

extension OutboxEntry {
    /// Record: version byte, then the entry as the log command carries it.
    func encodeRecord() -> [UInt8] {
        var w = ByteWriter(capacity: message.count + 96)
        w.u8(1)
        encode(into: &w)
        return w.bytes
    }

    init(decodingRecord bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard try r.u8() == 1 else { throw StalError(.corrupted, "outbox record version") }
        try self.init(decoding: &r)
        try r.expectEnd()
    }
}

extension MailTransaction {
    static let sieveScriptsPerAccountMax = 64

    mutating func putSieveScript(_ c: PutSieveScriptCommand) throws -> CommandResult {
        _ = try account(c.account)
        try SieveScriptNames.validate(c.name)
        let key = SieveKeys.script(c.account, c.name)
        if try state.get(.state, key) == nil,
           try state.scan(.state, prefix: SieveKeys.scripts(c.account)).count >= Self.sieveScriptsPerAccountMax {
            throw StalError(.limitExceeded, "an account holds at most \(Self.sieveScriptsPerAccountMax) Sieve scripts")
        }
        state.put(.state, key, SieveScriptRecord(version: c.version, content: c.content).encode())
        if c.activate { state.put(.state, SieveKeys.active(c.account), Array(c.name.utf8)) }
        return .done
    }

    mutating func deleteSieveScript(_ c: DeleteSieveScriptCommand) throws -> CommandResult {
        let key = SieveKeys.script(c.account, c.name)
        guard try state.get(.state, key) != nil else { throw StalError(.notFound, "no Sieve script \(c.name)") }
        if try state.get(.state, SieveKeys.active(c.account)) == Array(c.name.utf8) {
            throw StalError(.conflict, "Sieve script \(c.name) is active; deactivate it first")
        }
        state.delete(.state, key)
        return .done
    }

    mutating func activateSieveScript(_ c: ActivateSieveScriptCommand) throws -> CommandResult {
        _ = try account(c.account)
        guard let name = c.name else {
            state.delete(.state, SieveKeys.active(c.account))
            return .done
        }
        guard try state.get(.state, SieveKeys.script(c.account, name)) != nil else {
            throw StalError(.notFound, "no Sieve script \(name)")
        }
        state.put(.state, SieveKeys.active(c.account), Array(name.utf8))
        return .done
    }

    /// Outbox entries and response memory are kept only for accounts whose every store
    /// succeeded: a recipient that failed gets a retry from the client, which runs its script
    /// again, so keeping them now would send twice.
    mutating func deliverFiltered(_ c: DeliverFilteredCommand) throws -> CommandResult {
        var outcomes: [Result<AppendedEmail, StalError>] = []
        var failedAccounts = Set<AccountID>()
        for d in c.deliveries {
            guard case let .delivered(results) = try deliver(d) else { continue }
            for (entry, result) in zip(d.entries, results) {
                if case .failure = result { failedAccounts.insert(entry.account) }
            }
            outcomes += results
        }
        for e in c.outbox where !failedAccounts.contains(e.account) {
            state.put(.state, SieveKeys.outbox(e.id), e.encodeRecord())
        }
        for m in c.memory where !failedAccounts.contains(m.account) {
            try remember(m)
        }
        if let at = c.deliveries.first?.receivedAt { try forgetExpiredMemory(at: at) }
        return .delivered(outcomes)
    }

    /// A record for the same key replaces the earlier one, expiry index entry included.
    private func remember(_ m: SieveMemoryRecord) throws {
        let key = SieveKeys.memory(m.account, m.key)
        if let old = try state.get(.state, key), old.count == 8 {
            let expiresAt = Timestamp(millisecondsSinceEpoch: Int64(bitPattern: KeyCoding.u64(old, at: 0)))
            state.delete(.state, SieveKeys.memoryExpiry(expiresAt, m.account, m.key))
        }
        var w = ByteWriter(capacity: 8)
        w.i64(m.expiresAt.millisecondsSinceEpoch)
        state.put(.state, key, w.bytes)
        state.put(.state, SieveKeys.memoryExpiry(m.expiresAt, m.account, m.key), [])
    }

    static let expiredMemoryPerDeliveryMax = 64

    /// Each filtered delivery deletes a bounded number of records that expired before it was
    /// received: the memory shrinks as fast as deliveries add to it, and every replica deletes
    /// the same records because the time is the command's.
    private func forgetExpiredMemory(at: Timestamp) throws {
        let prefixCount = SieveKeys.memoryExpiry(at, AccountID(rawValue: 0), []).count - 8
        for pair in try state.scan(.state, SieveKeys.memoryExpiry(before: at), limit: Self.expiredMemoryPerDeliveryMax) {
            let account = AccountID(rawValue: KeyCoding.u64(pair.key, at: prefixCount))
            state.delete(.state, pair.key)
            state.delete(.state, SieveKeys.memory(account, Array(pair.key[(prefixCount + 8)...])))
        }
    }

    mutating func removeOutboxEntries(_ c: RemoveOutboxEntriesCommand) throws -> CommandResult {
        for id in c.ids { state.delete(.state, SieveKeys.outbox(id)) }
        return .done
    }
}

/// Script names as ManageSieve allows them, minus what would be awkward in a URL path.
public enum SieveScriptNames {
    public static let octetsMax = 128

    public static func validate(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= octetsMax,
              !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "/" })
        else { throw StalError(.invalidArgument, "invalid Sieve script name \"\(name)\"") }
    }
}
