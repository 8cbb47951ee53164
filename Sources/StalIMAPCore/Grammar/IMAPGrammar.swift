/// Character classes of RFC 3501 §9.
enum IMAPGrammar {
    static func isAtomChar(_ c: UInt8) -> Bool {
        switch c {
        case 0...0x20, 0x7F...: return false
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "*"),
             UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
            return false
        default: return true
        }
    }

    static func isAStringChar(_ c: UInt8) -> Bool { isAtomChar(c) || c == UInt8(ascii: "]") }

    static func isTagChar(_ c: UInt8) -> Bool { isAStringChar(c) && c != UInt8(ascii: "+") }

    static func isListChar(_ c: UInt8) -> Bool {
        isAStringChar(c) || c == UInt8(ascii: "%") || c == UInt8(ascii: "*")
    }

    /// Whether a string can be sent as an atom rather than quoted or as a literal.
    static func canBeAtom(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(isAtomChar)
    }
}
