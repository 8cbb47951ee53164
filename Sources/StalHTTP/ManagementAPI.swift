import Foundation
import Hummingbird
import NIOCore
import StalCore
import StalDirectory
import StalMailStore

/// The request context of the management API: it keeps the peer address so failed
/// administrator logins are throttled per client like every other login.
public struct ManagementRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// JSON management API that `stalctl` drives. Every route requires HTTP Basic credentials
/// of the administrator.
public struct ManagementAPI: Sendable {
    public let directory: Directory
    /// The node's mail store, for the Sieve and outbox routes; nil leaves them out.
    public let mail: MailStore?
    public let cluster: (any ClusterManagement)?
    /// Nil when the node keeps blobs as plain files (no `[blobs]` section).
    public let blobs: (any BlobAdministration)?
    public let credentials: VerifiedCredentialCache

    public init(directory: Directory, mail: MailStore? = nil, cluster: (any ClusterManagement)? = nil,
                blobs: (any BlobAdministration)? = nil,
                credentials: VerifiedCredentialCache = VerifiedCredentialCache()) {
        self.directory = directory
        self.mail = mail
        self.cluster = cluster
        self.blobs = blobs
        self.credentials = credentials
    }

    public func router() -> Router<ManagementRequestContext> {
        let router = Router(context: ManagementRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AdminAuthMiddleware(directory: directory, credentials: credentials))
        let api = router.group("api/v1")

        api.get("domains") { _, _ in
            DomainList(domains: try directory.listDomains().map { .init(name: $0.name) })
        }
        api.post("domains") { request, context -> Response in
            let body = try await request.decode(as: NameBody.self, context: context)
            try await directory.addDomain(try Self.domainName(body.name))
            return Response(status: .created)
        }
        api.delete("domains/:name") { _, context -> Response in
            try await directory.removeDomain(try Self.domainName(try context.parameters.require("name")))
            return Response(status: .noContent)
        }

        api.get("accounts") { request, _ in
            let domain = request.uri.queryParameters["domain"].map(String.init)
            return AccountList(accounts: try directory.listAccounts(domain: domain.map(Self.domainName))
                .map { .init(address: $0.address.description, displayName: $0.displayName) })
        }
        api.post("accounts") { request, context -> Response in
            let body = try await request.decode(as: NewAccountBody.self, context: context)
            _ = try await directory.addAccount(
                address: try Self.address(body.address), password: body.password,
                displayName: body.displayName ?? "")
            return Response(status: .created)
        }
        api.delete("accounts/:address") { _, context -> Response in
            let account = try Self.existingAccount(directory, try context.parameters.require("address"))
            try await directory.removeAccount(account.id)
            return Response(status: .noContent)
        }
        api.put("accounts/:address/password") { request, context -> Response in
            let account = try Self.existingAccount(directory, try context.parameters.require("address"))
            let body = try await request.decode(as: PasswordBody.self, context: context)
            try await directory.setPassword(account.id, password: body.password)
            return Response(status: .noContent)
        }

        api.get("aliases") { _, _ in
            let aliases = try directory.listAliases()
            return AliasList(aliases: try aliases.map { info in
                let target = try directory.account(info.account)?.address.description ?? "#\(info.account)"
                return .init(alias: info.alias.description, target: target)
            })
        }
        api.post("aliases") { request, context -> Response in
            let body = try await request.decode(as: AliasBody.self, context: context)
            let account = try Self.existingAccount(directory, body.target)
            try await directory.addAlias(try Self.address(body.alias), to: account.id)
            return Response(status: .created)
        }
        api.delete("aliases/:alias") { _, context -> Response in
            try await directory.removeAlias(try Self.address(try context.parameters.require("alias")))
            return Response(status: .noContent)
        }
        addSieveRoutes(to: api)
        addClusterRoutes(to: api)
        addBlobRoutes(to: api)
        return router
    }

    static func address(_ text: String) throws -> EmailAddress {
        guard let a = EmailAddress(text) else { throw StalError(.invalidArgument, "not an email address: \(text)") }
        return a
    }

    static func domainName(_ text: String) throws -> String {
        let name = text.lowercased()
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, name.utf8.count <= 253,
              labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-")
                  && $0.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" } })
        else { throw StalError(.invalidArgument, "not a domain name: \(text)") }
        return name
    }

    static func existingAccount(_ directory: Directory, _ text: String) throws -> DirectoryAccount {
        guard let account = try directory.account(address: try address(text)) else {
            throw StalError(.notFound, "no account \(text)")
        }
        return account
    }
}

struct NameBody: Decodable { var name: String }
struct NewAccountBody: Decodable { var address: String; var password: String; var displayName: String? }
struct PasswordBody: Decodable { var password: String }
struct AliasBody: Decodable { var alias: String; var target: String }

struct DomainList: ResponseEncodable { struct Item: Encodable { var name: String }; var domains: [Item] }
struct AccountList: ResponseEncodable {
    struct Item: Encodable { var address: String; var displayName: String }
    var accounts: [Item]
}
struct AliasList: ResponseEncodable { struct Item: Encodable { var alias: String; var target: String }; var aliases: [Item] }

struct ErrorBody: Encodable { var error: String; var message: String }

/// Maps every failure to one JSON shape and an HTTP status in one place.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ManagementRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as StalError {
            return Self.response(status: Self.status(for: error.kind), kind: error.kind.rawValue, message: error.context.isEmpty ? error.kind.rawValue : error.context)
        } catch let error as HTTPError {
            // Hummingbird reports undecodable request bodies as 400 with the decoder's reason.
            return Self.response(status: error.status, kind: "http", message: error.body ?? error.status.reasonPhrase)
        }
    }

    static func status(for kind: StalError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .notFound: return .notFound
        case .alreadyExists, .conflict: return .conflict
        case .invalidArgument: return .unprocessableContent
        case .permissionDenied: return .forbidden
        case .authenticationFailed: return .unauthorized
        case .rateLimited: return .tooManyRequests
        case .quotaExceeded, .limitExceeded: return .contentTooLarge
        case .unavailable, .notLeader: return .serviceUnavailable
        case .corrupted, .storage, .internal: return .internalServerError
        }
    }

    static func response(status: HTTPResponse.Status, kind: String, message: String) -> Response {
        let data = (try? JSONEncoder().encode(ErrorBody(error: kind, message: message))) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = ManagementRequestContext
    let directory: Directory
    let credentials: VerifiedCredentialCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(header.dropFirst(6))),
              let pair = String(data: decoded, encoding: .utf8),
              let colon = pair.firstIndex(of: ":"),
              pair[..<colon] == Directory.adminName,
              await verify(password: String(pair[pair.index(after: colon)...]), remote: context.remoteAddress)
        else {
            var response = ErrorMiddleware.response(status: .unauthorized, kind: StalError.Kind.authenticationFailed.rawValue,
                                                    message: "administrator credential required")
            response.headers[.wwwAuthenticate] = "Basic realm=\"stal\""
            return response
        }
        return try await next(request, context)
    }

    private func verify(password: String, remote: String) async -> Bool {
        if credentials.contains(user: Directory.adminName, password: password) { return true }
        guard await directory.authenticateAdmin(password: password, remote: remote) else { return false }
        credentials.insert(user: Directory.adminName, password: password)
        return true
    }
}
