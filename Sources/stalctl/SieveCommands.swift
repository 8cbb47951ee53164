import ArgumentParser
import Foundation

struct Sieve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage an account's Sieve scripts (the filters that run at delivery).",
        subcommands: [List.self, Get.self, Put.self, Delete.self, Activate.self, Deactivate.self])

    struct List: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "One line per script: name, and \"active\" for the active one.")
        @OptionGroup var connection: Connection
        @Argument var address: String
        func perform(_ client: ManagementClient) async throws {
            let json = try await client.call("GET", "api/v1/accounts/\(pathComponent(address))/sieve")
            for row in ((json as? [String: Any])?["scripts"] as? [[String: Any]]) ?? [] {
                print("\(row["name"] ?? "")\((row["active"] as? Bool) == true ? "\tactive" : "")")
            }
        }
    }

    struct Get: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "Print a script's text.")
        @OptionGroup var connection: Connection
        @Argument var address: String
        @Argument var name: String
        func perform(_ client: ManagementClient) async throws {
            let text = try await client.send("GET", "api/v1/accounts/\(pathComponent(address))/sieve/\(pathComponent(name))")
            FileHandle.standardOutput.write(text)
        }
    }

    struct Put: StalctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a script after the server has compiled it; errors are printed as line:column: message.")
        @OptionGroup var connection: Connection
        @Argument var address: String
        @Argument var name: String
        @Argument(help: "The script file, or - for standard input.") var file: String
        @Flag(help: "Also make it the active script.") var activate = false
        func perform(_ client: ManagementClient) async throws {
            let text: Data
            if file == "-" {
                text = FileHandle.standardInput.readDataToEndOfFile()
            } else if let data = FileManager.default.contents(atPath: file) {
                text = data
            } else {
                throw StalctlError(code: ExitCode.validationFailure.rawValue, message: "cannot read \(file)")
            }
            let path = "api/v1/accounts/\(pathComponent(address))/sieve/\(pathComponent(name))" + (activate ? "?activate=1" : "")
            _ = try await client.send("PUT", path, body: text, contentType: "application/sieve; charset=utf-8")
            print("script \(name) stored\(activate ? " and active" : "")")
        }
    }

    struct Delete: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a script; the active script must be deactivated first.")
        @OptionGroup var connection: Connection
        @Argument var address: String
        @Argument var name: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.call("DELETE", "api/v1/accounts/\(pathComponent(address))/sieve/\(pathComponent(name))")
            print("script \(name) deleted")
        }
    }

    struct Activate: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "Make a script the one that runs at delivery.")
        @OptionGroup var connection: Connection
        @Argument var address: String
        @Argument var name: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.call("PUT", "api/v1/accounts/\(pathComponent(address))/sieve-active", body: ["name": name])
            print("script \(name) active")
        }
    }

    struct Deactivate: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "Run no script at delivery: mail goes to INBOX.")
        @OptionGroup var connection: Connection
        @Argument var address: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.send("PUT", "api/v1/accounts/\(pathComponent(address))/sieve-active",
                                      body: Data("{\"name\":null}".utf8), contentType: "application/json")
            print("no script active for \(address)")
        }
    }
}

struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the messages Sieve actions queued (vacation, redirect, notify, reject notices).",
        subcommands: [List.self, Show.self, Delete.self])

    struct List: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "One line per message: id, account, reason, envelope from, to, size.")
        @OptionGroup var connection: Connection
        @Option(help: "At most this many entries.") var limit = 1000
        func perform(_ client: ManagementClient) async throws {
            let json = try await client.call("GET", "api/v1/outbox?limit=\(limit)")
            printList(json, key: "entries", columns: ["id", "account", "reason", "from", "to", "size"])
        }
    }

    struct Show: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "Print a queued message as it will be sent.")
        @OptionGroup var connection: Connection
        @Argument var id: String
        func perform(_ client: ManagementClient) async throws {
            FileHandle.standardOutput.write(try await client.send("GET", "api/v1/outbox/\(pathComponent(id))"))
        }
    }

    struct Delete: StalctlCommand {
        static let configuration = CommandConfiguration(abstract: "Drop a queued message without sending it.")
        @OptionGroup var connection: Connection
        @Argument var id: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.call("DELETE", "api/v1/outbox/\(pathComponent(id))")
            print("outbox entry \(id) deleted")
        }
    }
}
