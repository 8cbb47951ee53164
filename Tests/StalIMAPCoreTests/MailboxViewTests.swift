import StalCore
import Testing
@testable import StalIMAPCore

@Suite struct MailboxViewTests {
    func meta(_ uid: UInt32, _ keywords: Set<Keyword> = []) -> MessageMetadata { MessageMetadata(uid: uid, keywords: keywords) }

    func view(_ uids: [UInt32]) -> MailboxView {
        MailboxView(uidValidity: 1, messages: uids.map { meta($0) }, readOnly: false)
    }

    @Test func mapsSequenceNumbersAndUIDs() {
        let v = view([3, 7, 9])
        #expect(v.count == 3)
        #expect(v.sequenceNumber(of: 7) == 2)
        #expect(v.sequenceNumber(of: 8) == nil)
        #expect(v.uid(at: 3) == 9)
        #expect(v.uid(at: 4) == nil)
        #expect(v.uid(at: 0) == nil)
    }

    @Test func resolvesSequenceSets() {
        let v = view([3, 7, 9, 12])
        #expect(v.resolve(SequenceSet([.init(.number(2), .last)]), uid: false).map(\.uid) == [7, 9, 12])
        #expect(v.resolve(SequenceSet([.init(.number(4), .number(2)), .init(.number(3), .number(3))]), uid: false).map(\.sequenceNumber) == [2, 3, 4])
        #expect(v.resolve(SequenceSet(numbers: [9]), uid: false).isEmpty)
        #expect(v.resolve(SequenceSet([.init(.number(4), .number(9))]), uid: true).map(\.uid) == [7, 9])
        // RFC 3501 §6.4.8: n:* always includes the largest UID even when n is larger.
        #expect(v.resolve(SequenceSet([.init(.number(100), .last)]), uid: true).map(\.uid) == [12])
        #expect(v.resolve(SequenceSet([.init(.number(1), .number(UInt32.max))]), uid: true).map(\.uid) == [3, 7, 9, 12])
        #expect(view([]).resolve(.all, uid: true).isEmpty)
    }

    @Test func synchronizeReportsExpungesDescendingThenExistsThenFlags() {
        var v = view([1, 2, 3, 4])
        let responses = v.synchronize(with: [meta(1), meta(3, [.seen]), meta(5), meta(6)], allowExpunge: true)
        #expect(responses == [.expunge(4), .expunge(2), .exists(4), .fetch(2, [.uid(3), .flags(["\\Seen"])])])
        #expect(v.uids == [1, 3, 5, 6])
    }

    @Test func expungesWaitForASyncPointThatAllowsThem() {
        var v = view([1, 2, 3])
        let during = v.synchronize(with: [meta(1), meta(3), meta(4)], allowExpunge: false)
        #expect(during == [.exists(4)])
        #expect(v.sequenceNumber(of: 3) == 3)
        #expect(v.isExpunged(2))
        let after = v.synchronize(with: [meta(1), meta(3), meta(4)], allowExpunge: true)
        #expect(after == [.expunge(2)])
        #expect(v.sequenceNumber(of: 3) == 2)
        #expect(!v.isExpunged(2))
    }

    @Test func ownFlagChangesAreNotReportedTwice() {
        var v = view([1])
        v.recordKeywords([.flagged], uid: 1)
        #expect(v.synchronize(with: [meta(1, [.flagged])], allowExpunge: true).isEmpty)
        #expect(v.synchronize(with: [meta(1, [.flagged])], allowExpunge: true).isEmpty)
    }

    @Test func flagTextMapping() {
        #expect(IMAPFlags.flags(for: [.seen, Keyword("$forwarded"), .answered, Keyword("custom")]) ==
                ["\\Answered", "\\Seen", "$Forwarded", "custom"])
        #expect(IMAPFlags.keywords(for: ["\\Seen", "\\Recent", "$Junk"]) == [.seen, .junk])
    }
}

struct TestMessage: SearchableMessage {
    var uid: UInt32
    var sequenceNumber: UInt32
    var keywords: Set<Keyword> = []
    var internalDate = CivilDateTime(year: 2024, month: 3, day: 10, hour: 12, minute: 0, second: 0).timestamp
    var size = 1000
    var headers: [(String, String)] = [("From", "Alice Example <alice@example.com>"), ("To", "bob@example.org"),
                                       ("Subject", "Quarterly Report"), ("X-Spam", "no")]
    var bodyText = "Please find the numbers attached. Grüße"
    var sentDate: IMAPDate? = IMAPDate(year: 2024, month: 3, day: 9)

    func headerValues(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    var headerText: String { headers.map { "\($0.0): \($0.1)" }.joined(separator: "\r\n") }
}

@Suite struct SearchEvaluatorTests {
    let context = SearchEvaluator.Context(largestSequenceNumber: 10, largestUID: 100)

    func matches(_ key: SearchKey, _ m: TestMessage = TestMessage(uid: 50, sequenceNumber: 5)) -> Bool {
        SearchEvaluator.matches(key, m, context: context)
    }

