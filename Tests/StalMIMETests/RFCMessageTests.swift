import Foundation
import Testing
@testable import StalMIME

/// The RFC example messages of mail-parser (../shared/testdata/mime/mail-parser/eml/rfc),
/// compared with its expectations: the tree shape, the decoded text of every text part,
/// and textBody/htmlBody/attachments. Offsets are not compared (they are that library's).
@Suite struct RFCMessageTests {
    static let dir = sharedTestData("mime/mail-parser/eml/rfc")

    /// Our parts in that library's order: pre-order, an encapsulated message's parts
    /// kept inside its message/rfc822 part.
    static func flatten(_ m: MIMEMessage, from root: Int) -> [Int] {
        var out: [Int] = []
        var stack = [root]
        while let i = stack.popLast() {
            out.append(i)
            if case .multipart(let c) = m.parts[i].body { stack.append(contentsOf: c.reversed()) }
        }
        return out
    }

    static func compare(_ m: MIMEMessage, root: Int, _ expected: [String: Any], _ label: String) -> [String] {
        var problems: [String] = []
        let ours = flatten(m, from: root)
        let theirs = expected["parts"] as! [[String: Any]]
        guard ours.count == theirs.count else { return ["\(label): \(ours.count) parts, expected \(theirs.count)"] }
        for (k, (mine, want)) in zip(ours, theirs).enumerated() {
            let body = want["body"] as! [String: Any]
            let kind = body.keys.first!
            let p = m.parts[mine]
            switch kind {
            case "Multipart":
                if !p.isMultipart { problems.append("\(label) part \(k): expected multipart") }
            case "Message":
                let nested = body["Message"] as! [String: Any]
                if case .message(let inner) = p.body {
                    problems += compare(m, root: inner, nested, "\(label).\(k)")
                } else if !p.contentType.isEncapsulatedMessage {
                    problems.append("\(label) part \(k): expected a message, got \(p.contentType.mimeType)")
                }
            case "Text", "Html":
                // That library shows undecodable base64 of audio/image parts as text; Stal
                // keeps them binary and flags the decoding problem.
                guard p.contentType.isText else { continue }
                let text = body[kind] as! String
                let got = m.decodedText(of: mine).text
                if normalized(got) != normalized(text) {
                    problems.append("\(label) part \(k): text \(got.debugDescription) expected \(text.debugDescription)")
                }
            default:
                if p.isMultipart { problems.append("\(label) part \(k): unexpected multipart") }
            }
        }
        return problems
    }

    /// That library keeps the line break before a boundary in the last line of a text
    /// part; RFC 2046 §5.1.1 gives it to the boundary. Compare without trailing breaks.
    static func normalized(_ s: String) -> String {
        var t = s.replacingOccurrences(of: "\r\n", with: "\n")
        while t.hasSuffix("\n") { t.removeLast() }
        return t
    }

    @Test(arguments: (0...9).map { String(format: "%03d", $0) })
    func rfcMessage(_ name: String) throws {
        let raw = try [UInt8](Data(contentsOf: Self.dir.appendingPathComponent("\(name).eml")))
        let lf = raw.filter { $0 != 13 }
        var crlfBytes: [UInt8] = []
        for b in lf { if b == 10 { crlfBytes.append(13) }; crlfBytes.append(b) }
        for (bytes, file) in [(lf, "\(name).json"), (crlfBytes, "\(name).crlf.json")] {
            let data = try Data(contentsOf: Self.dir.appendingPathComponent(file))
            let expected = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let m = MIMEMessage.parse(bytes)
            let problems = Self.compare(m, root: 0, expected, file)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }
    }

    /// RFC 8621 §4.1.4's own example (007.eml): the lists the RFC gives.
    @Test func rfc8621BodyListsExample() throws {
        let raw = try [UInt8](Data(contentsOf: Self.dir.appendingPathComponent("007.eml")))
        let m = MIMEMessage.parse(raw)
        let lists = m.jmapBodyLists()
        #expect(lists.textBody.map(\.partId) == ["1", "2.1.1.1", "2.1.1.2", "2.1.1.3", "3"])
        #expect(lists.htmlBody.map(\.partId) == ["1", "2.1.2.1", "3"])
        #expect(lists.attachments.map(\.partId) == ["2.1.1.2", "2.1.2.2", "2.2", "2.3", "2.4"])
    }

    /// mail-parser's text/html/attachment lists agree with RFC 8621 except where noted.
    @Test(arguments: (1...9).map { String(format: "%03d", $0) })
    func bodyListsMatchLibrary(_ name: String) throws {
        let raw = try [UInt8](Data(contentsOf: Self.dir.appendingPathComponent("\(name).eml")))
        let data = try Data(contentsOf: Self.dir.appendingPathComponent("\(name).json"))
        let expected = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let m = MIMEMessage.parse(raw)
        let order = Self.flatten(m, from: 0)
        let lists = m.jmapBodyLists()
        func indexes(_ l: [JMAPBodyPart]) -> [Int] { l.map { order.firstIndex(of: $0.part) ?? -1 } }
        #expect(indexes(lists.textBody) == expected["text_body"] as! [Int], "text_body")
        #expect(indexes(lists.htmlBody) == expected["html_body"] as! [Int], "html_body")
        #expect(indexes(lists.attachments) == expected["attachments"] as! [Int], "attachments")
    }
}

/// The CPython email package's test messages (../shared/testdata/mime/cpython-email): all
/// must parse, render every view, and keep offsets inside the message.
@Suite struct CPythonMessageTests {
    static let dir = sharedTestData("mime/cpython-email")

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasPrefix("msg_") }.sorted()
    }

    @Test(arguments: names)
    func parsesAndRendersEveryView(_ name: String) throws {
        let raw = try [UInt8](Data(contentsOf: Self.dir.appendingPathComponent(name)))
        let m = MIMEMessage.parse(raw)
        #expect(!m.parts.isEmpty)
        for p in m.parts {
            #expect(p.headerStart <= p.bodyStart && p.bodyStart <= p.end && p.end <= raw.count)
        }
        #expect(m.imapBodyStructure(extended: true).hasPrefix("("))
        #expect(m.imapEnvelope().hasPrefix("("))
        let json = MessageInspection.json(for: raw)
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
        for i in m.parts.indices where !m.parts[i].isMultipart {
            let path = m.sectionPath(of: i)
            #expect(m.section(path: path.isEmpty ? [1] : path) != nil, "part \(i) at \(path)")
        }
    }
}
