/// An RFC 3463 enhanced status code (`class.subject.detail`, e.g. `5.1.1`).
public struct EnhancedStatusCode: Hashable, Sendable, CustomStringConvertible {
    public var statusClass: Int
    public var subject: Int
    public var detail: Int

    public init(_ statusClass: Int, _ subject: Int, _ detail: Int) {
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(statusClass).\(subject).\(detail)" }
}

/// One SMTP reply: a three-digit code, an optional enhanced status code and one or more
/// text lines. Multi-line replies use `code-text` on every line but the last (RFC 5321 §4.2.1).
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var enhancedCode: EnhancedStatusCode?
    public var lines: [String]

    public init(_ code: Int, _ enhancedCode: EnhancedStatusCode?, _ lines: [String]) {
        precondition((200...599).contains(code) || code == 334 || code == 354, "SMTP reply code out of range")
        precondition(!lines.isEmpty, "an SMTP reply has at least one line")
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines
    }

    public init(_ code: Int, _ enhancedCode: EnhancedStatusCode?, _ text: String) {
        self.init(code, enhancedCode, [text])
    }

    public var isPositive: Bool { code < 400 }
    public var isPermanentFailure: Bool { code >= 500 }

    /// The wire form, each line terminated by CRLF. Text never contains CR or LF: callers
    /// build it from validated values, and `sanitized` strips them as a last line of defence.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 16 })
        let codeText = String(code)
        for (i, line) in lines.enumerated() {
            out.append(contentsOf: codeText.utf8)
            out.append(i == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if let enhancedCode {
                out.append(contentsOf: enhancedCode.description.utf8)
                if !line.isEmpty { out.append(UInt8(ascii: " ")) }
            }
            out.append(contentsOf: Self.sanitized(line).utf8)
            out.append(contentsOf: [13, 10])
        }
        return out
    }

    public var description: String { String(decoding: encode(), as: UTF8.self) }

    static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return text }
        return String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }.map(Character.init))
    }
}
