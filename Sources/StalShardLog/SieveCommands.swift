import StalCore
import StalStorage

/// Payloads of the per-account Sieve and outbox commands (tags 20–29).

/// Stores (or replaces) a script. The proposer has already compiled it with the untrusted
/// profile; `version` is drawn by the proposer and keys the compiled-script cache.
public struct PutSieveScriptCommand: Hashable, Sendable {
    public var account: AccountID
    public var name: String
    public var content: String
    public var version: UInt64
    public var activate: Bool

    public init(account: AccountID, name: String, content: String, version: UInt64, activate: Bool) {
        self.account = account
        self.name = name
        self.content = content
        self.version = version
        self.activate = activate
    }
}

public struct DeleteSieveScriptCommand: Hashable, Sendable {
    public var account: AccountID
    public var name: String
    public init(account: AccountID, name: String) {
        self.account = account
        self.name = name
    }
}

/// Makes `name` the account's one active script; nil deactivates (ManageSieve SETACTIVE "").
public struct ActivateSieveScriptCommand: Hashable, Sendable {
    public var account: AccountID
    public var name: String?
    public init(account: AccountID, name: String?) {
        self.account = account
        self.name = name
    }
}

/// Why an outbox entry exists.
public enum OutboxReason: String, Hashable, Sendable, CaseIterable {
    case vacation, redirect, notify, reject
}

/// A message waiting for the outbound queue: complete bytes and the envelope to send it with.
public struct OutboxEntry: Hashable, Sendable {
    public var id: UInt64
    /// The account whose script produced it.
    public var account: AccountID
    /// Empty for the null reverse path.
    public var envelopeFrom: String
    public var envelopeTo: String
    public var reason: OutboxReason
    public var createdAt: Timestamp
    public var message: [UInt8]

    public init(id: UInt64, account: AccountID, envelopeFrom: String, envelopeTo: String, reason: OutboxReason,
                createdAt: Timestamp, message: [UInt8]) {
        self.id = id
        self.account = account
        self.envelopeFrom = envelopeFrom
        self.envelopeTo = envelopeTo
        self.reason = reason
        self.createdAt = createdAt
        self.message = message
    }
}

extension OutboxEntry {
    /// One encoding for the log command and the mail store's outbox record.
    public func encode(into w: inout ByteWriter) {
        w.u64(id); w.u64(account.rawValue); w.string(envelopeFrom); w.string(envelopeTo)
        w.string(reason.rawValue); w.i64(createdAt.millisecondsSinceEpoch); w.lengthPrefixed(message)
    }

    public init(decoding r: inout ByteReader) throws {
        let id = try r.u64(), account = AccountID(rawValue: try r.u64())
        let from = try r.string(), to = try r.string(), rawReason = try r.string(max: 64)
        guard let reason = OutboxReason(rawValue: rawReason) else { throw StalError(.corrupted, "outbox reason \(rawReason)") }
        let createdAt = Timestamp(millisecondsSinceEpoch: try r.i64())
        self.init(id: id, account: account, envelopeFrom: from, envelopeTo: to, reason: reason, createdAt: createdAt,
                  message: try r.lengthPrefixed())
    }
}

/// Sieve response memory (vacation replies sent, duplicate ids seen): `key` is a digest the
/// proposer computed from the kind, handle and value; the record counts until `expiresAt`.
public struct SieveMemoryRecord: Hashable, Sendable {
    public var account: AccountID
    public var key: [UInt8]
    public var expiresAt: Timestamp

    public init(account: AccountID, key: [UInt8], expiresAt: Timestamp) {
        self.account = account
        self.key = key
        self.expiresAt = expiresAt
    }
}

/// A filtered delivery: the stores of every recipient (one `DeliverCommand` per distinct
/// message content, each with its own blob), the outgoing messages they caused and the
/// response memory to remember, applied as ONE log entry so a crash never keeps one
/// without the others.
public struct DeliverFilteredCommand: Hashable, Sendable {
    public var deliveries: [DeliverCommand]
    public var outbox: [OutboxEntry]
    public var memory: [SieveMemoryRecord]

    public init(deliveries: [DeliverCommand], outbox: [OutboxEntry], memory: [SieveMemoryRecord]) {
        self.deliveries = deliveries
        self.outbox = outbox
        self.memory = memory
    }
}

