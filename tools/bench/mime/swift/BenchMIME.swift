import Foundation
import Glibc
import StalMIME

// bench-mime: `bench-mime generate DIR` writes the benchmark corpus (deterministic);
// `bench-mime run DIR` measures StalMIME's parse throughput on it in three modes and
// prints one JSON line per mode. tools/bench/mime/run drives it beside GMime and Python.

struct Generator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }

    static let words = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an "
        + "they you were her she there been one all we their has would when if so no will more can who said about its up out "
        + "meeting report budget server cluster deploy invoice schedule review proposal customer release ticket update").split(separator: " ").map(String.init)
    static let accented = ["café", "Grüße", "naïve", "résumé", "Zürich", "señor", "façade", "Ærø", "smørrebrød", "über"]

    mutating func sentence(_ n: Int, accents: Bool = false) -> String {
        var w: [String] = []
        for _ in 0..<n { w.append(accents && int(0...6) == 0 ? Self.accented[int(0...9)] : Self.words[int(0...(Self.words.count - 1))]) }
        return w.joined(separator: " ")
    }

    mutating func paragraphs(bytes: Int, accents: Bool = false) -> String {
        var out = ""
        while out.utf8.count < bytes {
            var line = ""
            while line.utf8.count < 60 { line += (line.isEmpty ? "" : " ") + sentence(int(3...8), accents: accents) }
            out += line + (int(0...5) == 0 ? ".\n\n" : "\n")
        }
        return out
    }

    mutating func header(subject: String, extra: [String] = []) -> String {
        var h = ""
        for i in 0..<int(2...6) {
            h += "Received: from mx\(i).example.net (mx\(i).example.net [192.0.2.\(int(1...250))])\n\tby mail.example.org (Postfix) with ESMTPS id \(String(next(), radix: 16).prefix(10).uppercased())\n\tfor <user@example.org>; Tue, 24 Nov 2026 \(int(10...23)):\(int(10...59)):\(int(10...59)) +0000\n"
        }
        h += "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=sel1;\n\th=from:to:subject:date:message-id; bh=\(String(repeating: "Ab3d", count: 11));\n\tb=\(String(repeating: "QmFzZTY0U2lnbmF0dXJl", count: 8))\n"
        h += "From: \"\(sentence(2).capitalized)\" <sender\(int(1...999))@example.net>\n"
        h += "To: Team <team@example.org>, \(sentence(1)) <user\(int(1...99))@example.org>\n"
        if int(0...1) == 0 { h += "Cc: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jm@example.de>\n" }
        h += "Subject: \(subject)\n"
        h += "Date: Tue, 24 Nov 2026 \(int(10...23)):\(int(10...59)):\(int(10...59)) +0100\n"
        h += "Message-ID: <\(String(next(), radix: 36))@example.net>\n"
        if int(0...2) == 0 { h += "In-Reply-To: <\(String(next(), radix: 36))@example.org>\nReferences: <\(String(next(), radix: 36))@example.org>\n <\(String(next(), radix: 36))@example.org>\n" }
        if int(0...3) == 0 { h += "List-Id: <dev.lists.example.org>\nList-Unsubscribe: <mailto:dev-leave@lists.example.org>, <https://lists.example.org/u>\n" }
        h += "MIME-Version: 1.0\n"
        for e in extra { h += e + "\n" }
        return h
    }

    mutating func base64Lines(_ n: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: n)
        for i in stride(from: 0, to: n, by: 8) {
            let v = next()
            for k in 0..<min(8, n - i) { bytes[i + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) }
        }
        return String(decoding: Base64.encode(bytes), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    func qp(_ s: String) -> String {
        String(decoding: QuotedPrintable.encode(Array(s.utf8)), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// `textOnly` leaves out the messages with base64 attachments (kinds 7 and 8).
    mutating func message(_ i: Int, textOnly: Bool) -> [UInt8] {
        var kind = i % 10
        if textOnly, kind == 7 || kind == 8 { kind = kind == 7 ? 4 : 0 }
        let b = "----=_Part_\(i)_\(next() % 100000)"
        let b2 = "----=_Alt_\(i)_\(next() % 100000)"
        var text: String
        switch kind {
        case 0...3:
            let body = paragraphs(bytes: int(1500...20000), accents: kind == 3)
            text = header(subject: sentence(int(3...9)), extra: kind == 3
                ? ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"]
                : ["Content-Type: text/plain; charset=us-ascii; format=flowed", "Content-Transfer-Encoding: 7bit"])
            text += "\n" + (kind == 3 ? qp(body) : body)
        case 4...6:
            let plain = paragraphs(bytes: int(1000...10000), accents: true)
            text = header(subject: "=?utf-8?q?" + sentence(3).replacingOccurrences(of: " ", with: "_") + "_=E2=9C=93?=",
                          extra: ["Content-Type: multipart/alternative; boundary=\"\(b2)\""])
            text += "\n--\(b2)\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n\(qp(plain))\n"
            let html = "<html><head><style>p{margin:0}</style></head><body>" + plain.split(separator: "\n").map { "<p>\($0)</p>" }.joined(separator: "\n") + "</body></html>"
            text += "--\(b2)\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n\(qp(html))\n--\(b2)--\n"
        case 7, 8:
            let plain = paragraphs(bytes: int(500...4000))
            text = header(subject: sentence(4), extra: ["Content-Type: multipart/mixed; boundary=\"\(b)\""])
            text += "\nThis is a multi-part message in MIME format.\n\n--\(b)\nContent-Type: multipart/alternative; boundary=\"\(b2)\"\n\n"
            text += "--\(b2)\nContent-Type: text/plain; charset=us-ascii\n\n\(plain)\n--\(b2)\nContent-Type: text/html; charset=us-ascii\n\n<div>\(plain)</div>\n--\(b2)--\n"
            for k in 0..<int(1...3) {
                let names = ["report.pdf", "photo.jpg", "data.xlsx", "Übersicht März.docx"]
                let name = names[int(0...3)]
                let nameParam = name.utf8.contains { $0 >= 0x80 } ? "name*=utf-8''%C3%9Cbersicht%20M%C3%A4rz.docx" : "name=\"\(name)\""
                text += "--\(b)\nContent-Type: application/octet-stream; \(nameParam)\nContent-Disposition: attachment;\n filename=\"file\(k)\"\nContent-Transfer-Encoding: base64\n\n\(base64Lines(int(20_000...300_000)))\n"
            }
            text += "--\(b)--\n"
        default:
            let charsets: [(String, String, String)] = [
                ("iso-8859-1", "quoted-printable", "Les élèves français étudient à l'école. Déjà vu, naïveté, cœur.\n"),
                ("koi8-r", "8bit", "Привет мир, это тестовое сообщение на русском языке.\n"),
                ("iso-2022-jp", "7bit", "こんにちは世界、これは日本語のテストメッセージです。\n"),
                ("shift_jis", "base64", "日本語の本文をシフトJISで符号化しました。\n"),
                ("windows-1252", "quoted-printable", "Smart “quotes” and — dashes … and € signs.\n"),
                ("gb2312", "base64", "这是一个中文测试邮件的正文内容。\n"),
            ]
            let (cs, cte, line) = charsets[i / 10 % charsets.count]
            let body = String(repeating: line, count: int(20...200))
            let encoded = encode(body, charset: cs)
            var payload: String
            switch cte {
            case "quoted-printable": payload = String(decoding: QuotedPrintable.encode(encoded), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            case "base64": payload = String(decoding: Base64.encode(encoded), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            default: payload = String(decoding: encoded, as: UTF8.self)
            }
            if cs == "koi8-r" {
                // 8bit koi8-r: write raw bytes below.
                let head = header(subject: "=?koi8-r?b?" + String(decoding: Base64.encode(encode("Привет", charset: cs), lineLength: 0), as: UTF8.self) + "?=",
                                  extra: ["Content-Type: text/plain; charset=\(cs)", "Content-Transfer-Encoding: \(cte)"])
                return crlf(Array((head + "\n").utf8) + encoded)
            }
            text = header(subject: "=?\(cs)?b?" + String(decoding: Base64.encode(encode("テスト", charset: cs), lineLength: 0), as: UTF8.self) + "?=",
                          extra: ["Content-Type: text/plain; charset=\"\(cs)\"", "Content-Transfer-Encoding: \(cte)"])
            text += "\n" + payload
        }
        return crlf(Array(text.utf8))
    }

    /// UTF-8 to `charset` through iconv.
    func encode(_ s: String, charset: String) -> [UInt8] {
        let cd = iconv_open(charset.uppercased() + "//TRANSLIT", "UTF-8")
        guard Int(bitPattern: cd) != -1 else { return Array(s.utf8) }
        defer { iconv_close(cd) }
        var input = Array(s.utf8)
        var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuf.count
                var outLeft = outBuf.count
                _ = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                _ = iconv(cd, nil, nil, &outPtr, &outLeft)
                return outBuf.count - outLeft
            }
        }
        return Array(output[..<produced])
    }

    func crlf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 30)
        for b in bytes { if b == 10 { out.append(13) }; out.append(b) }
        return out
    }
}

