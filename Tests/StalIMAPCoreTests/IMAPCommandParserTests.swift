import StalCore
import Testing
@testable import StalIMAPCore

@Suite struct IMAPCommandParserTests {
    func parse(_ text: String) -> IMAPCommand? {
        try? IMAPCommandParser.parse(IMAPFrame(text: text)).get().command
    }

    func failure(_ text: String) -> IMAPParseError? {
        if case .failure(let e) = IMAPCommandParser.parse(IMAPFrame(text: text)) { return e }
        return nil
    }

    @Test func simpleCommands() {
        #expect(parse("a CAPABILITY") == .capability)
        #expect(parse("a noop") == .noop)
        #expect(parse("a LOGOUT") == .logout)
        #expect(parse("a STARTTLS") == .startTLS)
        #expect(parse("a IDLE") == .idle)
        #expect(parse("a UNSELECT") == .unselect)
        #expect(parse("a NAMESPACE") == .namespace)
    }

    @Test func loginWithAtomsQuotedAndLiteral() throws {
        #expect(parse("a LOGIN alice \"p a\\\"ss\"") == .login(username: "alice", password: "p a\"ss"))
        let frame = IMAPFrame(lines: [Array("a LOGIN {5}".utf8), Array(" secret".utf8)], literals: [Array("alice".utf8)])
        #expect(try IMAPCommandParser.parse(frame).get().command == .login(username: "alice", password: "secret"))
    }

    @Test func authenticateWithInitialResponse() {
        #expect(parse("a AUTHENTICATE plain AGFsaWNlAHNlY3JldA==") == .authenticate(mechanism: "PLAIN", initialResponse: "AGFsaWNlAHNlY3JldA=="))
        #expect(parse("a AUTHENTICATE PLAIN") == .authenticate(mechanism: "PLAIN", initialResponse: nil))
    }

