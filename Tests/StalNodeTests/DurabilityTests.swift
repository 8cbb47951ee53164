import Foundation
import Testing

/// `stald` as a separate process, killed with SIGKILL right after each `250`: every
/// acknowledged message must be there, byte-identical, after the restart.
@Suite(.serialized) struct DurabilityTests {
    final class ServerProcess: @unchecked Sendable {
        let process = Process()
        var ports: [String: Int] = [:]

        init(dataDirectory: String, configPath: String) throws {
            process.executableURL = URL(fileURLWithPath: TestPaths.executable("stald"))
            process.arguments = ["--config", configPath]
            process.environment = ProcessInfo.processInfo.environment.merging(["STAL_DATA": dataDirectory]) { $1 }
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            let reader = out.fileHandleForReading
            while !text.contains("\ndata ") {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            for line in text.split(separator: "\n") where line.hasPrefix("listening ") {
                let parts = line.split(separator: " ")
                if parts.count == 3, let port = parts[2].split(separator: ":").last.flatMap({ Int($0) }) {
                    ports[String(parts[1])] = port
                }
            }
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Writes `data/stal.toml` for a node in `data/node` with SMTP, IMAP and HTTP on ephemeral
    /// loopback ports and the other listeners off, followed by `sections`; returns its path.
    static func writeConfiguration(_ data: String, sections: String = "") throws -> String {
        let path = data + "/stal.toml"
        try """
            hostname = "mx.example.test"
            data_dir = "\(data)/node"

            [listeners]
            smtp = "127.0.0.1:0"
            imap = "127.0.0.1:0"
            http = "127.0.0.1:0"
            submission = "off"
            lmtp = "off"
            imaps = "off"

            \(sections)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func acknowledgedMessagesSurviveSIGKILL() async throws {
        let data = TestPaths.temporaryDirectory("durability")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let config = try Self.writeConfiguration(data)

        var server = try await blocking { try ServerProcess(dataDirectory: data + "/node", configPath: config) }
        let http = try #require(server.ports["http"])
        let stalctl = TestPaths.executable("stalctl")
        let env = ["STAL_DATA": data + "/node"]
        let url = "http://127.0.0.1:\(http)"
        #expect(try await runProcess(stalctl, ["domain", "add", "example.test", "--url", url], environment: env).status == 0)
        let added = try await runProcess(stalctl, ["account", "add", "alice@example.test", "--url", url,
                                                   "--account-password", TestNode.password], environment: env)
        #expect(added.status == 0, "\(added.stderr)")

        var sent: [String] = []
        for i in 0..<5 {
            let smtp = try #require(server.ports["smtp"])
            let message = "From: s@elsewhere.test\r\nTo: alice@example.test\r\nSubject: durable \(i)\r\n\r\n"
                + String(repeating: "line \(i) of a message that must not be lost\r\n", count: 50 * (i + 1))
            let running = server
            let replies = try await blocking { () -> [String] in
                let c = try RawClient(port: smtp)
                _ = c.readLine()
                c.send("EHLO client.test\r\n")
                _ = c.readUntil(prefix: "250 ")
                c.send("MAIL FROM:<s@elsewhere.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
                var out = [c.readLine() ?? "", c.readLine() ?? "", c.readLine() ?? ""]
                c.send(message + ".\r\n")
                out.append(c.readLine() ?? "")
                // SIGKILL the moment the acknowledgement arrives.
                running.kill9()
                return out
            }
            #expect(replies[0].hasPrefix("250"))
            #expect(replies[1].hasPrefix("250"))
            #expect(replies[2].hasPrefix("354"))
            let reply = replies[3]
            #expect(reply.hasPrefix("250"), "\(reply)")
            if reply.hasPrefix("250") { sent.append(message) }
            server = try await blocking { try ServerProcess(dataDirectory: data + "/node", configPath: config) }
        }

        let imap = try #require(server.ports["imap"])
        let count = try await mailClient(["count", "--port", "\(imap)", "--user", "alice@example.test", "--password", TestNode.password])
        #expect(count.stdout.contains("MESSAGES \(sent.count)"), "\(count.stdout)")
        for (i, message) in sent.enumerated() {
            let out = data + "/fetched-\(i)"
            let fetched = try await mailClient(["fetch", "--port", "\(imap)", "--user", "alice@example.test",
                                                "--password", TestNode.password, "--index", "\(i + 1)", "--out", out])
            #expect(fetched.status == 0, "\(fetched.stdout)")
            let stored = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
            #expect(stored.hasSuffix(message), "message \(i) differs after SIGKILL")
        }
        server.kill9()
    }

    /// An acknowledged large message is durable as shards plus a manifest in the shard log,
    /// with `[blobs]` from the configuration file (2+1 over three locations) and with the
    /// embedded default (one shard file under `<data>/blobs`): after SIGKILL the restarted
    /// node reads the manifest back from its log and serves the message byte-identical. The
    /// same data directory with the other kind of blob storage refuses to start.
    @Test(arguments: [true, false])
    func erasureCodedMailSurvivesSIGKILL(configuredBlobs: Bool) async throws {
        let data = TestPaths.temporaryDirectory("durability-blobs")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let locations = (0..<3).map { "\(data)/disk\($0)" }
        for path in locations { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        let blobsSection = """
            [blobs]
            data_shards = 2
            parity_shards = 1
            write_quorum = 3
            locations = [
            \(locations.enumerated().map { "  { path = \"\($1)\", failure_domain = \"disk\($0)\" }," }.joined(separator: "\n"))
            ]
            """
        let config = try Self.writeConfiguration(data, sections: configuredBlobs ? blobsSection : "")

        var server = try await blocking { try ServerProcess(dataDirectory: data + "/node", configPath: config) }
        let url = "http://127.0.0.1:\(try #require(server.ports["http"]))"
        let stalctl = TestPaths.executable("stalctl")
        let env = ["STAL_DATA": data + "/node"]
        #expect(try await runProcess(stalctl, ["domain", "add", "example.test", "--url", url], environment: env).status == 0)
        #expect(try await runProcess(stalctl, ["account", "add", "alice@example.test", "--url", url,
                                               "--account-password", TestNode.password], environment: env).status == 0)

        let message = ErasureBlobTests.largeMessage(seed: 21, subject: "coded and killed")
        let smtp = try #require(server.ports["smtp"])
        let running = server
        let reply = try await blocking { () -> String in
            let c = try RawClient(port: smtp)
            _ = c.readLine()
            c.send("EHLO client.test\r\n")
            _ = c.readUntil(prefix: "250 ")
            c.send("MAIL FROM:<s@elsewhere.test>\r\n")
            _ = c.readLine()
            c.send("RCPT TO:<alice@example.test>\r\n")
            _ = c.readLine()
            c.send("DATA\r\n")
            _ = c.readLine()
            c.send(message + ".\r\n")
            let reply = c.readLine() ?? ""
            running.kill9()
            return reply
        }
        #expect(reply.hasPrefix("250"), "\(reply)")
        let shards = (configuredBlobs ? locations : [data + "/node/blobs"]).flatMap { location in
            (FileManager.default.enumerator(atPath: location)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".shard") }
        }
        #expect(shards.count == (configuredBlobs ? 3 : 1), "\(shards)")
        #expect(!FileManager.default.fileExists(atPath: data + "/node/blob-catalog"))

        server = try await blocking { try ServerProcess(dataDirectory: data + "/node", configPath: config) }
        let out = data + "/fetched"
        let fetched = try await mailClient(["fetch", "--port", "\(try #require(server.ports["imap"]))", "--user", "alice@example.test",
                                            "--password", TestNode.password, "--index", "1", "--out", out])
        #expect(fetched.status == 0, "\(fetched.stdout) \(fetched.stderr)")
        let stored = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
        #expect(stored.hasSuffix(message))
        server.kill9()

        // With the other kind of blob storage the node would not find that mail: it refuses
        // to start.
        _ = try Self.writeConfiguration(data, sections: configuredBlobs ? "" : blobsSection)
        let refused = try await blocking { try ServerProcess(dataDirectory: data + "/node", configPath: config) }
        refused.process.waitUntilExit()
        #expect(refused.process.terminationStatus != 0)
        #expect(refused.ports.isEmpty)
    }
}
