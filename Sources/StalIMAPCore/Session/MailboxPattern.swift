/// LIST wildcards (RFC 3501 §6.3.8): `*` matches anything, `%` anything but the hierarchy
/// delimiter. INBOX matches case-insensitively.
public struct MailboxPattern: Sendable {
    private let pattern: [Character]
    private let delimiter: Character

    public init(reference: String, pattern: String, delimiter: Character = "/") {
        var full = pattern
        if !reference.isEmpty && !pattern.hasPrefix(String(delimiter)) {
            full = reference.hasSuffix(String(delimiter)) || pattern.isEmpty ? reference + pattern : reference + String(delimiter) + pattern
        }
        self.pattern = Array(Self.foldingInbox(full))
        self.delimiter = delimiter
    }

    private static func foldingInbox(_ name: String) -> String {
        let upper = name.prefix(5).uppercased()
        guard upper == "INBOX", name.count == 5 || name.dropFirst(5).first == "/" else { return name }
        return "INBOX" + name.dropFirst(5)
    }

    public func matches(_ name: String) -> Bool {
        let n = Array(Self.foldingInbox(name))
        var memo: [Int: Bool] = [:]
        func match(_ p: Int, _ i: Int) -> Bool {
            let key = p * (n.count + 1) + i
            if let known = memo[key] { return known }
            let result: Bool
            if p == pattern.count {
                result = i == n.count
            } else if pattern[p] == "*" {
                result = match(p + 1, i) || (i < n.count && match(p, i + 1))
            } else if pattern[p] == "%" {
                result = match(p + 1, i) || (i < n.count && n[i] != delimiter && match(p, i + 1))
            } else {
                result = i < n.count && n[i] == pattern[p] && match(p + 1, i + 1)
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }
}
