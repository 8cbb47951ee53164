import Testing
@testable import StalMIME

@Suite struct NormalizationTests {
    private static func scalars(_ column: Substring) -> String {
        var view = String.UnicodeScalarView()
        for hex in column.split(separator: " ") { view.append(Unicode.Scalar(UInt32(hex, radix: 16)!)!) }
        return String(view)
    }

    @Test func generatedVectorsMatchUnicodeData() {
        #expect(normalizationVectorsUnicodeVersion == UnicodeNormalizationTables.unicodeVersion)
        var checked = 0, failures: [String] = []
        for line in normalizationVectors.split(separator: "\n") {
            let columns = line.split(separator: ";")
            let source = Self.scalars(columns[0]), expected = Self.scalars(columns[1])
            if !UnicodeNormalization.nfc(source).unicodeScalars.elementsEqual(expected.unicodeScalars) { failures.append(String(line)) }
            checked += 1
        }
        #expect(checked > 8_000)
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    @Test func hangulAndOrdering() {
        // Jamo L+V+T compose algorithmically; marks reorder by combining class before composing.
        #expect(UnicodeNormalization.nfc("\u{1100}\u{1161}\u{11A8}").unicodeScalars.map(\.value) == [0xAC01])
        #expect(UnicodeNormalization.nfc("a\u{323}\u{302}").unicodeScalars.map(\.value) == [0x1EAD])
        #expect(UnicodeNormalization.nfc("a\u{302}\u{323}").unicodeScalars.map(\.value) == [0x1EAD])
        // A blocked mark stays: the second acute cannot combine over the first.
        #expect(UnicodeNormalization.nfc("e\u{301}\u{301}").unicodeScalars.map(\.value) == [0xE9, 0x301])
        // Singletons and exclusions: Angstrom sign becomes Å; U+0958 stays decomposed.
        #expect(UnicodeNormalization.nfc("\u{212B}").unicodeScalars.map(\.value) == [0xC5])
        #expect(UnicodeNormalization.nfc("\u{958}").unicodeScalars.map(\.value) == [0x915, 0x93C])
        #expect(UnicodeNormalization.nfc("plain ascii") == "plain ascii")
        // The quick check passes common scripts and sends anything composable to the full path.
        #expect(UnicodeNormalization.isPlainlyNFC("Привет 日本語 テスト"))
        #expect(!UnicodeNormalization.isPlainlyNFC("\u{1100}\u{1161}"))
        #expect(!UnicodeNormalization.isPlainlyNFC("\u{B47}\u{B3E}"))
        #expect(UnicodeNormalization.nfc("\u{B47}\u{B3E}").unicodeScalars.map(\.value) == [0xB4B])
        #expect(UnicodeNormalization.nfc("") == "")
    }

    /// RFC 8621 §4.1.2.2: asText is unfolded, RFC 2047-decoded and NFC-normalized;
    /// §4.1.2.3: address names are processed like Text.
    @Test func jmapTextFormsAreNFC() {
        let m = MIMEMessage.parse(crlf("""
            From: =?UTF-8?Q?Jo=CC=88rg?= <j@x>
            Subject: =?UTF-8?Q?Cafe=CC=81?=
             =?UTF-8?Q?_=E1=84=92=E1=85=A1=E1=86=AB?=
            X-Plain: Cafe\u{301}

            body

            """))
        #expect(m.jmapHeader("Subject", form: .text) == .string("Caf\u{E9} \u{D55C}"))
        #expect(m.jmapHeader("Subject", form: .text).encoded().unicodeScalars.contains("\u{E9}"))
        #expect(m.jmapHeader("From", form: .addresses).encoded() == "[{\"name\":\"J\u{F6}rg\",\"email\":\"j@x\"}]")
        #expect(m.jmapHeader("X-Plain", form: .text).encoded().unicodeScalars.contains("\u{E9}"))
        #expect(m.jmapHeader("X-Plain", form: .raw).encoded().unicodeScalars.contains("\u{301}"))
    }
}
