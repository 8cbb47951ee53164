/// A JSON value with a hand-written encoder, so pure targets can produce JMAP objects and
/// inspection output without Foundation. Objects keep their key order.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case .bool(let b): h.combine(b)
        case .int(let i): h.combine(i)
        case .string(let s): h.combine(s)
        case .array(let a): h.combine(a)
        case .object(let o): for (k, v) in o { h.combine(k); h.combine(v) }
        }
    }

    public static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o.first { $0.0 == key }?.1 }
        return nil
    }

    /// Compact JSON, or indented with two spaces when `pretty`.
    public func encoded(pretty: Bool = false) -> String {
        var out: [UInt8] = []
        write(&out, pretty: pretty, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(_ out: inout [UInt8], pretty: Bool, indent: Int) {
        func newline(_ level: Int) {
            guard pretty else { return }
            out.append(ASCII.lf)
            out.append(contentsOf: repeatElement(ASCII.space, count: level * 2))
        }
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .string(let s): Self.writeString(s, &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(ASCII.comma) }
                newline(indent + 1)
                item.write(&out, pretty: pretty, indent: indent + 1)
            }
            if !items.isEmpty { newline(indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out.append(ASCII.comma) }
                newline(indent + 1)
                Self.writeString(k, &out)
                out.append(ASCII.colon)
                if pretty { out.append(ASCII.space) }
                v.write(&out, pretty: pretty, indent: indent + 1)
            }
            if !members.isEmpty { newline(indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, _ out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(ASCII.quote)
        for b in s.utf8 {
            switch b {
            case ASCII.quote: out.append(contentsOf: [ASCII.backslash, ASCII.quote])
            case ASCII.backslash: out.append(contentsOf: [ASCII.backslash, ASCII.backslash])
            case ASCII.lf: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "n")])
            case ASCII.cr: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "r")])
            case ASCII.tab: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(ASCII.quote)
    }
}
