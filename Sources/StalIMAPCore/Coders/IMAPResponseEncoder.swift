import StalCore

/// Writes responses in wire form. Strings become atoms, quoted strings or literals
/// depending on their bytes, so any value round-trips.
public struct IMAPResponseEncoder: Sendable {
    public init() {}

    public func encode(_ response: IMAPResponse) -> [UInt8] {
        var out: [UInt8] = []
        encode(response, into: &out)
        return out
    }

    public func encode(_ response: IMAPResponse, into out: inout [UInt8]) {
        switch response {
        case .tagged(let tag, let status, let code, let text):
            out.append(contentsOf: tag.utf8)
            out.append(UInt8(ascii: " "))
            condition(status, code, text, into: &out)
        case .continuation(let text):
            out.append(contentsOf: "+ ".utf8)
            out.append(contentsOf: text.utf8)
        case .untagged(let u):
            out.append(contentsOf: "* ".utf8)
            untagged(u, into: &out)
        }
        out.append(contentsOf: "\r\n".utf8)
    }

    private func condition(_ status: ResponseStatus, _ code: ResponseCode?, _ text: String, into out: inout [UInt8]) {
        out.append(contentsOf: status.rawValue.utf8)
        if let code {
            out.append(contentsOf: " [".utf8)
            out.append(contentsOf: code.text.utf8)
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: (text.isEmpty ? "completed" : text).utf8)
    }

    private func untagged(_ u: UntaggedResponse, into out: inout [UInt8]) {
        switch u {
        case .condition(let status, let code, let text):
            condition(status, code, text, into: &out)
        case .capability(let caps):
            out.append(contentsOf: ("CAPABILITY " + caps.joined(separator: " ")).utf8)
        case .enabled(let caps):
            out.append(contentsOf: (["ENABLED"] + caps).joined(separator: " ").utf8)
        case .id(let parameters):
            out.append(contentsOf: "ID ".utf8)
            guard let parameters, !parameters.isEmpty else {
                out.append(contentsOf: "NIL".utf8)
                return
            }
            out.append(UInt8(ascii: "("))
            for (i, p) in parameters.enumerated() {
                if i > 0 { out.append(UInt8(ascii: " ")) }
                string(Array(p.key.utf8), into: &out)
                out.append(UInt8(ascii: " "))
                nstring(p.value.map { Array($0.utf8) }, into: &out)
            }
            out.append(UInt8(ascii: ")"))
        case .namespace(let prefix, let delimiter):
            out.append(contentsOf: "NAMESPACE ((".utf8)
            string(Array(prefix.utf8), into: &out)
            out.append(UInt8(ascii: " "))
            string(Array(String(delimiter).utf8), into: &out)
            out.append(contentsOf: ")) NIL NIL".utf8)
        case .list(let entry):
            out.append(contentsOf: "LIST ".utf8)
            list(entry, into: &out)
        case .lsub(let entry):
            out.append(contentsOf: "LSUB ".utf8)
            list(entry, into: &out)
        case .status(let mailbox, let items):
            out.append(contentsOf: "STATUS ".utf8)
            mailboxName(mailbox, into: &out)
            out.append(contentsOf: " (".utf8)
            out.append(contentsOf: items.map { "\($0.attribute.rawValue) \($0.value)" }.joined(separator: " ").utf8)
            out.append(UInt8(ascii: ")"))
        case .flags(let flags):
            out.append(contentsOf: ("FLAGS (" + flags.joined(separator: " ") + ")").utf8)
        case .exists(let n):
            out.append(contentsOf: "\(n) EXISTS".utf8)
        case .recent(let n):
            out.append(contentsOf: "\(n) RECENT".utf8)
        case .expunge(let n):
            out.append(contentsOf: "\(n) EXPUNGE".utf8)
        case .search(let numbers):
            out.append(contentsOf: "SEARCH".utf8)
            for n in numbers {
                out.append(UInt8(ascii: " "))
                out.append(contentsOf: String(n).utf8)
            }
        case .fetch(let seq, let items):
            out.append(contentsOf: "\(seq) FETCH (".utf8)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: " ")) }
                fetchItem(item, into: &out)
            }
            out.append(UInt8(ascii: ")"))
        }
    }

    private func list(_ entry: ListEntry, into out: inout [UInt8]) {
        out.append(contentsOf: ("(" + entry.attributes.joined(separator: " ") + ") ").utf8)
        if let d = entry.delimiter {
            string(Array(String(d).utf8), into: &out)
        } else {
            out.append(contentsOf: "NIL".utf8)
        }
        out.append(UInt8(ascii: " "))
        mailboxName(entry.name, into: &out)
    }

    private func mailboxName(_ name: String, into out: inout [UInt8]) {
        let encoded = Array(ModifiedUTF7.encode(name).utf8)
        if IMAPGrammar.canBeAtom(encoded) {
            out.append(contentsOf: encoded)
        } else {
            string(encoded, into: &out)
        }
    }

    private func fetchItem(_ item: FetchItem, into out: inout [UInt8]) {
        switch item {
        case .flags(let flags):
            out.append(contentsOf: ("FLAGS (" + flags.joined(separator: " ") + ")").utf8)
        case .uid(let uid):
            out.append(contentsOf: "UID \(uid)".utf8)
        case .internalDate(let t):
            out.append(contentsOf: "INTERNALDATE \"\(CivilDateTime(t).imapDateTime)\"".utf8)
        case .rfc822Size(let n):
            out.append(contentsOf: "RFC822.SIZE \(n)".utf8)
        case .envelope(let wire):
            out.append(contentsOf: "ENVELOPE ".utf8)
            out.append(contentsOf: wire)
        case .body(let wire):
            out.append(contentsOf: "BODY ".utf8)
            out.append(contentsOf: wire)
        case .bodyStructure(let wire):
            out.append(contentsOf: "BODYSTRUCTURE ".utf8)
            out.append(contentsOf: wire)
        case .bodySection(let section, let origin, let data):
            out.append(contentsOf: "BODY[\(section.wireText)]".utf8)
            if let origin { out.append(contentsOf: "<\(origin)>".utf8) }
            out.append(UInt8(ascii: " "))
            if let data { literal(data, into: &out) } else { out.append(contentsOf: "NIL".utf8) }
        case .rfc822(let data):
            out.append(contentsOf: "RFC822 ".utf8)
            literal(data, into: &out)
        case .rfc822Header(let data):
            out.append(contentsOf: "RFC822.HEADER ".utf8)
            literal(data, into: &out)
        case .rfc822Text(let data):
            out.append(contentsOf: "RFC822.TEXT ".utf8)
            literal(data, into: &out)
        }
    }

    func nstring(_ bytes: [UInt8]?, into out: inout [UInt8]) {
        guard let bytes else {
            out.append(contentsOf: "NIL".utf8)
            return
        }
        string(bytes, into: &out)
    }

    /// A quoted string when the bytes allow it, otherwise a literal.
    func string(_ bytes: [UInt8], into out: inout [UInt8]) {
        let quotable = bytes.count <= 1024 && bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        guard quotable else {
            literal(bytes, into: &out)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }

    func literal(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: "{\(bytes.count)}\r\n".utf8)
        out.append(contentsOf: bytes)
    }
}
