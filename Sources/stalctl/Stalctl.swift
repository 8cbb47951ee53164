import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Exit codes: 0 success, 1 the server refused the request, 2 usage, 3 the node could not be
/// reached or the credentials were refused.
enum StalctlExit {
    static let refused: Int32 = 1
    static let unreachable: Int32 = 3
}

struct Connection: ParsableArguments {
    @Option(name: .long, help: "Management API URL (default: $STAL_URL, then the data directory's credential file, then http://127.0.0.1:8080).")
    var url: String?

    @Option(name: .long, help: "Administrator name (default: $STAL_ADMIN_USER, then the credential file).")
    var user: String?

    @Option(name: .long, help: "Administrator password (default: $STAL_ADMIN_PASSWORD, then the credential file).")
    var password: String?

    @Option(name: .long, help: "Data directory holding stald's bootstrap credential file (default: $STAL_DATA, then ./data).")
    var dataDir: String?

    func resolved() throws -> ManagementClient {
        let env = ProcessInfo.processInfo.environment
        let credentialFile = CredentialFile.read(dataDirectory: dataDir ?? env["STAL_DATA"] ?? "data")
        let base = url ?? env["STAL_URL"] ?? credentialFile?["url"] ?? "http://127.0.0.1:8080"
        guard let user = user ?? env["STAL_ADMIN_USER"] ?? credentialFile?["user"],
              let password = password ?? env["STAL_ADMIN_PASSWORD"] ?? credentialFile?["password"]
        else {
            throw StalctlError(code: StalctlExit.unreachable, message: "no administrator credential: pass --user/--password, set STAL_ADMIN_USER/STAL_ADMIN_PASSWORD, or run next to stald's data directory (--data-dir)")
        }
        guard let parsed = URL(string: base) else {
            throw StalctlError(code: ExitCode.validationFailure.rawValue, message: "not a URL: \(base)")
        }
        return ManagementClient(base: parsed, user: user, password: password)
    }
}

/// The `key = value` file stald writes (mode 0600) in its data directory at first start.
enum CredentialFile {
    static let name = "admin-credentials"

    static func read(dataDirectory: String) -> [String: String]? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/" + name, encoding: .utf8) else { return nil }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, !parts[0].hasPrefix("#") { out[parts[0]] = parts[1] }
        }
        return out
    }
}

struct StalctlError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { message }
}

struct ManagementClient {
    var base: URL
    var user: String
    var password: String

    /// A JSON request; the parsed JSON answer, or nil for an empty one.
    func call(_ method: String, _ path: String, body: [String: String]? = nil) async throws -> Any? {
        let data = try await send(method, path, body: try body.map { try JSONSerialization.data(withJSONObject: $0) },
                                  contentType: "application/json")
        return data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)
    }

    /// `path` is relative to the API root and already percent-encoded (`pathComponent`).
    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String? = nil) async throws -> Data {
        let root = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        guard let url = URL(string: root + "/" + path) else {
            throw StalctlError(code: ExitCode.validationFailure.rawValue, message: "not a URL: \(root)/\(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        let token = Data("\(user):\(password)".utf8).base64EncodedString()
        request.setValue("Basic \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        let data: Data
        let response: URLResponse
        let delegate = ExplicitCredentials()
        do {
            let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
            defer { session.finishTasksAndInvalidate() }
            (data, response) = try await session.data(for: request)
        } catch where delegate.challenged {
            throw StalctlError(code: StalctlExit.unreachable, message: "the node refused the administrator credential")
        } catch {
            throw StalctlError(code: StalctlExit.unreachable, message: "cannot reach \(base.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if status == 401 {
            throw StalctlError(code: StalctlExit.unreachable, message: "the node refused the administrator credential")
        }
        guard (200..<300).contains(status) else {
            let json = try? JSONSerialization.jsonObject(with: data)
            let message = (json as? [String: Any])?["message"] as? String ?? "HTTP \(status)"
            throw StalctlError(code: StalctlExit.refused, message: message)
        }
        return data
    }
}

/// Percent-encodes one path segment: everything but RFC 3986 unreserved characters and `@`.
func pathComponent(_ text: String) -> String {
    let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~@")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}

/// The request already carries its credential, so a 401 challenge means the node refused
/// it. FoundationNetworking waits forever for a replacement credential unless the challenge
/// is cancelled; the flag lets the caller report the refusal instead of a cancellation.
final class ExplicitCredentials: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    private(set) var challenged = false

    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        challenged = true
        completionHandler(.cancelAuthenticationChallenge, nil)
    }
}

protocol StalctlCommand: AsyncParsableCommand {
    var connection: Connection { get }
    func perform(_ client: ManagementClient) async throws
}

extension StalctlCommand {
    func run() async throws {
        do {
            try await perform(try connection.resolved())
        } catch let error as StalctlError {
            FileHandle.standardError.write(Data("stalctl: \(error.message)\n".utf8))
            throw ExitCode(error.code)
        }
    }
}

func printList(_ json: Any?, key: String, columns: [String]) {
    let rows = ((json as? [String: Any])?[key] as? [[String: Any]]) ?? []
    for row in rows {
        print(columns.map { "\(row[$0] ?? "")" }.joined(separator: "\t"))
    }
}

@main
struct Stalctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stalctl",
        abstract: "Administer a Stal mail server through its management API.",
        subcommands: [Domain.self, Account.self, Alias.self, Sieve.self, Outbox.self, Cluster.self, Blob.self])
}

struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inspect the node's Raft groups.", subcommands: [Status.self])

    struct Status: StalctlCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per Raft group this node hosts: shard, role, leader, term, commit, applied.")
        @OptionGroup var connection: Connection
        func perform(_ client: ManagementClient) async throws {
            let json = try await client.call("GET", "api/v1/cluster/status") as? [String: Any]
            print("node \(json?["node"] ?? "?")")
            print(["shard", "role", "leader", "term", "commit", "applied"].joined(separator: "\t"))
            printList(json, key: "groups", columns: ["shard", "role", "leader", "term", "commit", "applied"])
        }
    }
}

struct Domain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the domains this server receives mail for.",
                                                    subcommands: [Add.self, List.self, Remove.self])

    struct Add: StalctlCommand {
        @OptionGroup var connection: Connection
        @Argument(help: "Domain name, e.g. example.com") var name: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.call("POST", "api/v1/domains", body: ["name": name])
            print("domain \(name) added")
        }
    }

    struct List: StalctlCommand {
        @OptionGroup var connection: Connection
        func perform(_ client: ManagementClient) async throws {
            printList(try await client.call("GET", "api/v1/domains"), key: "domains", columns: ["name"])
        }
    }

    struct Remove: StalctlCommand {
        @OptionGroup var connection: Connection
        @Argument var name: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.call("DELETE", "api/v1/domains/\(name)")
            print("domain \(name) removed")
        }
    }
}

struct Account: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage mail accounts.",
                                                    subcommands: [Add.self, List.self, Remove.self, Passwd.self])

    struct Add: StalctlCommand {
        @OptionGroup var connection: Connection
        @Argument(help: "The account's address, which is also its login name.") var address: String
        @Option(name: .customLong("account-password"), help: "The new account's password (default: read from standard input).")
        var accountPassword: String?
        @Option(name: .long) var name: String?
        func perform(_ client: ManagementClient) async throws {
            var body = ["address": address, "password": try accountPassword ?? readSecret(prompt: "password for \(address): ")]
            if let name { body["displayName"] = name }
            _ = try await client.call("POST", "api/v1/accounts", body: body)
            print("account \(address) added")
        }
    }

    struct List: StalctlCommand {
        @OptionGroup var connection: Connection
        @Option(help: "Only accounts in this domain.") var domain: String?
        func perform(_ client: ManagementClient) async throws {
            let path = domain.map { "api/v1/accounts?domain=\($0)" } ?? "api/v1/accounts"
            let json = try await client.call("GET", path)
            printList(json, key: "accounts", columns: ["address", "displayName"])
        }
    }

    struct Remove: StalctlCommand {
        @OptionGroup var connection: Connection
        @Argument var address: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.call("DELETE", "api/v1/accounts/\(address)")
            print("account \(address) removed")
        }
    }

    struct Passwd: StalctlCommand {
        @OptionGroup var connection: Connection
        @Argument var address: String
        @Option(name: .customLong("account-password")) var accountPassword: String?
        func perform(_ client: ManagementClient) async throws {
            let secret = try accountPassword ?? readSecret(prompt: "new password for \(address): ")
            _ = try await client.call("PUT", "api/v1/accounts/\(address)/password", body: ["password": secret])
            print("password of \(address) changed")
        }
    }
}

struct Alias: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage address aliases.",
                                                    subcommands: [Add.self, List.self, Remove.self])

    struct Add: StalctlCommand {
        @OptionGroup var connection: Connection
        @Argument(help: "The alias address.") var alias: String
        @Argument(help: "The account it delivers to.") var target: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.call("POST", "api/v1/aliases", body: ["alias": alias, "target": target])
            print("alias \(alias) -> \(target) added")
        }
    }

    struct List: StalctlCommand {
        @OptionGroup var connection: Connection
        func perform(_ client: ManagementClient) async throws {
            printList(try await client.call("GET", "api/v1/aliases"), key: "aliases", columns: ["alias", "target"])
        }
    }

    struct Remove: StalctlCommand {
        @OptionGroup var connection: Connection
        @Argument var alias: String
        func perform(_ client: ManagementClient) async throws {
            _ = try await client.call("DELETE", "api/v1/aliases/\(alias)")
            print("alias \(alias) removed")
        }
    }
}

/// Reads one line from standard input (a pipe or a terminal) so passwords stay out of argv.
func readSecret(prompt: String) throws -> String {
    if isatty(0) != 0 {
        FileHandle.standardError.write(Data(prompt.utf8))
    }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw StalctlError(code: ExitCode.validationFailure.rawValue, message: "no password given")
    }
    return line
}
