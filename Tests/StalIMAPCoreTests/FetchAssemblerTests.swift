import StalCore
import Testing
@testable import StalIMAPCore

struct RawFetchable: FetchableMessage {
    var bytes: [UInt8]
    var envelope: IMAPEnvelope { IMAPEnvelope(subject: Array("s".utf8)) }
    var bodyStructure: IMAPBodyStructure { .single(IMAPSinglePart(type: "text", subtype: "plain", size: bytes.count, lines: 1)) }

    func section(_ spec: SectionSpec) -> [UInt8]? {
        guard spec.part.isEmpty else { return nil }
        let all = bytes[...]
        switch spec.text {
        case nil: return bytes
        case .header: return Array(RawMessage.header(all))
        case .text: return Array(RawMessage.body(all))
        case .headerFields(let names): return RawMessage.selectFields(RawMessage.header(all), names: names, exclude: false)
        case .headerFieldsNot(let names): return RawMessage.selectFields(RawMessage.header(all), names: names, exclude: true)
        case .mime: return nil
        }
    }
}

@Suite struct FetchAssemblerTests {
    let message = RawFetchable(bytes: Array("From: a@b\r\nSubject: hi\r\n  there\r\nTo: c@d\r\n\r\nBody line\r\n".utf8))
    let metadata = FetchMetadata(uid: 9, keywords: [.seen], internalDate: Timestamp(secondsSinceEpoch: 0), size: 60)

    @Test func uidFetchAlwaysCarriesUID() {
        let items = FetchAssembler.items([.flags], metadata: metadata, message: nil, includeUID: true, seenChanged: false)
        #expect(items == [.uid(9), .flags(["\\Seen"])])
    }

    @Test func seenChangeAddsFlags() {
        let items = FetchAssembler.items([.bodySection(peek: false, section: .init(text: .text), partial: nil)], metadata: metadata,
                                         message: message, includeUID: false, seenChanged: true)
        #expect(items == [.bodySection(SectionSpec(text: .text), origin: nil, Array("Body line\r\n".utf8)), .flags(["\\Seen"])])
    }

    @Test func partialFetchSlicesAndReportsOrigin() {
        let items = FetchAssembler.items([.bodySection(peek: true, section: .whole, partial: PartialRange(offset: 6, length: 3)),
                                          .bodySection(peek: true, section: .whole, partial: PartialRange(offset: 5000, length: 3))],
                                         metadata: metadata, message: message, includeUID: false, seenChanged: false)
        #expect(items == [.bodySection(.whole, origin: 6, Array("a@b".utf8)), .bodySection(.whole, origin: 5000, [])])
    }

    @Test func headerFieldSelectionKeepsContinuationLines() {
        let header = RawMessage.header(message.bytes[...])
        #expect(String(decoding: RawMessage.selectFields(header, names: ["SUBJECT"], exclude: false), as: UTF8.self) ==
                "Subject: hi\r\n  there\r\n\r\n")
        #expect(String(decoding: RawMessage.selectFields(header, names: ["subject"], exclude: true), as: UTF8.self) ==
                "From: a@b\r\nTo: c@d\r\n\r\n")
    }

    @Test func rfc822ItemsMapToSections() {
        let items = FetchAssembler.items([.rfc822Header, .rfc822Size, .envelope], metadata: metadata, message: message,
                                         includeUID: false, seenChanged: false)
        #expect(items == [.rfc822Header(Array("From: a@b\r\nSubject: hi\r\n  there\r\nTo: c@d\r\n\r\n".utf8)), .rfc822Size(60),
                          .envelope(IMAPEnvelope(subject: Array("s".utf8)))])
        #expect(RawMessage.bodyStart(Array("no header break".utf8)[...]) == 15)
    }
}
