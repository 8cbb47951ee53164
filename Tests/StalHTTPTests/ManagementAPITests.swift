import Foundation
import Hummingbird
import HummingbirdTesting
import StalCore
import StalDeterminism
import StalDirectory
import StalMailStore
import StalStorage
import Testing
@testable import StalHTTP

@Suite struct ManagementAPITests {
    static let adminPassword = "bootstrap-secret-1"

    func makeApp(credentials: VerifiedCredentialCache = VerifiedCredentialCache(clock: ManualClock()))
        async throws -> (some ApplicationProtocol, Directory) {
        let engine = MemoryEngine()
        let clock = ManualClock()
        let store = try MailStore.local(engine: engine, blobs: MemoryBlobStore(), clock: clock, random: SeededRandom(seed: 1))
        let directory = try Directory.local(engine: engine, mailStore: store, clock: clock, random: SeededRandom(seed: 2),
                                            hasher: .fastForTests, sleep: { _ in })
        try await directory.bootstrapAdmin(password: Self.adminPassword)
        let app = Application(router: ManagementAPI(directory: directory, credentials: credentials).router())
        return (app, directory)
    }

    var auth: HTTPFields {
        let token = Data("admin:\(Self.adminPassword)".utf8).base64EncodedString()
        return [.authorization: "Basic \(token)", .contentType: "application/json"]
    }

    func json(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    @Test func verifiedCredentialsAreCachedAndWrongOnesAreNot() async throws {
        let cache = VerifiedCredentialCache(clock: ManualClock())
        let (app, _) = try await makeApp(credentials: cache)
        try await app.test(.router) { client in
            let wrong = "Basic " + Data("admin:nope-nope-nope".utf8).base64EncodedString()
            try await client.execute(uri: "/api/v1/domains", method: .get, headers: [.authorization: wrong]) {
                #expect($0.status == .unauthorized)
            }
            #expect(cache.count == 0)
            for _ in 0..<3 {
                try await client.execute(uri: "/api/v1/domains", method: .get, headers: auth) { #expect($0.status == .ok) }
            }
            #expect(cache.contains(user: "admin", password: Self.adminPassword))
            #expect(cache.count == 1)
        }
    }

    @Test func clusterRoutesAnswerNotFoundOnASingleNode() async throws {
        let (app, _) = try await makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/cluster/status", method: .get, headers: auth) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v1/cluster/probe/k", method: .put, headers: auth, body: ByteBuffer(string: "v")) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/cluster/probe/bad%20key", method: .get, headers: auth) {
                #expect($0.status == .unprocessableContent)
            }
        }
    }

    /// Only a `[cluster]` node has no blob store (it keeps plain files); its blob routes say so.
    @Test func blobRoutesAnswerNotFoundWithoutABlobStore() async throws {
        let (app, _) = try await makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/blobs/status", method: .get, headers: auth) {
                #expect($0.status == .notFound)
                #expect(String(buffer: $0.body).contains("plain files (a [cluster] node)"), "\(String(buffer: $0.body))")
            }
            try await client.execute(uri: "/api/v1/blobs/scrub", method: .post, headers: auth) { #expect($0.status == .notFound) }
        }
    }

    @Test func requiresAdministratorCredentials() async throws {
        let (app, _) = try await makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/domains", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            let wrong = "Basic " + Data("admin:nope".utf8).base64EncodedString()
            try await client.execute(uri: "/api/v1/domains", method: .get, headers: [.authorization: wrong]) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func domainsAccountsAndAliasesRoundTrip() async throws {
        let (app, directory) = try await makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/domains", method: .post, headers: auth, body: json(#"{"name":"Example.TEST"}"#)) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/api/v1/domains", method: .post, headers: auth, body: json(#"{"name":"example.test"}"#)) {
                #expect($0.status == .conflict)
            }
            try await client.execute(uri: "/api/v1/accounts", method: .post, headers: auth,
                                     body: json(#"{"address":"alice@example.test","password":"correct horse battery","displayName":"Alice"}"#)) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/api/v1/accounts", method: .post, headers: auth,
                                     body: json(#"{"address":"bob@unknown.test","password":"correct horse battery"}"#)) {
                #expect($0.status == .notFound || $0.status == .unprocessableContent)
                #expect(String(buffer: $0.body).contains("unknown.test"))
            }
            try await client.execute(uri: "/api/v1/accounts", method: .post, headers: auth,
                                     body: json(#"{"address":"carol@example.test","password":"short"}"#)) {
                #expect($0.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/v1/aliases", method: .post, headers: auth,
                                     body: json(#"{"alias":"postmaster@example.test","target":"alice@example.test"}"#)) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/api/v1/accounts?domain=example.test", method: .get, headers: auth) {
                #expect($0.status == .ok)
                #expect(String(buffer: $0.body).contains("alice@example.test"))
            }
            try await client.execute(uri: "/api/v1/aliases", method: .get, headers: auth) {
                #expect(String(buffer: $0.body).contains(#""target":"alice@example.test""#))
            }
            try await client.execute(uri: "/api/v1/accounts/alice@example.test/password", method: .put, headers: auth,
                                     body: json(#"{"password":"another long secret"}"#)) {
                #expect($0.status == .noContent)
            }
        }
        let result = await directory.authenticate(username: "alice@example.test", password: "another long secret", remote: "127.0.0.1")
        guard case .success = result else {
            Issue.record("password change did not take effect: \(result)")
            return
        }
    }

    @Test func malformedBodyGetsAClearError() async throws {
        let (app, _) = try await makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/domains", method: .post, headers: auth, body: json("{not json")) {
                #expect($0.status == .badRequest)
                #expect(String(buffer: $0.body).contains("not valid JSON"))
            }
            try await client.execute(uri: "/api/v1/domains", method: .post, headers: auth, body: json(#"{"name":"no_dots"}"#)) {
                #expect($0.status == .unprocessableContent)
            }
        }
    }
}
