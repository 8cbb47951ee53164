import Foundation
import StalCore
import StalSieve

/// Runs Pigeonhole `.svtest` files: implements enough of `vnd.dovecot.testsuite` (test blocks,
/// test_fail, test_set, test_message, script compile/run, result inspection and execution,
/// config settings) on top of StalSieve, with an in-memory mail store and SMTP capture.
public final class SieveTestSuiteRunner {
    public enum Status: String, Sendable { case passed = "pass", failed = "fail", notApplicable = "not-applicable" }

    public struct BlockResult: Sendable {
        public var file: String
        public var name: String
        public var status: Status
        public var reason: String?
    }

    public struct FileReport: Sendable {
        public var path: String
        public var blocks: [BlockResult]
        /// Set when the file itself could not run (compile error, unsupported extension).
        public var fileError: String?
    }

    /// Blocks whose expectations are specific to Pigeonhole, with the reason they do not apply.
    public static let notApplicable: [String: String] = [
        "extensions/environment/basic.svtest::Name": "expects the implementation name \"Pigeonhole Sieve\"",
        "execute/errors-cpu-limit.svtest::CPU limit": "depends on a CPU-time limit; Stal limits instructions instead",
    ]

    static let unsupportedExtensions: Set<String> = ["vnd.dovecot.debug"]

    public let now: Timestamp
    private let testsuiteExtension: SieveCustomExtension

    public init(now: Timestamp = Timestamp(secondsSinceEpoch: 1_700_000_000)) {
        self.now = now
        testsuiteExtension = Self.makeExtension()
    }

    private static func makeExtension() -> SieveCustomExtension {
        let match: [SieveTagSpec] = [
            SieveTagSpec("is", group: "match-type"), SieveTagSpec("contains", group: "match-type"),
            SieveTagSpec("matches", group: "match-type"), SieveTagSpec("count", value: .string, group: "match-type"),
            SieveTagSpec("value", value: .string, group: "match-type"), SieveTagSpec("comparator", value: .string, group: "comparator"),
            SieveTagSpec("index", value: .number),
        ]
        return SieveCustomExtension(name: "vnd.dovecot.testsuite", commands: [
            SieveCommandSpec("test", .command, positional: [.init(.string, "test name")], block: .required),
            SieveCommandSpec("test_fail", .command, positional: [.init(.string, "reason")]),
            SieveCommandSpec("test_set", .command, positional: [.init(.string, "object"), .init(.string, "value")]),
            SieveCommandSpec("test_config_set", .command, positional: [.init(.string, "setting"), .init(.string, "value")]),
            SieveCommandSpec("test_config_unset", .command, positional: [.init(.string, "setting")]),
            SieveCommandSpec("test_config_reload", .command, tags: [SieveTagSpec("extension", value: .string)]),
            SieveCommandSpec("test_message", .test, tags: [SieveTagSpec("smtp", group: "source"), SieveTagSpec("folder", value: .string, group: "source")],
                             positional: [.init(.number, "index")]),
            SieveCommandSpec("test_message", .command, tags: [SieveTagSpec("smtp", group: "source"), SieveTagSpec("folder", value: .string, group: "source")],
                             positional: [.init(.number, "index")]),
            SieveCommandSpec("test_message_print", .command),
            SieveCommandSpec("test_result_print", .command),
            SieveCommandSpec("test_result_reset", .command),
            SieveCommandSpec("test_mailbox_create", .command, positional: [.init(.string, "mailbox")]),
            SieveCommandSpec("test_mailbox_delete", .command, positional: [.init(.string, "mailbox")]),
            SieveCommandSpec("test_binary_save", .command, positional: [.init(.string, "name")]),
            SieveCommandSpec("test_binary_load", .command, positional: [.init(.string, "name")]),
            SieveCommandSpec("test_imap_metadata_set", .command, tags: [SieveTagSpec("mailbox", value: .string)],
                             positional: [.init(.string, "annotation"), .init(.string, "value")]),
            SieveCommandSpec("test_script_compile", .test, positional: [.init(.string, "path")]),
            SieveCommandSpec("test_script_run", .test, tags: [SieveTagSpec("append_result")]),
            SieveCommandSpec("test_multiscript", .test, positional: [.init(.stringList, "scripts")]),
            SieveCommandSpec("test_result_execute", .test),
            SieveCommandSpec("test_error", .test, tags: match, positional: [.init(.stringList, "key list")]),
            SieveCommandSpec("test_result_action", .test, tags: match, positional: [.init(.stringList, "key list")]),
        ])
    }

    /// Runs one file and reports every test block.
    public func run(file path: String) -> FileReport {
        let url = URL(fileURLWithPath: path)
        let displayName = Self.displayName(path)
        guard var text = try? String(contentsOf: url, encoding: .utf8) else {
            return FileReport(path: displayName, blocks: [], fileError: "cannot read file")
        }
        if path.hasSuffix(".svtest.in") {
            text = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix("#UTF8#") ? String(line.dropFirst(6)) : String(line)
            }.joined(separator: "\n")
        }
        let blockNames = Self.blockNames(text)
        if let unsupported = Self.unsupportedExtensions.first(where: { text.contains("\"\($0)\"") }) {
            return FileReport(path: displayName, blocks: blockNames.map {
                BlockResult(file: displayName, name: $0, status: .notApplicable, reason: "requires extension \(unsupported), which Stal does not offer")
            }, fileError: nil)
        }
        let session = SieveTestSession(directory: url.deletingLastPathComponent().path, now: now, testsuite: testsuiteExtension, file: displayName)
        let script: SieveScript
        do {
            script = try SieveCompiler.compile(text, options: session.compileOptions)
        } catch {
            let reason = "test file does not compile: " + (error.diagnostics.first?.description ?? "")
            return FileReport(path: displayName, blocks: blockNames.map { BlockResult(file: displayName, name: $0, status: .failed, reason: reason) },
                              fileError: reason)
        }
        session.runTestFile(script)
        var blocks = session.blocks
        for i in blocks.indices {
            if let reason = Self.notApplicable["\(displayName)::\(blocks[i].name)"] {
                blocks[i].status = .notApplicable
                blocks[i].reason = reason
            }
        }
        let seen = Set(blocks.map(\.name))
        for name in blockNames where !seen.contains(name) {
            blocks.append(BlockResult(file: displayName, name: name, status: .failed,
                                      reason: session.fatalError ?? "test block never ran"))
        }
        return FileReport(path: displayName, blocks: blocks, fileError: session.fatalError)
    }

    /// `tests/...` relative name when the path lies in a Pigeonhole tree.
    static func displayName(_ path: String) -> String {
        if let r = path.range(of: "/tests/", options: .backwards) { return String(path[r.upperBound...]) }
        return (path as NSString).lastPathComponent
    }

    static func blockNames(_ text: String) -> [String] {
        var names: [String] = []
        for line in text.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("test \"") else { continue }
            var name = ""
            var escaped = false
            for c in t.dropFirst(6) {
                if escaped { name.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { break } else { name.append(c) }
            }
            names.append(name)
        }
        return names
    }

    /// Every `.svtest` / `.svtest.in` file below `directory`, sorted.
    public static func testFiles(in directory: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let f = e.nextObject() as? String {
            if f.hasSuffix(".svtest") || f.hasSuffix(".svtest.in") { files.append((directory as NSString).appendingPathComponent(f)) }
        }
        return files.sorted()
    }
}
