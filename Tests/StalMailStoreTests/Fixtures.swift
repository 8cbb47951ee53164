import StalCore
import StalDeterminism
import StalMailStore
import StalShardLog
import StalStorage

struct StoreFixture {
    let engine: MemoryEngine
    let blobs: MemoryBlobStore
    let clock: ManualClock
    let store: MailStore
    let account = AccountID(rawValue: 1001)
    let tenant = TenantID(rawValue: 1)

    init(seed: UInt64 = 1, options: MailStore.Options = MailStore.Options()) throws {
        engine = MemoryEngine()
        blobs = MemoryBlobStore()
        clock = ManualClock()
        store = try MailStore.local(engine: engine, blobs: blobs, clock: clock, random: SeededRandom(seed: seed), options: options)
    }

    /// A fixture whose account already exists, as most store tests start.
    static func withAccount(seed: UInt64 = 1, options: MailStore.Options = MailStore.Options()) async throws -> StoreFixture {
        let f = try StoreFixture(seed: seed, options: options)
        try await f.store.createAccount(f.account, tenant: f.tenant)
        return f
    }

    func inbox() throws -> MailboxID {
        try store.mailboxes(account).first { $0.role == .inbox }!.id
    }

    static func message(_ n: Int, padding: Int = 0) -> [UInt8] {
        Array("Subject: test \(n)\r\n\r\nbody \(n)\r\n\(String(repeating: "x", count: padding))".utf8)
    }
}