func loadCorpus(_ dir: String) -> [[UInt8]] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
    return names.compactMap { FileManager.default.contents(atPath: dir + "/" + $0).map { [UInt8]($0) } }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Results are summed and printed as `checksum` so the optimizer cannot drop the work.
/// `bench-mime run DIR SECONDS MODE` measures one mode only (for profiling).
let onlyMode = CommandLine.arguments.count >= 5 ? CommandLine.arguments[4] : nil

func measure(_ name: String, _ corpus: [[UInt8]], corpusName: String, seconds: Double, _ body: ([UInt8]) -> Int) {
    if let only = onlyMode, only != name { return }
    var sink = 0
    let total = corpus.reduce(0) { $0 + $1.count }
    for m in corpus { sink &+= body(m) }  // warm-up pass
    var rounds = 0
    let start = now()
    while now() - start < seconds || rounds < 1 {
        for m in corpus { sink &+= body(m) }
        rounds += 1
    }
    let elapsed = now() - start
    let mbps = Double(total * rounds) / elapsed / 1e6
    print(#"{"name":"mime_parse","parameters":{"library":"stal","mode":"\#(name)","corpus":"\#(corpusName)","messages":\#(corpus.count),"corpus_bytes":\#(total),"rounds":\#(rounds),"checksum":\#(sink & 0xFFFF)},"result":\#((mbps * 10).rounded() / 10),"unit":"MB/s"}"#)
}

let args = CommandLine.arguments
if args.count >= 3, args[1] == "generate" {
    let dir = args[2]
    let count = args.count >= 4 ? Int(args[3]) ?? 300 : 300
    let textOnly = args.count >= 5 && args[4] == "text"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var g = Generator(state: 20261125)
    for i in 0..<count {
        let bytes = g.message(i, textOnly: textOnly)
        guard FileManager.default.createFile(atPath: dir + "/" + String(format: "%04d.eml", i), contents: Data(bytes)) else {
            FileHandle.standardError.write(Data("bench-mime: cannot write to \(dir)\n".utf8))
            exit(1)
        }
    }
} else if args.count >= 3, args[1] == "run" {
    let corpus = loadCorpus(args[2])
    let seconds = args.count >= 4 ? Double(args[3]) ?? 3 : 3
    let corpusName = URL(fileURLWithPath: args[2]).lastPathComponent
    measure("headers", corpus, corpusName: corpusName, seconds: seconds) { bytes in
        let m = MIMEMessage.parseHeader(bytes)
        var n = m.root.headers.count
        n &+= m.text(named: "Subject")?.utf8.count ?? 0
        if let f = m.field(named: "From") { n &+= AddressParser.addresses(m.rawValue(f)).count }
        if let d = m.field(named: "Date") { n &+= HeaderValue.date(m.rawValue(d))?.day ?? 0 }
        return n
    }
    measure("structure", corpus, corpusName: corpusName, seconds: seconds) { bytes in
        let m = MIMEMessage.parse(bytes)
        var n = 0
        for p in m.parts { n &+= p.contentType.subtype.utf8.count &+ p.end }
        return n
    }
    measure("decode", corpus, corpusName: corpusName, seconds: seconds) { bytes in
        let m = MIMEMessage.parse(bytes)
        var n = 0
        for i in m.parts.indices where !m.parts[i].isMultipart {
            if m.parts[i].contentType.isText { n &+= m.decodedText(of: i).text.utf8.count } else { n &+= m.decodedBody(of: i).bytes.count }
        }
        return n
    }
} else {
    FileHandle.standardError.write(Data("usage: bench-mime generate DIR [COUNT [text]] | run DIR [SECONDS [MODE]]\n".utf8))
    exit(2)
}
