import Testing
@testable import StalCore

@Suite struct EmailAddressTests {
    @Test func parsesAndLowercasesDomain() throws {
        let a = try #require(EmailAddress("Alice@Example.COM"))
        #expect(a.localPart == "Alice")
        #expect(a.domain == "example.com")
        #expect(a.canonical == "alice@example.com")
    }

    @Test func rejectsMalformed() {
        #expect(EmailAddress("no-at-sign") == nil)
        #expect(EmailAddress("@example.com") == nil)
        #expect(EmailAddress("a@") == nil)
        #expect(EmailAddress("a b@example.com") == nil)
        #expect(EmailAddress(String(repeating: "x", count: 65) + "@example.com") == nil)
    }

    @Test func detachesSubaddress() throws {
        let a = try #require(EmailAddress("bob+lists@example.com"))
        let (base, detail) = a.detachingSubaddress()
        #expect(base.description == "bob@example.com")
        #expect(detail == "lists")
        #expect(EmailAddress("+x@example.com")!.detachingSubaddress().detail == nil)
    }
}

@Suite struct BlobIDTests {
    @Test func hexRoundTrip() throws {
        let hex = String(repeating: "0a", count: 32)
        let id = try #require(BlobID(hex: hex))
        #expect(id.hex == hex)
        #expect(BlobID(hex: "zz") == nil)
    }
}

@Suite struct CivilDateTests {
    @Test func formatsKnownInstant() {
        let t = Timestamp(secondsSinceEpoch: 1_528_637_909)
        #expect(CivilDateTime(t).rfc5322 == "Sun, 10 Jun 2018 13:38:29 +0000")
        #expect(CivilDateTime(t, utcOffsetMinutes: -300).imapDateTime == "10-Jun-2018 08:38:29 -0500")
    }

    @Test func roundTripsThroughCivil() {
        for s in stride(from: Int64(-86_400 * 400), to: 86_400 * 365 * 80, by: 86_400 * 37 + 3_671) {
            let t = Timestamp(secondsSinceEpoch: s)
            #expect(CivilDateTime(t, utcOffsetMinutes: 90).timestamp == t)
        }
    }
}

@Suite struct KeywordTests {
    @Test func mapsImapSystemFlags() {
        #expect(Keyword(imapFlag: "\\SEEN") == .seen)
        #expect(Keyword(imapFlag: "\\Recent") == nil)
        #expect(Keyword(imapFlag: "$Forwarded") == .forwarded)
        #expect(Keyword.deleted.imapFlag == "\\Deleted")
    }
}
