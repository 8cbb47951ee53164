import StalCore
import StalMIME
import Testing
@testable import StalIMAPCore

@Suite struct FetchAssemblerTests {
    static let raw = "From: Fred <fred@example.com>\r\nSubject: hi\r\n  there\r\nDate: Sat, 9 Mar 2024 23:30:00 -0500\r\nTo: c@d\r\n\r\nBody line\r\n"
    let message = IMAPMessage(uid: 9, sequenceNumber: 1, keywords: [.seen], internalDate: Timestamp(secondsSinceEpoch: 0),
                              size: raw.utf8.count, mime: MIMEMessage.parse(Array(raw.utf8)))

    func items(_ attributes: [FetchAttribute], uid: Bool = false, seenChanged: Bool = false) -> [FetchItem] {
        FetchAssembler.items(attributes, metadata: message.metadata, message: message, includeUID: uid, seenChanged: seenChanged)
    }

    @Test func uidFetchAlwaysCarriesUID() {
        #expect(FetchAssembler.items([.flags], metadata: message.metadata, message: nil, includeUID: true, seenChanged: false) ==
                [.uid(9), .flags(["\\Seen"])])
        #expect(items([.uid, .flags], uid: true) == [.uid(9), .flags(["\\Seen"])])
    }

    @Test func seenChangeAddsFlags() {
        #expect(items([.bodySection(peek: false, section: .init(text: .text), partial: nil)], seenChanged: true) ==
                [.bodySection(SectionSpec(text: .text), origin: nil, Array("Body line\r\n".utf8)), .flags(["\\Seen"])])
    }

    @Test func partialFetchSlicesAndReportsOrigin() {
        #expect(items([.bodySection(peek: true, section: .whole, partial: PartialRange(offset: 6, length: 4)),
                       .bodySection(peek: true, section: .whole, partial: PartialRange(offset: 5000, length: 3))]) ==
                [.bodySection(.whole, origin: 6, Array("Fred".utf8)), .bodySection(.whole, origin: 5000, [])])
    }

    @Test func headerFieldSelectionKeepsContinuationLines() {
        #expect(items([.bodySection(peek: true, section: SectionSpec(text: .headerFields(["SUBJECT"])), partial: nil)]) ==
                [.bodySection(SectionSpec(text: .headerFields(["SUBJECT"])), origin: nil, Array("Subject: hi\r\n  there\r\n\r\n".utf8))])
    }

    @Test func rfc822ItemsAndStructures() {
        let result = items([.rfc822Header, .rfc822Size, .envelope, .bodyStructure])
        #expect(result.count == 4)
        #expect(result[1] == .rfc822Size(Self.raw.utf8.count))
        guard case .envelope(let envelope) = result[2], case .bodyStructure(let structure) = result[3] else {
            Issue.record("missing envelope or body structure")
            return
        }
        #expect(String(decoding: envelope, as: UTF8.self).contains("\"fred\" \"example.com\""))
        #expect(String(decoding: structure, as: UTF8.self).lowercased().hasPrefix("(\"text\" \"plain\""))
    }

    @Test func searchAccessorsComeFromTheParsedMessage() {
        #expect(message.headerValues("subject").map { $0.split(separator: " ") } == [["hi", "there"]])
        #expect(message.bodyText.contains("Body line"))
        #expect(message.sentDate == IMAPDate(year: 2024, month: 3, day: 9))
        #expect(SearchEvaluator.matches(.and([.from("FRED"), .subject("THERE"), .body("line")]), message,
                                        context: .init(largestSequenceNumber: 1, largestUID: 9)))
    }
}
