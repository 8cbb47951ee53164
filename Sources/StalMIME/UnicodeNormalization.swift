/// Unicode Normalization Form C (UAX #15) without Foundation: the standard library has no
/// public normalization API in Swift 6.3 (only the underscored `_nfcCodeUnits`), and the
/// pure core must not import Foundation. Tables come from `UnicodeNormalizationTables`.
public enum UnicodeNormalization {
    /// `s` in NFC. Strings whose scalars are all below U+0300 are NFC already (every such
    /// scalar has NFC_Quick_Check=Yes and combining class 0) and are returned unchanged.
    public static func nfc(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.value >= 0x300 }), !isPlainlyNFC(s) else { return s }
        var scalars = decomposed(s.unicodeScalars)
        reorder(&scalars)
        compose(&scalars)
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars.map { Unicode.Scalar($0).unsafelyUnwrapped })
        return String(out)
    }

    /// A quick check without allocating: no scalar has a combining class, a canonical
    /// decomposition or can combine with what precedes it, so nothing would change. False
    /// only means "take the full path" (precomposed letters like U+1EBF are NFC too).
    static func isPlainlyNFC(_ s: String) -> Bool {
        for scalar in s.unicodeScalars {
            let cp = scalar.value
            guard cp >= 0x300 else { continue }
            if cp >= sBase, cp < sBase + sCount { continue }
            if combiningClass(cp) != 0 || decompositionEntry(cp) != nil || compositionSeconds.contains(cp) { return false }
        }
        return true
    }

    /// Starters (class 0) that combine with a preceding scalar: a few Indic vowel signs and
    /// the Hangul medial and final jamo.
    private static let compositionSeconds: Set<UInt32> = {
        var seconds = Set<UInt32>((vBase..<vBase + vCount).map { $0 })
        seconds.formUnion((tBase + 1..<tBase + tCount).map { $0 })
        let table = UnicodeNormalizationTables.compositions
        for i in stride(from: 0, to: table.count, by: 3) {
            let second = table[i + 1] & 0x1FFFFF
            if combiningClass(second) == 0 { seconds.insert(second) }
        }
        return seconds
    }()

    // MARK: Hangul (Unicode §3.12)

    private static let sBase: UInt32 = 0xAC00, lBase: UInt32 = 0x1100, vBase: UInt32 = 0x1161, tBase: UInt32 = 0x11A7
    private static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28
    private static let nCount = vCount * tCount, sCount = lCount * nCount

    // MARK: Steps

    static func decomposed(_ scalars: String.UnicodeScalarView) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(scalars.count + 8)
        for scalar in scalars {
            let cp = scalar.value
            if cp >= sBase, cp < sBase + sCount {
                let index = cp - sBase
                out.append(lBase + index / nCount)
                out.append(vBase + (index % nCount) / tCount)
                if index % tCount != 0 { out.append(tBase + index % tCount) }
            } else if cp >= 0xC0, let entry = decompositionEntry(cp) {
                let start = Int(entry >> 8), length = Int(entry & 0xFF)
                out.append(contentsOf: UnicodeNormalizationTables.decompositionScalars[start..<start + length])
            } else {
                out.append(cp)
            }
        }
        return out
    }

    /// Canonical ordering: a stable sort by combining class of each run of non-starters.
    static func reorder(_ scalars: inout [UInt32]) {
        var i = 0
        while i < scalars.count {
            guard combiningClass(scalars[i]) != 0 else { i += 1; continue }
            var end = i + 1
            while end < scalars.count, combiningClass(scalars[end]) != 0 { end += 1 }
            if end - i > 1 {
                // Insertion sort: runs are short and it is stable.
                for j in (i + 1)..<end {
                    let value = scalars[j], ccc = combiningClass(value)
                    var k = j
                    while k > i, combiningClass(scalars[k - 1]) > ccc {
                        scalars[k] = scalars[k - 1]
                        k -= 1
                    }
                    scalars[k] = value
                }
            }
            i = end
        }
    }

    /// Canonical composition (UAX #15 §1.3 / Unicode §3.11 D117).
    static func compose(_ scalars: inout [UInt32]) {
        guard !scalars.isEmpty else { return }
        var starterIndex: Int? = combiningClass(scalars[0]) == 0 ? 0 : nil
        var lastClass: UInt8 = starterIndex == nil ? 255 : 0
        var write = 1
        for read in 1..<scalars.count {
            let cp = scalars[read]
            let ccc = combiningClass(cp)
            if let s = starterIndex, lastClass < ccc || (lastClass == 0 && write == s + 1),
               let composite = primaryComposite(scalars[s], cp) {
                scalars[s] = composite
                continue
            }
            if ccc == 0 { starterIndex = write }
            lastClass = ccc
            scalars[write] = cp
            write += 1
        }
        scalars.removeSubrange(write...)
    }

    // MARK: Lookups

    static func combiningClass(_ cp: UInt32) -> UInt8 {
        guard cp >= 0x300 else { return 0 }
        let table = UnicodeNormalizationTables.combiningClassRanges
        var low = 0, high = table.count / 3
        while low < high {
            let mid = (low + high) / 2
            if table[mid * 3 + 1] < cp { low = mid + 1 } else { high = mid }
        }
        guard low < table.count / 3, table[low * 3] <= cp else { return 0 }
        return UInt8(table[low * 3 + 2])
    }

    private static func decompositionEntry(_ cp: UInt32) -> UInt32? {
        let table = UnicodeNormalizationTables.decompositionEntries
        var low = 0, high = table.count / 2
        while low < high {
            let mid = (low + high) / 2
            if table[mid * 2] < cp { low = mid + 1 } else { high = mid }
        }
        guard low < table.count / 2, table[low * 2] == cp else { return nil }
        return table[low * 2 + 1]
    }

    private static func primaryComposite(_ first: UInt32, _ second: UInt32) -> UInt32? {
        if first >= lBase, first < lBase + lCount, second >= vBase, second < vBase + vCount {
            return sBase + ((first - lBase) * vCount + (second - vBase)) * tCount
        }
        if first >= sBase, first < sBase + sCount, (first - sBase) % tCount == 0,
           second > tBase, second < tBase + tCount {
            return first + (second - tBase)
        }
        let key = UInt64(first) << 21 | UInt64(second)
        let table = UnicodeNormalizationTables.compositions
        var low = 0, high = table.count / 3
        while low < high {
            let mid = (low + high) / 2
            let midKey = UInt64(table[mid * 3]) << 32 | UInt64(table[mid * 3 + 1])
            if midKey < key { low = mid + 1 } else { high = mid }
        }
        guard low < table.count / 3, UInt64(table[low * 3]) << 32 | UInt64(table[low * 3 + 1]) == key else { return nil }
        return table[low * 3 + 2]
    }
}
