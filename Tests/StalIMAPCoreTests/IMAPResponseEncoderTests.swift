import StalCore
import Testing
@testable import StalIMAPCore

@Suite struct IMAPResponseEncoderTests {
    func wire(_ r: IMAPResponse) -> String { String(decoding: IMAPResponseEncoder().encode(r), as: UTF8.self) }

    @Test func taggedAndUntaggedConditions() {
        #expect(wire(.tagged(tag: "a1", .ok, nil, "done")) == "a1 OK done\r\n")
        #expect(wire(.tagged(tag: "a1", .no, .authenticationFailed, "Authentication failed")) == "a1 NO [AUTHENTICATIONFAILED] Authentication failed\r\n")
        #expect(wire(.untagged(.condition(.ok, .uidValidity(7), "UIDs valid"))) == "* OK [UIDVALIDITY 7] UIDs valid\r\n")
        #expect(wire(.tagged(tag: "c", .ok, .copyUID(uidValidity: 9, source: [1, 2, 3, 7], destination: [10, 11, 12, 13]), "done")) ==
                "c OK [COPYUID 9 1:3,7 10:13] done\r\n")
        #expect(wire(.continuation("Ready")) == "+ Ready\r\n")
    }

    @Test func mailboxDataResponses() {
        #expect(wire(.untagged(.list(ListEntry(attributes: ["\\HasNoChildren", "\\Drafts"], name: "Entwürfe")))) ==
                "* LIST (\\HasNoChildren \\Drafts) \"/\" Entw&APw-rfe\r\n")
        #expect(wire(.untagged(.list(ListEntry(attributes: [], name: "My Box")))) == "* LIST () \"/\" \"My Box\"\r\n")
        #expect(wire(.untagged(.status(mailbox: "INBOX", [StatusItem(.messages, 3), StatusItem(.unseen, 1)]))) ==
                "* STATUS INBOX (MESSAGES 3 UNSEEN 1)\r\n")
        #expect(wire(.untagged(.search([1, 5, 9]))) == "* SEARCH 1 5 9\r\n")
        #expect(wire(.untagged(.search([]))) == "* SEARCH\r\n")
        #expect(wire(.untagged(.exists(12))) == "* 12 EXISTS\r\n")
        #expect(wire(.untagged(.expunge(3))) == "* 3 EXPUNGE\r\n")
        #expect(wire(.untagged(.namespace(prefix: "", delimiter: "/"))) == "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n")
        #expect(wire(.untagged(.id(nil))) == "* ID NIL\r\n")
    }

    @Test func fetchItems() {
        let date = CivilDateTime(year: 2026, month: 1, day: 5, hour: 8, minute: 9, second: 10).timestamp
        #expect(wire(.untagged(.fetch(2, [.uid(40), .flags(["\\Seen"]), .internalDate(date), .rfc822Size(321)]))) ==
                "* 2 FETCH (UID 40 FLAGS (\\Seen) INTERNALDATE \" 5-Jan-2026 08:09:10 +0000\" RFC822.SIZE 321)\r\n")
        #expect(wire(.untagged(.fetch(1, [.bodySection(SectionSpec(text: .headerFields(["from"])), origin: 0, Array("ab".utf8))]))) ==
                "* 1 FETCH (BODY[HEADER.FIELDS (FROM)]<0> {2}\r\nab)\r\n")
    }

    @Test func preEncodedStructuresArePassedThrough() {
        #expect(wire(.untagged(.fetch(1, [.envelope(Array("(NIL)".utf8)), .bodyStructure(Array("(\"TEXT\")".utf8))]))) ==
                "* 1 FETCH (ENVELOPE (NIL) BODYSTRUCTURE (\"TEXT\"))\r\n")
    }

    @Test func nonASCIIStringsBecomeLiterals() {
        var out: [UInt8] = []
        IMAPResponseEncoder().string(Array("größe".utf8), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "{7}\r\ngröße")
    }
}

@Suite struct ModifiedUTF7Tests {
    @Test func roundTrips() {
        for name in ["INBOX", "Entwürfe", "A&B", "日本語/メール", "Émojis 📬", "~peter/mail/台北/日本語"] {
            let encoded = ModifiedUTF7.encode(name)
            #expect(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
            #expect(ModifiedUTF7.decode(encoded) == name)
        }
    }

    @Test func knownVectors() {
        #expect(ModifiedUTF7.encode("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-")
        #expect(ModifiedUTF7.decode("&Jjo-!") == "☺!")
        #expect(ModifiedUTF7.decode("&-") == "&")
        #expect(ModifiedUTF7.decode("&U,BTF2XlZyyKng-") == "台北日本語")
        #expect(ModifiedUTF7.decode("&Jjo") == nil)
        #expect(ModifiedUTF7.decode("&*-") == nil)
    }
}
