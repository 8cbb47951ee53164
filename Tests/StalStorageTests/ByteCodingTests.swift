import StalCore
import StalStorage
import Testing

@Suite struct ByteCodingTests {
    @Test func roundTripsEveryFieldKind() throws {
        var w = ByteWriter()
        w.u8(7); w.bool(true); w.u16(0xBEEF); w.u32(0xDEAD_BEEF); w.u64(.max - 1); w.i64(-42)
        w.lengthPrefixed([1, 2, 3]); w.string("Grüße"); w.optionalU64(nil); w.optionalU64(9)
        var r = ByteReader(w.bytes)
        #expect(try r.u8() == 7)
        #expect(try r.bool() == true)
        #expect(try r.u16() == 0xBEEF)
        #expect(try r.u32() == 0xDEAD_BEEF)
        #expect(try r.u64() == .max - 1)
        #expect(try r.i64() == -42)
        #expect(try r.lengthPrefixed() == [1, 2, 3])
        #expect(try r.string() == "Grüße")
        #expect(try r.optionalU64() == nil)
        #expect(try r.optionalU64() == 9)
        try r.expectEnd()
    }

    @Test func truncatedAndOversizedInputIsCorrupted() {
        var r = ByteReader([0, 0, 0])
        #expect(throws: StalError(.corrupted, "record truncated at 0 (+4 of 3)")) { try r.u32() }
        var big = ByteReader([0xFF, 0xFF, 0xFF, 0xFF])
        #expect((try? big.lengthPrefixed(max: 1024)) == nil)
        var invalid = ByteReader([0, 0, 0, 2, 0xC3, 0x28])
        #expect((try? invalid.string()) == nil)
        var badBool = ByteReader([2])
        #expect((try? badBool.bool()) == nil)
    }

    @Test func bigEndianKeysSortNumerically() {
        let values: [UInt64] = [0, 1, 255, 256, 65_535, 1 << 40, .max]
        let keys = values.map { KeyCoding.key(UInt8(ascii: "k"), $0) }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(KeyCoding.u64(keys[3], at: 1) == 256)
    }

    @Test func prefixRangeCoversExactlyThePrefix() {
        #expect(KeyRange.successor(ofPrefix: [1, 2]) == [1, 3])
        #expect(KeyRange.successor(ofPrefix: [1, 0xFF]) == [2])
        #expect(KeyRange.successor(ofPrefix: [0xFF, 0xFF]) == nil)
        let r = KeyRange.prefix([1, 0xFF])
        #expect(r.contains([1, 0xFF]))
        #expect(r.contains([1, 0xFF, 0xFF, 7]))
        #expect(!r.contains([2]))
        #expect(!r.contains([1, 0xFE]))
    }
}