    @Test func idAndEnable() {
        #expect(parse("a ID NIL") == .id(nil))
        #expect(parse("a ID (\"name\" \"Thunderbird\" \"version\" NIL)") ==
                .id([IDParameter(key: "name", value: "Thunderbird"), IDParameter(key: "version", value: nil)]))
        #expect(parse("a ENABLE CONDSTORE utf8=accept") == .enable(["CONDSTORE", "UTF8=ACCEPT"]))
    }

    @Test func listForms() {
        #expect(parse("a LIST \"\" *") == .list(reference: "", patterns: ["*"], options: ListOptions()))
        var options = ListOptions()
        options.extended = true
        options.specialUseOnly = true
        options.returnSpecialUse = true
        #expect(parse("a LIST (SPECIAL-USE) \"\" \"*\"") == .list(reference: "", patterns: ["*"], options: options))
        var returning = ListOptions()
        returning.extended = true
        returning.returnSpecialUse = true
        returning.returnStatus = [.messages, .unseen]
        #expect(parse("a LIST \"\" (INBOX \"Sent\") RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))") ==
                .list(reference: "", patterns: ["INBOX", "Sent"], options: returning))
        #expect(parse("a LSUB \"\" %") == .lsub(reference: "", pattern: "%"))
    }

    @Test func mailboxNamesAreDecoded() {
        #expect(parse("a SELECT inbox") == .select("INBOX", readOnly: false))
        #expect(parse("a EXAMINE \"Entw&APw-rfe\"") == .select("Entwürfe", readOnly: true))
        #expect(parse("a CREATE A&-B") == .create("A&B"))
        #expect(parse("a RENAME old new") == .rename(from: "old", to: "new"))
        #expect(failure("a CREATE &Jjo") != nil)
    }

    @Test func statusAttributes() {
        #expect(parse("a STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)") ==
                .status("INBOX", [.messages, .uidNext, .uidValidity, .unseen, .recent]))
        #expect(failure("a STATUS INBOX (BOGUS)")?.tag == "a")
    }

    @Test func appendWithFlagsAndDate() throws {
        let frame = IMAPFrame(lines: [Array("a APPEND Drafts (\\Seen $Forwarded) \" 7-Feb-1994 21:52:25 -0800\" {5+}".utf8), []],
                              literals: [Array("hello".utf8)])
        let command = try IMAPCommandParser.parse(frame).get().command
        let expectedDate = CivilDateTime(year: 1994, month: 2, day: 7, hour: 21, minute: 52, second: 25, utcOffsetMinutes: -480).timestamp
        #expect(command == .append(mailbox: "Drafts", flags: ["\\Seen", "$Forwarded"], internalDate: expectedDate, message: Array("hello".utf8)))
    }

    @Test func fetchAttributes() {
        #expect(parse("a FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)") ==
                .fetch(.all, [.flags, .envelope, .bodyStructure], uid: false))
        #expect(parse("a FETCH 2 ALL") == .fetch(SequenceSet(numbers: [2]), FetchAttribute.all, uid: false))
        #expect(parse("a UID FETCH 4:2,7 (BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100> BODY[1.2.MIME] RFC822.SIZE)") ==
                .fetch(SequenceSet([.init(.number(4), .number(2)), .init(.number(7), .number(7))]), [
                    .bodySection(peek: true, section: SectionSpec(text: .headerFields(["From", "Subject"])), partial: PartialRange(offset: 0, length: 100)),
                    .bodySection(peek: false, section: SectionSpec(part: [1, 2], text: .mime), partial: nil),
                    .rfc822Size,
                ], uid: true))
        #expect(parse("a FETCH 1 BODY[]") == .fetch(SequenceSet(numbers: [1]), [.bodySection(peek: false, section: .whole, partial: nil)], uid: false))
        #expect(parse("a FETCH 1 BODY") == .fetch(SequenceSet(numbers: [1]), [.body], uid: false))
        #expect(failure("a FETCH 1 BODY[MIME]") != nil)
        #expect(failure("a FETCH 0 FLAGS") != nil)
    }

    @Test func storeForms() {
        #expect(parse("a STORE 1:3 +FLAGS.SILENT (\\Deleted)") ==
                .store(SequenceSet([.init(.number(1), .number(3))]), StoreOperation(mode: .add, silent: true, flags: ["\\Deleted"]), uid: false))
        #expect(parse("a UID STORE 5 -FLAGS \\Seen $Junk") ==
                .store(SequenceSet(numbers: [5]), StoreOperation(mode: .remove, silent: false, flags: ["\\Seen", "$Junk"]), uid: true))
        #expect(parse("a STORE 1 FLAGS ()") == .store(SequenceSet(numbers: [1]), StoreOperation(mode: .replace, silent: false, flags: []), uid: false))
    }

    @Test func copyMoveExpunge() {
        #expect(parse("a UID COPY 1:* Trash") == .copy(.all, mailbox: "Trash", uid: true))
        #expect(parse("a MOVE 3 Archive") == .move(SequenceSet(numbers: [3]), mailbox: "Archive", uid: false))
        #expect(parse("a UID EXPUNGE 3:5") == .uidExpunge(SequenceSet([.init(.number(3), .number(5))])))
    }

    @Test func searchKeys() {
        #expect(parse("a SEARCH UNSEEN") == .search(charset: nil, key: .unseen, uid: false))
        #expect(parse("a UID SEARCH CHARSET UTF-8 FROM \"bob\" SINCE 1-Feb-1994 NOT (DELETED OR FLAGGED 1:3)") ==
                .search(charset: "UTF-8", key: .and([
                    .from("bob"), .since(IMAPDate(year: 1994, month: 2, day: 1)),
                    .not(.and([.deleted, .or(.flagged, .sequenceSet(SequenceSet([.init(.number(1), .number(3))])))])),
                ]), uid: true))
        #expect(parse("a SEARCH HEADER X-Spam yes LARGER 100 UID 5:* KEYWORD $Junk SENTON \"3-Mar-2020\"") ==
                .search(charset: nil, key: .and([
                    .header(name: "X-Spam", value: "yes"), .larger(100), .uid(SequenceSet([.init(.number(5), .last)])),
                    .keyword("$Junk"), .sentOn(IMAPDate(year: 2020, month: 3, day: 3)),
                ]), uid: false))
        #expect(failure("a SEARCH BOGUS")?.tag == "a")
        #expect(failure("a SEARCH SINCE 31-Foo-2020") != nil)
    }

    @Test func everySearchKeyParses() {
        let keys = ["ALL", "ANSWERED", "BCC x", "BEFORE 1-Jan-2020", "BODY x", "CC x", "DELETED", "DRAFT", "FLAGGED",
                    "FROM x", "HEADER a b", "KEYWORD k", "LARGER 1", "NEW", "NOT SEEN", "OLD", "ON 1-Jan-2020",
                    "OR SEEN DRAFT", "RECENT", "SEEN", "SENTBEFORE 1-Jan-2020", "SENTON 1-Jan-2020",
                    "SENTSINCE 1-Jan-2020", "SINCE 1-Jan-2020", "SMALLER 5", "SUBJECT x", "TEXT x", "TO x", "UID 1",
                    "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNKEYWORD k", "UNSEEN", "1:*", "(SEEN DRAFT)"]
        for key in keys {
            #expect(parse("a SEARCH \(key)") != nil, "SEARCH \(key)")
        }
    }

    @Test func invalidCommandsKeepTheirTag() {
        #expect(failure("t1 FROB")?.tag == "t1")
        #expect(failure("t2 LOGIN onlyuser")?.tag == "t2")
        #expect(failure("t3 NOOP extra")?.tag == "t3")
        #expect(failure("t4 FETCH 1 (FLAGS")?.tag == "t4")
        #expect(failure("")?.tag == nil)
        #expect(failure("\u{1}\u{2}garbage")?.tag == nil)
    }

    @Test func literalSizeMismatchIsInvalid() throws {
        let frame = IMAPFrame(lines: [Array("a LOGIN {9}".utf8), Array(" x".utf8)], literals: [Array("short".utf8)])
        #expect(throws: IMAPParseError.self) { try IMAPCommandParser.parse(frame).get() }
    }

    @Test func randomBytesNeverCrashTheParser() {
        var rng = SplitMix(seed: 42)
        for _ in 0..<2000 {
            let length = Int(rng.next() % 60)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next() % 96 + 32) }
            if case .failure(let error) = IMAPCommandParser.parse(IMAPFrame(lines: [bytes])), let tag = error.tag {
                #expect(bytes.starts(with: Array(tag.utf8)))
            }
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