public struct RemoveOutboxEntriesCommand: Hashable, Sendable {
    public var ids: [UInt64]
    public init(ids: [UInt64]) { self.ids = ids }
}

extension ShardCommand {
    var sieveTouchedAccounts: [AccountID] {
        switch self {
        case let .putSieveScript(c): return [c.account]
        case let .deleteSieveScript(c): return [c.account]
        case let .activateSieveScript(c): return [c.account]
        case let .deliverFiltered(c): return c.deliveries.flatMap { $0.entries.map(\.account) }
        default: return []
        }
    }

    func encodeSieve(_ w: inout ByteWriter) {
        switch self {
        case let .putSieveScript(c):
            w.u64(c.account.rawValue); w.string(c.name); w.string(c.content); w.u64(c.version); w.bool(c.activate)
        case let .deleteSieveScript(c):
            w.u64(c.account.rawValue); w.string(c.name)
        case let .activateSieveScript(c):
            w.u64(c.account.rawValue)
            if let name = c.name { w.u8(1); w.string(name) } else { w.u8(0) }
        case let .deliverFiltered(c):
            w.u32(UInt32(c.deliveries.count))
            for d in c.deliveries { w.lengthPrefixed(ShardCommand.deliver(d).encode()) }
            w.u32(UInt32(c.outbox.count))
            for e in c.outbox { e.encode(into: &w) }
            w.u32(UInt32(c.memory.count))
            for m in c.memory { w.u64(m.account.rawValue); w.lengthPrefixed(m.key); w.i64(m.expiresAt.millisecondsSinceEpoch) }
        case let .removeOutboxEntries(c):
            w.u32(UInt32(c.ids.count))
            for id in c.ids { w.u64(id) }
        default:
            preconditionFailure("not a Sieve command")
        }
    }

    static func decodePutSieveScript(_ r: inout ByteReader) throws -> ShardCommand {
        let account = AccountID(rawValue: try r.u64()), name = try r.string(), content = try r.string()
        let version = try r.u64()
        return .putSieveScript(PutSieveScriptCommand(account: account, name: name, content: content, version: version,
                                                     activate: try r.bool()))
    }

    static func decodeDeleteSieveScript(_ r: inout ByteReader) throws -> ShardCommand {
        let account = AccountID(rawValue: try r.u64())
        return .deleteSieveScript(DeleteSieveScriptCommand(account: account, name: try r.string()))
    }

    static func decodeActivateSieveScript(_ r: inout ByteReader) throws -> ShardCommand {
        let account = AccountID(rawValue: try r.u64())
        let name: String? = try r.bool() ? try r.string() : nil
        return .activateSieveScript(ActivateSieveScriptCommand(account: account, name: name))
    }

    static func decodeDeliverFiltered(_ r: inout ByteReader) throws -> ShardCommand {
        var deliveries: [DeliverCommand] = []
        for _ in 0..<(try r.count(minElementBytes: 4)) {
            guard case let .deliver(d) = try ShardCommand(decoding: try r.lengthPrefixed()) else {
                throw StalError(.corrupted, "filtered delivery holds a command that is not a delivery")
            }
            deliveries.append(d)
        }
        var outbox: [OutboxEntry] = []
        for _ in 0..<(try r.count(minElementBytes: 40)) { outbox.append(try OutboxEntry(decoding: &r)) }
        var memory: [SieveMemoryRecord] = []
        for _ in 0..<(try r.count(minElementBytes: 20)) {
            let account = AccountID(rawValue: try r.u64()), key = try r.lengthPrefixed()
            memory.append(SieveMemoryRecord(account: account, key: key, expiresAt: Timestamp(millisecondsSinceEpoch: try r.i64())))
        }
        return .deliverFiltered(DeliverFilteredCommand(deliveries: deliveries, outbox: outbox, memory: memory))
    }

    static func decodeRemoveOutboxEntries(_ r: inout ByteReader) throws -> ShardCommand {
        var ids: [UInt64] = []
        for _ in 0..<(try r.count(minElementBytes: 8)) { ids.append(try r.u64()) }
        return .removeOutboxEntries(RemoveOutboxEntriesCommand(ids: ids))
    }
}
