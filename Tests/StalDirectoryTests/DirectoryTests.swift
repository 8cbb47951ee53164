import StalCore
import StalDeterminism
import StalDirectory
import StalMailStore
import StalShardLog
import StalStorage
import Testing

final class SleepRecorder: @unchecked Sendable {
    private let lock = Mutex()
    private var values: [Int64] = []
    var delays: [Int64] { lock.withLock { values } }
    func record(_ ms: Int64) { lock.withLock { values.append(ms) } }
}

struct DirectoryFixture {
    let engine = MemoryEngine()
    let clock = ManualClock()
    let sleeps = SleepRecorder()
    let store: MailStore
    let directory: Directory

    init(limits: Limits = .default) throws {
        store = try MailStore.local(engine: engine, blobs: MemoryBlobStore(), clock: clock, random: SeededRandom(seed: 1))
        let sleeps = self.sleeps
        directory = try Directory.local(engine: engine, mailStore: store, clock: clock, random: SeededRandom(seed: 2),
                                        limits: limits, hasher: .fastForTests, sleep: { sleeps.record($0) })
    }

    func shutdown() {
        directory.shutdown()
        store.shutdown()
    }
}

func addr(_ s: String) -> EmailAddress { EmailAddress(s)! }

@Suite struct DirectoryTests {
    @Test func accountsAliasesAndRecipientResolution() async throws {
        let f = try DirectoryFixture()
        try await f.directory.addDomain("Example.ORG")
        #expect(try f.directory.listDomains().map(\.name) == ["example.org"])
        let alice = try await f.directory.addAccount(address: addr("Alice@example.org"), password: "correct horse 1", displayName: "Alice")
        #expect(alice.address.description == "alice@example.org")
        #expect(try f.store.mailboxes(alice.id).count == 6)
        try await f.directory.addAlias(addr("postmaster@example.org"), to: alice.id)

        #expect(try f.directory.resolveRecipient(addr("ALICE@example.org")) == .local(alice.id, Directory.defaultTenant))
        #expect(try f.directory.resolveRecipient(addr("alice+lists@example.org")) == .local(alice.id, Directory.defaultTenant))
        #expect(try f.directory.resolveRecipient(addr("postmaster@EXAMPLE.org")) == .local(alice.id, Directory.defaultTenant))
        #expect(try f.directory.resolveRecipient(addr("bob@example.org")) == .unknownUser)
        #expect(try f.directory.resolveRecipient(addr("bob@elsewhere.net")) == .notLocal)
        try await f.directory.setCatchAll(domain: "example.org", account: alice.id)
        #expect(try f.directory.resolveRecipient(addr("bob@example.org")) == .local(alice.id, Directory.defaultTenant))

        #expect(try f.directory.listAliases(domain: "example.org").map(\.alias.description) == ["postmaster@example.org"])
        #expect(try f.directory.listAccounts(domain: "example.org").map(\.id) == [alice.id])
        f.shutdown()
    }

