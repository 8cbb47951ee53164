import ArgumentParser
import Foundation
import Logging
import StalMIME
import StalNode

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
        let node = try await StalNode.start(configuration, logger: Logger(label: "stald"))
        FileHandle.standardOutput.write(Data(StartupBanner.text(node: node).utf8))

        await SignalWaiter.waitForTermination()
        FileHandle.standardOutput.write(Data("stald: shutting down\n".utf8))
        await node.shutdown()
    }
}

struct Debug: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspection tools for operators and bug reports.",
        subcommands: [Message.self])

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
