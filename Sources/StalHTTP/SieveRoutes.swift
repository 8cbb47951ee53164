import Foundation
import Hummingbird
import NIOCore
import StalCore
import StalDirectory
import StalMailStore

/// Per-account Sieve scripts and the outbox their delivery-time actions fill:
///
///     GET    accounts/{address}/sieve              the scripts, which is active
///     GET    accounts/{address}/sieve/{name}       the script's text
///     PUT    accounts/{address}/sieve/{name}       store (body: the text; ?activate=1)
///     DELETE accounts/{address}/sieve/{name}
///     PUT    accounts/{address}/sieve-active       {"name": "x"} or {"name": null}
///     GET    outbox                                waiting messages (?limit=N)
///     GET    outbox/{id}                           one message, as it will be sent
///     DELETE outbox/{id}
extension ManagementAPI {
    static let outboxListMax = 10_000

    func addSieveRoutes(to api: RouterGroup<ManagementRequestContext>) {
        guard let mail else { return }
        let directory = self.directory

        api.get("accounts/:address/sieve") { _, context in
            let account = try Self.existingAccount(directory, try context.parameters.require("address"))
            return SieveScriptList(scripts: try mail.sieveScripts(account.id).map { .init(name: $0.name, active: $0.isActive) })
        }
        api.get("accounts/:address/sieve/:name") { _, context -> Response in
            let account = try Self.existingAccount(directory, try context.parameters.require("address"))
            let name = try Self.scriptName(context)
            guard let text = try mail.sieveScript(account.id, name: name) else {
                throw StalError(.notFound, "no Sieve script \(name)")
            }
            return Response(status: .ok, headers: [.contentType: "application/sieve; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        api.put("accounts/:address/sieve/:name") { request, context -> Response in
            let account = try Self.existingAccount(directory, try context.parameters.require("address"))
            let name = try Self.scriptName(context)
            // Collecting stops at the limit, so an oversized upload costs no more than that.
            let body = try await request.body.collect(upTo: MailStore.sieveScriptOctetsMax)
            guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
                throw StalError(.invalidArgument, "a Sieve script is UTF-8 text (RFC 5228 §2.2)")
            }
            let activate = ["1", "true", "yes"].contains(request.uri.queryParameters["activate"].map(String.init) ?? "")
            let existed = try mail.sieveScript(account.id, name: name) != nil
            try await mail.putSieveScript(account.id, name: name, content: text, activate: activate)
            return Response(status: existed ? .noContent : .created)
        }
        api.delete("accounts/:address/sieve/:name") { _, context -> Response in
            let account = try Self.existingAccount(directory, try context.parameters.require("address"))
            try await mail.deleteSieveScript(account.id, name: try Self.scriptName(context))
            return Response(status: .noContent)
        }
        api.put("accounts/:address/sieve-active") { request, context -> Response in
            let account = try Self.existingAccount(directory, try context.parameters.require("address"))
            let body = try await request.decode(as: ActiveScriptBody.self, context: context)
            try await mail.activateSieveScript(account.id, name: body.name)
            return Response(status: .noContent)
        }

        api.get("outbox") { request, _ in
            let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 1000
            guard (1...Self.outboxListMax).contains(limit) else {
                throw StalError(.invalidArgument, "limit must be 1...\(Self.outboxListMax)")
            }
            var addresses: [AccountID: String] = [:]
            return OutboxList(entries: try mail.outboxEntries(limit: limit).map { entry in
                if addresses[entry.account] == nil {
                    addresses[entry.account] = try directory.account(entry.account)?.address.description ?? "#\(entry.account.rawValue)"
                }
                return .init(id: String(entry.id), account: addresses[entry.account]!, from: entry.envelopeFrom,
                             to: entry.envelopeTo, reason: entry.reason.rawValue,
                             createdAt: entry.createdAt.millisecondsSinceEpoch, size: entry.message.count)
            })
        }
        api.get("outbox/:id") { _, context -> Response in
            let id = try Self.outboxID(context)
            guard let entry = try mail.outboxEntry(id) else { throw StalError(.notFound, "no outbox entry \(id)") }
            return Response(status: .ok, headers: [.contentType: "message/rfc822"],
                            body: .init(byteBuffer: ByteBuffer(bytes: entry.message)))
        }
        api.delete("outbox/:id") { _, context -> Response in
            let id = try Self.outboxID(context)
            guard try mail.outboxEntry(id) != nil else { throw StalError(.notFound, "no outbox entry \(id)") }
            try await mail.removeOutboxEntries([id])
            return Response(status: .noContent)
        }
    }

    /// Router parameters arrive as written in the path; script names may hold spaces and
    /// other characters a client percent-encodes.
    static func scriptName(_ context: ManagementRequestContext) throws -> String {
        let raw = try context.parameters.require("name")
        guard let name = raw.removingPercentEncoding else { throw StalError(.invalidArgument, "bad percent-encoding in \(raw)") }
        try SieveScriptNames.validate(name)
        return name
    }

    static func outboxID(_ context: ManagementRequestContext) throws -> UInt64 {
        let raw = try context.parameters.require("id")
        guard let id = UInt64(raw) else { throw StalError(.invalidArgument, "not an outbox id: \(raw)") }
        return id
    }
}

struct ActiveScriptBody: Decodable { var name: String? }

struct SieveScriptList: ResponseEncodable {
    struct Item: Encodable { var name: String; var active: Bool }
    var scripts: [Item]
}

struct OutboxList: ResponseEncodable {
    struct Item: Encodable {
        /// A string: ids use all 64 bits, more than a JSON number keeps exactly.
        var id: String
        var account: String
        var from: String
        var to: String
        var reason: String
        var createdAt: Int64
        var size: Int
    }
    var entries: [Item]
}