    @Test func addAccountRejectsDuplicatesUnknownDomainsAndWeakPasswords() async throws {
        let f = try DirectoryFixture()
        try await f.directory.addDomain("example.org")
        try await f.directory.addAccount(address: addr("a@example.org"), password: "Passw0rd!")
        await #expect(throws: StalError(.alreadyExists, "address a@example.org")) {
            try await f.directory.addAccount(address: addr("A@example.org"), password: "Passw0rd!")
        }
        await #expect(throws: StalError(.notFound, "domain other.org is not local")) {
            try await f.directory.addAccount(address: addr("a@other.org"), password: "Passw0rd!")
        }
        await #expect(throws: StalError(.invalidArgument, "password shorter than 8 characters")) {
            try await f.directory.addAccount(address: addr("b@example.org"), password: "Ab1")
        }
        await #expect(throws: StalError(.invalidArgument, "password uses only one character class")) {
            try await f.directory.addAccount(address: addr("b@example.org"), password: "abcdefghij")
        }
        await #expect(throws: StalError(.conflict, "domain example.org still has accounts or aliases")) {
            try await f.directory.removeDomain("example.org")
        }
        f.shutdown()
    }

    @Test func removeAccountDropsAliasesAndMailData() async throws {
        let f = try DirectoryFixture()
        try await f.directory.addDomain("example.org")
        let a = try await f.directory.addAccount(address: addr("a@example.org"), password: "Passw0rd!")
        try await f.directory.addAlias(addr("x@example.org"), to: a.id)
        _ = try await f.store.append(a.id, mailbox: try f.store.mailboxes(a.id).first { $0.role == .inbox }!.id,
                                     bytes: Array("Subject: x\r\n\r\nhi\r\n".utf8))
        try await f.directory.removeAccount(a.id)
        #expect(try f.directory.account(a.id) == nil)
        #expect(try f.directory.listAliases().isEmpty)
        #expect(try f.store.accountInfo(a.id) == nil)
        #expect(try f.engine.scan(.state, .all).isEmpty)
        #expect(try f.engine.scan(.blobs, .all).isEmpty)
        try await f.directory.removeDomain("example.org")
        #expect(try f.directory.listDomains().isEmpty)
        f.shutdown()
    }

    @Test func authenticateChecksArgon2idHashes() async throws {
        let f = try DirectoryFixture()
        try await f.directory.addDomain("example.org")
        let a = try await f.directory.addAccount(address: addr("a@example.org"), password: "Passw0rd!", displayName: "A")
        let ok = await f.directory.authenticate(username: "A@Example.org", password: "Passw0rd!", remote: "192.0.2.1")
        #expect(ok == .success(Principal(account: a.id, tenant: a.tenant, address: a.address, displayName: "A")))
        #expect(await f.directory.authenticate(username: "a@example.org", password: "wrong", remote: "192.0.2.1") == .failure)
        #expect(await f.directory.authenticate(username: "nobody@example.org", password: "Passw0rd!", remote: "192.0.2.1") == .failure)
        try await f.store.deleteAccount(a.id)
        _ = await f.directory.authenticate(username: "a@example.org", password: "Passw0rd!", remote: "192.0.2.1")
        #expect(try f.store.mailboxes(a.id).count == 6)
        try await f.directory.setPassword(a.id, password: "N3w password")
        #expect(await f.directory.authenticate(username: "a@example.org", password: "Passw0rd!", remote: "192.0.2.2") == .failure)
        if case .success = await f.directory.authenticate(username: "a@example.org", password: "N3w password", remote: "192.0.2.2") {
        } else {
            Issue.record("new password rejected")
        }
        f.shutdown()
    }

    @Test func repeatedFailuresAreSlowedThenBlocked() async throws {
        var limits = Limits()
        limits.authFailuresBeforeSlowdown = 2
        limits.authFailuresBeforeBlock = 4
        limits.authBlockSecondsMax = 300
        let f = try DirectoryFixture(limits: limits)
        try await f.directory.addDomain("example.org")
        try await f.directory.addAccount(address: addr("a@example.org"), password: "Passw0rd!")
        for _ in 0..<4 {
            #expect(await f.directory.authenticate(username: "a@example.org", password: "bad", remote: "198.51.100.7") == .failure)
        }
        #expect(f.sleeps.delays == [250, 500, 1000])
        #expect(await f.directory.authenticate(username: "a@example.org", password: "Passw0rd!", remote: "198.51.100.7")
                == .rateLimited(retryAfterSeconds: 60))
        if case .success = await f.directory.authenticate(username: "a@example.org", password: "Passw0rd!", remote: "198.51.100.8") {
        } else {
            Issue.record("another address must not be blocked")
        }
        f.clock.advance(milliseconds: 61_000)
        if case .success = await f.directory.authenticate(username: "a@example.org", password: "Passw0rd!", remote: "198.51.100.7") {
        } else {
            Issue.record("block must expire")
        }
        f.shutdown()
    }

    @Test func adminBootstrapAndLogin() async throws {
        let f = try DirectoryFixture()
        #expect(!f.directory.hasAdmin)
        #expect(await f.directory.authenticateAdmin(password: "anything1", remote: "127.0.0.1") == false)
        try await f.directory.bootstrapAdmin(password: "Adm1n secret")
        #expect(f.directory.hasAdmin)
        #expect(await f.directory.authenticateAdmin(password: "Adm1n secret", remote: "127.0.0.1"))
        #expect(await f.directory.authenticateAdmin(password: "nope nope 1", remote: "127.0.0.1") == false)
        f.shutdown()
    }
}

