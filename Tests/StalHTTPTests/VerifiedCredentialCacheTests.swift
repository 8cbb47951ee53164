import StalDeterminism
import Testing
@testable import StalHTTP

@Suite struct VerifiedCredentialCacheTests {
    @Test func remembersAVerifiedCredentialUntilItExpires() {
        let clock = ManualClock()
        let cache = VerifiedCredentialCache(clock: clock, capacity: 4, lifetimeMilliseconds: 1000)
        #expect(!cache.contains(user: "admin", password: "secret-1"))
        cache.insert(user: "admin", password: "secret-1")
        #expect(cache.contains(user: "admin", password: "secret-1"))
        #expect(!cache.contains(user: "admin", password: "secret-2"))
        #expect(!cache.contains(user: "admi", password: "nsecret-1"))
        clock.advance(milliseconds: 999)
        #expect(cache.contains(user: "admin", password: "secret-1"))
        clock.advance(milliseconds: 1)
        #expect(!cache.contains(user: "admin", password: "secret-1"))
        #expect(cache.count == 0)
    }

    @Test func holdsAtMostCapacityAndForgetsTheSoonestToExpire() {
        let clock = ManualClock()
        let cache = VerifiedCredentialCache(clock: clock, capacity: 3, lifetimeMilliseconds: 10_000)
        for i in 0..<3 {
            cache.insert(user: "admin", password: "p\(i)")
            clock.advance(milliseconds: 10)
        }
        cache.insert(user: "admin", password: "p3")
        #expect(cache.count == 3)
        #expect(!cache.contains(user: "admin", password: "p0"))
        for i in 1...3 { #expect(cache.contains(user: "admin", password: "p\(i)")) }
    }

    @Test func expiredEntriesMakeRoomFirst() {
        let clock = ManualClock()
        let cache = VerifiedCredentialCache(clock: clock, capacity: 2, lifetimeMilliseconds: 100)
        cache.insert(user: "admin", password: "old")
        clock.advance(milliseconds: 50)
        cache.insert(user: "admin", password: "newer")
        clock.advance(milliseconds: 60)
        cache.insert(user: "admin", password: "newest")
        #expect(cache.contains(user: "admin", password: "newer"))
        #expect(cache.contains(user: "admin", password: "newest"))
        #expect(cache.count == 2)
    }
}
