import ArgumentParser
import Foundation
import Logging
import StalCore
import StalMIME
import StalNode
import StalSieveTestSuite

@main
struct Stald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stald",
        abstract: "The Stal mail server node.",
        subcommands: [Serve.self, Debug.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a node (the default).")

    @Option(name: .long, help: "TOML configuration file; without it stald runs on embedded defaults.")
    var config: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let defaultData = env["STAL_DATA"] ?? FileManager.default.currentDirectoryPath + "/data"
        let configuration: NodeConfiguration
        if let config {
            let text: String
            do {
                text = try String(contentsOfFile: config, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read \(config): \(error.localizedDescription)")
            }
            do {
                configuration = try NodeConfiguration.parse(toml: text, defaultDataDirectory: defaultData)
            } catch let error as NodeConfiguration.ParseError {
                throw ValidationError("\(config): \(error.description)")
            }
        } else {
            configuration = .embeddedDefaults(dataDirectory: defaultData)
        }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = env["STAL_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
            return handler
        }
        var options = StalNode.Options()
        if configuration.cluster != nil {
            options.clusterAdminPassword = env["STAL_ADMIN_PASSWORD"]
        }
        let node = try await StalNode.start(configuration, options: options, logger: Logger(label: "stald"))
        FileHandle.standardOutput.write(Data(StartupBanner.text(node: node).utf8))

        await SignalWaiter.waitForTermination()
        FileHandle.standardOutput.write(Data("stald: shutting down\n".utf8))
        await node.shutdown()
    }
}

struct Debug: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspection tools for operators and bug reports.",
        subcommands: [Message.self, SieveTest.self, Sieve.self])

    struct Message: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a message file as parsed by Stal (headers, MIME tree with offsets, JMAP and IMAP views) as JSON.")

        @Argument(help: "An RFC 5322 message file.") var file: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            print(MessageInspection.json(for: [UInt8](data)))
        }
    }
}

extension Debug {
    struct SieveTest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sievetest",
            abstract: "Run Pigeonhole-style .svtest files: one line per test block, then 'N passed, N failed'.")

        @Argument(help: ".svtest files or directories holding them.") var paths: [String]

        func run() throws {
            var files: [String] = []
            for path in paths {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    files += SieveTestSuiteRunner.testFiles(in: path)
                } else {
                    files.append(path)
                }
            }
            let runner = SieveTestSuiteRunner()
            var passed = 0, failed = 0, notApplicable = 0
            for file in files {
                let report = runner.run(file: file)
                for block in report.blocks {
                    switch block.status {
                    case .passed: passed += 1
                    case .failed: failed += 1
                    case .notApplicable: notApplicable += 1
                    }
                    let reason = block.reason.map { " (\($0))" } ?? ""
                    print("\(block.status.rawValue): \(report.path): \(block.name)\(reason)")
                }
            }
            print("\(passed) passed, \(failed) failed" + (notApplicable > 0 ? ", \(notApplicable) not applicable" : ""))
            if failed > 0 { throw ExitCode.failure }
        }
    }

    struct Sieve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the diagnostics of a Sieve script, or the actions it takes on a message.")

        @Argument(help: "The Sieve script.") var script: String
        @Option(help: "An RFC 5322 message to run the script against.") var message: String?
        @Option(name: .customLong("envelope-from")) var envelopeFrom: String?
        @Option(name: .customLong("envelope-to")) var envelopeTo: String?

        func run() throws {
            let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
            let (lines, ok) = SieveDebugRun.describe(scriptPath: script, messagePath: message,
                                                     envelopeFrom: envelopeFrom, envelopeTo: envelopeTo, now: now)
            lines.forEach { print($0) }
            if !ok { throw ExitCode.failure }
        }
    }
}

enum SignalWaiter {
    /// Returns on the first SIGINT or SIGTERM.
    static func waitForTermination() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGINT, SIGTERM].map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            return source
        }
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}
