import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StalCore
import StalSieve

// bench-sieve: one JSON line per case.
//   sieve_run: a 20-rule user filter on a 20 KiB message (message parsed once), scripts/s
//   sieve_run_with_parse: the same, parsing the message on every run, scripts/s
//   sieve_compile: compile time of a 500-line script, ms
// Run: swift run -c release bench-sieve   (add --write DIR to also write the script and
// message files that `sieve-test` from dovecot-sieve can run for comparison)

/// The 20-rule filter, shared with `tools/bench/smtp-ingest --sieve`.
let filter = try! String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("filter.sieve").path, encoding: .utf8)

func message(bytes: Int) -> String {
    var text = "From: Someone <someone@example.net>\r\nTo: user+work@example.com\r\nSubject: Weekly numbers\r\n"
    text += "Date: Tue, 14 Nov 2023 22:13:20 +0100\r\nMessage-ID: <bench@example.net>\r\nX-Spam-Score: 2\r\n"
    text += "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    let line = "The quick brown fox jumps over the lazy dog; numbers follow 0123456789.\r\n"
    while text.utf8.count < bytes { text += line }
    return text
}

func longScript(lines: Int) -> String {
    var s = "require [\"fileinto\", \"variables\"];\n"
    var i = 0
    while s.split(separator: "\n").count < lines {
        s += "if header :contains \"subject\" \"topic \(i)\" {\n  set \"t\" \"\(i)\";\n  fileinto \"Topics/${t}\";\n  stop;\n}\n"
        i += 1
    }
    return s
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

let clock = ContinuousClock()
let now = Timestamp(secondsSinceEpoch: 1_700_000_000)
let text = message(bytes: 20 * 1024)
let script = try! SieveCompiler.compile(filter)
let parsed = SieveMIMEMessage(text)
let envelope = SieveEnvelope(from: "someone@example.net", to: "user+work@example.com")
let options = SieveRuntimeOptions.untrusted(now: now)

func runOnce(_ message: any SieveMessage) -> Int {
    var interpreter = SieveInterpreter(host: SieveNullHost(), options: options)
    return interpreter.run(script, context: SieveExecutionContext(message: message, envelope: envelope)).actions.count
}

var sink = 0
for _ in 0..<200 { sink &+= runOnce(parsed) }
let runs = 20_000
var elapsed = clock.measure { for _ in 0..<runs { sink &+= runOnce(parsed) } }
print("{\"name\":\"sieve_run\",\"parameters\":{\"rules\":20,\"message_bytes\":\(text.utf8.count),\"runs\":\(runs)},\"result\":\(Int(Double(runs) / seconds(elapsed))),\"unit\":\"scripts/s\"}")

let parseRuns = 5_000
elapsed = clock.measure { for _ in 0..<parseRuns { sink &+= runOnce(SieveMIMEMessage(text)) } }
print("{\"name\":\"sieve_run_with_parse\",\"parameters\":{\"rules\":20,\"message_bytes\":\(text.utf8.count),\"runs\":\(parseRuns)},\"result\":\(Int(Double(parseRuns) / seconds(elapsed))),\"unit\":\"scripts/s\"}")

let long = longScript(lines: 500)
for _ in 0..<5 { sink &+= (try! SieveCompiler.compile(long)).callCount }
let compileRuns = 200
elapsed = clock.measure { for _ in 0..<compileRuns { sink &+= (try! SieveCompiler.compile(long)).callCount } }
let ms = seconds(elapsed) * 1000 / Double(compileRuns)
print("{\"name\":\"sieve_compile\",\"parameters\":{\"lines\":500,\"bytes\":\(long.utf8.count),\"runs\":\(compileRuns)},\"result\":\(Double(Int(ms * 1000)) / 1000),\"unit\":\"ms\"}")

if let i = CommandLine.arguments.firstIndex(of: "--write"), i + 1 < CommandLine.arguments.count {
    let dir = CommandLine.arguments[i + 1]
    func write(_ name: String, _ content: String) {
        let path = dir + "/" + name
        guard let f = fopen(path, "w") else { return }
        fputs(content, f)
        fclose(f)
    }
    write("filter.sieve", filter)
    write("message.eml", text)
    write("long.sieve", long)
}
if sink == 42 { print("") }