    @Test func flagKeys() {
        let seen = TestMessage(uid: 1, sequenceNumber: 1, keywords: [.seen, .flagged, Keyword("$label1")])
        #expect(matches(.seen, seen))
        #expect(!matches(.unseen, seen))
        #expect(matches(.flagged, seen))
        #expect(matches(.unanswered, seen))
        #expect(matches(.undeleted, seen))
        #expect(matches(.undraft, seen))
        #expect(!matches(.draft, seen))
        #expect(!matches(.answered, seen))
        #expect(!matches(.deleted, seen))
        #expect(!matches(.unflagged, seen))
        #expect(matches(.keyword("$Label1"), seen))
        #expect(!matches(.unkeyword("$label1"), seen))
        #expect(matches(.unkeyword("other"), seen))
        #expect(matches(.all, seen))
        #expect(matches(.old, seen))
        #expect(!matches(.new, seen))
        #expect(!matches(.recent, seen))
    }

    @Test func headerAndTextKeysAreCaseInsensitiveSubstrings() {
        #expect(matches(.from("ALICE@")))
        #expect(matches(.to("example.org")))
        #expect(!matches(.cc("x")))
        #expect(!matches(.bcc("x")))
        #expect(matches(.subject("report")))
        #expect(matches(.header(name: "x-spam", value: "NO")))
        #expect(matches(.header(name: "X-Spam", value: "")))
        #expect(!matches(.header(name: "X-Other", value: "")))
        #expect(matches(.body("NUMBERS")))
        #expect(matches(.body("grüße")))
        #expect(!matches(.body("quarterly")))
        #expect(matches(.text("quarterly")))
        #expect(matches(.text("attached")))
    }

    @Test func dateAndSizeKeys() {
        let day = IMAPDate(year: 2024, month: 3, day: 10)
        #expect(matches(.on(day)))
        #expect(matches(.since(day)))
        #expect(!matches(.before(day)))
        #expect(matches(.before(IMAPDate(year: 2024, month: 3, day: 11))))
        #expect(matches(.sentOn(IMAPDate(year: 2024, month: 3, day: 9))))
        #expect(matches(.sentBefore(day)))
        #expect(!matches(.sentSince(day)))
        #expect(matches(.larger(999)))
        #expect(!matches(.larger(1000)))
        #expect(matches(.smaller(1001)))
        #expect(!matches(.smaller(1000)))
    }

    @Test func setsAndBooleanKeys() {
        #expect(matches(.uid(SequenceSet([.init(.number(40), .number(60))]))))
        #expect(!matches(.uid(SequenceSet(numbers: [51]))))
        #expect(matches(.uid(SequenceSet([.init(.number(50), .last)]))))
        #expect(matches(.sequenceSet(SequenceSet(numbers: [5]))))
        #expect(matches(.sequenceSet(SequenceSet([.init(.number(3), .last)]))))
        #expect(matches(.not(.seen)))
        #expect(matches(.or(.seen, .unseen)))
        #expect(!matches(.and([.unseen, .seen])))
        #expect(SearchKey.and([.seen, .from("x")]).needsHeaders)
        #expect(!SearchKey.and([.seen, .uid(.all)]).needsHeaders)
        #expect(SearchKey.not(.text("x")).needsBody)
        #expect(!SearchKey.subject("x").needsBody)
    }
}

@Suite struct MailboxPatternTests {
    @Test func wildcards() {
        #expect(MailboxPattern(reference: "", pattern: "*").matches("A/B/C"))
        #expect(MailboxPattern(reference: "", pattern: "%").matches("INBOX"))
        #expect(!MailboxPattern(reference: "", pattern: "%").matches("A/B"))
        #expect(MailboxPattern(reference: "", pattern: "A/%").matches("A/B"))
        #expect(!MailboxPattern(reference: "", pattern: "A/%").matches("A/B/C"))
        #expect(MailboxPattern(reference: "A", pattern: "%").matches("A/B"))
        #expect(MailboxPattern(reference: "A/", pattern: "*").matches("A/B/C"))
        #expect(MailboxPattern(reference: "", pattern: "inbox").matches("INBOX"))
        #expect(MailboxPattern(reference: "", pattern: "Inbox/%").matches("INBOX/x"))
        #expect(!MailboxPattern(reference: "", pattern: "Sent").matches("sent"))
        #expect(MailboxPattern(reference: "", pattern: "S*t").matches("Sent"))
    }
}

@Suite struct IMAPErrorMappingTests {
    @Test func storeErrorsMapToResponseCodes() {
        #expect(IMAPErrorMapping.response(tag: "a", StalError(.notFound)) == .tagged(tag: "a", .no, .nonexistent, "No such mailbox or message"))
        #expect(IMAPErrorMapping.response(tag: "a", StalError(.quotaExceeded)) == .tagged(tag: "a", .no, .overQuota, "Quota exceeded"))
        #expect(IMAPErrorMapping.response(tag: "a", StalError(.storage, "disk")) == .tagged(tag: "a", .no, .serverBug, "Internal error"))
    }
}