@Suite struct AuthThrottleTests {
    func limits() -> Limits {
        var l = Limits()
        l.authFailuresBeforeSlowdown = 3
        l.authFailuresBeforeBlock = 5
        l.authBlockSecondsMax = 200
        return l
    }

    @Test func blockDoublesAndIsCapped() {
        var t = AuthThrottle(limits: limits())
        let t0 = Timestamp(secondsSinceEpoch: 1_000_000)
        var delays: [Int64] = []
        for _ in 0..<5 { delays.append(t.recordFailure("ip", now: t0)) }
        #expect(delays == [0, 0, 250, 500, 1000])
        #expect(t.check("ip", now: t0) == .blocked(retryAfterSeconds: 60))
        #expect(t.check("ip", now: t0.adding(milliseconds: 59_500)) == .blocked(retryAfterSeconds: 1))
        let t1 = t0.adding(milliseconds: 60_000)
        #expect(t.check("ip", now: t1) == .allowed)
        _ = t.recordFailure("ip", now: t1)
        #expect(t.check("ip", now: t1) == .blocked(retryAfterSeconds: 120))
        _ = t.recordFailure("ip", now: t1)
        #expect(t.check("ip", now: t1) == .blocked(retryAfterSeconds: 200))
        t.recordSuccess("ip")
        #expect(t.check("ip", now: t1) == .allowed)
    }

    @Test func failuresAreForgottenAfterAnHourAndTableIsBounded() {
        var t = AuthThrottle(limits: limits())
        t.trackedAddressesMax = 10
        let t0 = Timestamp(secondsSinceEpoch: 1_000_000)
        for _ in 0..<4 { _ = t.recordFailure("ip", now: t0) }
        let later = t0.adding(milliseconds: AuthThrottle.forgetAfterMilliseconds + 1)
        #expect(t.recordFailure("ip", now: later) == 0)
        for i in 0..<50 { _ = t.recordFailure("10.0.0.\(i)", now: later.adding(milliseconds: Int64(i))) }
        #expect(t.trackedCount <= 10)
    }

    @Test func ipv6AddressesAreCountedPerSlash64() {
        #expect(AuthThrottle.throttleKey("192.0.2.7") == "192.0.2.7")
        #expect(AuthThrottle.throttleKey("2001:db8:1:2::1") == "20010db800010002::/64")
        #expect(AuthThrottle.throttleKey("2001:db8:1:2:ffff:1:2:3") == "20010db800010002::/64")
        #expect(AuthThrottle.throttleKey("::ffff:198.51.100.9") == "198.51.100.9")
        #expect(AuthThrottle.throttleKey("not an address") == "not an address")
        var t = AuthThrottle(limits: limits())
        let now = Timestamp(secondsSinceEpoch: 1_000_000)
        for i in 0..<5 { _ = t.recordFailure("2001:db8:1:2::\(i + 1)", now: now) }
        #expect(t.check("2001:db8:1:2::99", now: now) == .blocked(retryAfterSeconds: 60))
        #expect(t.check("2001:db8:1:3::1", now: now) == .allowed)
    }

    @Test func passwordHashesVerify() throws {
        let h = PasswordHasher.fastForTests
        let encoded = try h.hash("s3cret pass", salt: Array(repeating: 7, count: 16))
        #expect(encoded.hasPrefix("$argon2id$v=19$m=64,t=1,p=1$"))
        #expect(PasswordHasher.verify("s3cret pass", encoded: encoded))
        #expect(!PasswordHasher.verify("s3cret pasS", encoded: encoded))
        #expect(!PasswordHasher.verify("s3cret pass", encoded: "$argon2id$garbage"))
    }
}
