import Testing
@testable import StalMIME

@Suite struct IDNATests {
    /// RFC 3492 §7.1 sample strings (A, B, C, D, G, L, R, S): code points and Punycode.
    static let rfc3492Samples: [(String, [UInt32], String)] = [
        ("A Arabic", [0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645, 0x0648, 0x0634, 0x0639,
                      0x0631, 0x0628, 0x064A, 0x061F], "egbpdaj6bu4bxfgehfvwxn"),
        ("B Chinese simplified", [0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D, 0x6587], "ihqwcrb4cv8a8dqg056pqjye"),
        ("C Chinese traditional", [0x4ED6, 0x5011, 0x7232, 0x4EC0, 0x9EBD, 0x4E0D, 0x8AAA, 0x4E2D, 0x6587], "ihqwctvzc91f659drss3x8bo0yb"),
        ("D Czech", [0x50, 0x72, 0x6F, 0x10D, 0x70, 0x72, 0x6F, 0x73, 0x74, 0x11B, 0x6E, 0x65, 0x6D, 0x6C, 0x75, 0x76, 0xED,
                     0x10D, 0x65, 0x73, 0x6B, 0x79], "Proprostnemluvesky-uyb24dma41a"),
        ("G Japanese", [0x306A, 0x305C, 0x307F, 0x3093, 0x306A, 0x65E5, 0x672C, 0x8A9E, 0x3092, 0x8A71, 0x3057, 0x3066, 0x304F,
                        0x308C, 0x306A, 0x3044, 0x306E, 0x304B], "n8jok5ay5dzabd5bym9f0cm5685rrjetr6pdxa"),
        ("L 3nen B gumi", [0x33, 0x5E74, 0x42, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F], "3B-ww4c5e180e575a65lsy2b"),
        ("R sono supiido de", [0x305D, 0x306E, 0x30B9, 0x30D4, 0x30FC, 0x30C9, 0x3067], "d9juau41awczczp"),
        ("S ASCII only", [0x2D, 0x3E, 0x20, 0x24, 0x31, 0x2E, 0x30, 0x30, 0x20, 0x3C, 0x2D], "-> $1.00 <--"),
    ]

    @Test func punycodeRFC3492Samples() {
        for (name, codePoints, punycode) in Self.rfc3492Samples {
            let scalars = codePoints.map { Unicode.Scalar($0)! }
            #expect(IDNA.punycodeEncode(scalars) == punycode, "\(name)")
            #expect(IDNA.punycodeDecode(Array(punycode.utf8)).map { Array($0.unicodeScalars) } == scalars, "\(name)")
        }
    }

    @Test func toASCII() throws {
        #expect(try IDNA.asciiDomain("bücher.example") == "xn--bcher-kva.example")
        #expect(try IDNA.asciiDomain("MÜNCHEN.de") == "xn--mnchen-3ya.de")
        #expect(try IDNA.asciiDomain("mail.日本語。jp") == "mail.xn--wgv71a119e.jp")
        // Decomposed input is NFC-mapped first; ß is kept (nontransitional).
        #expect(try IDNA.asciiDomain("mu\u{308}nchen.de") == "xn--mnchen-3ya.de")
        #expect(try IDNA.asciiDomain("straße.de") == "xn--strae-oqa.de")
        #expect(try IDNA.asciiDomain("Example.COM.") == "example.com")
        #expect(try IDNA.asciiDomain("xn--bcher-kva.example") == "xn--bcher-kva.example")
    }

    @Test func toASCIIRefusesInvalidDomains() {
        #expect(throws: IDNA.Failure.emptyLabel) { try IDNA.asciiDomain("a..b") }
        #expect(throws: IDNA.Failure.hyphenPosition) { try IDNA.asciiDomain("-bücher.de") }
        #expect(throws: IDNA.Failure.disallowedCharacter) { try IDNA.asciiDomain("bü_cher.de") }
        #expect(throws: IDNA.Failure.leadingCombiningMark) { try IDNA.asciiDomain("\u{301}x.de") }
        #expect(throws: IDNA.Failure.labelTooLong) { try IDNA.asciiDomain(String(repeating: "a", count: 64) + ".de") }
        #expect(throws: IDNA.Failure.labelTooLong) { try IDNA.asciiDomain(String(repeating: "ü", count: 60) + ".de") }
        #expect(throws: IDNA.Failure.domainTooLong) {
            try IDNA.asciiDomain(Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: "."))
        }
        #expect(throws: IDNA.Failure.disallowedCharacter) { try IDNA.asciiDomain("xn--!!!.de") }
        // Incomplete Punycode (the last digit continues a number that never ends).
        #expect(throws: IDNA.Failure.invalidALabel) { try IDNA.asciiDomain("xn--zzzzzzzzzzzzzzzzzz.de") }
        #expect(throws: IDNA.Failure.invalidALabel) { try IDNA.asciiDomain("ab--cd.de") }
        // An A-label whose Unicode form is not NFC is not the ToASCII of anything.
        #expect(throws: IDNA.Failure.invalidALabel) { try IDNA.asciiDomain("xn--munchen-gie.de") }
    }

    @Test func addressesCarryBothForms() {
        let a = AddressParser.addresses(Array("Jörg <jörg@Bücher.example>, x <x@xn--mnchen-3ya.de>, q <\"a b\"@日本語.jp>".utf8))
        #expect(a[0].asciiDomain == "xn--bcher-kva.example")
        #expect(a[0].asciiAddress == nil)
        #expect(a[1].unicodeDomain == "münchen.de")
        #expect(a[1].asciiAddress == "x@xn--mnchen-3ya.de")
        #expect(a[2].asciiAddress == "\"a b\"@xn--wgv71a119e.jp")
        #expect(a[2].address == "\"a b\"@日本語.jp")
    }
}
