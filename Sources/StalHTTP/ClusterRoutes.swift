import Foundation
import Hummingbird
import NIOCore
import StalCore

/// What the management API needs from a clustered node; `StalNode` adapts its Raft
/// driver and probe register to it. Single-node servers have none and answer 404.
public protocol ClusterManagement: Sendable {
    /// Replicates `value` under `key` through the probe shard's Raft log; returns once applied.
    func putProbe(key: String, value: [UInt8]) async throws
    /// The value under `key`: linearizable (ReadIndex through the leader), or this
    /// replica's applied value when `local`.
    func probe(key: String, local: Bool) async throws -> [UInt8]?
    func status() async -> ClusterStatus
}

public struct ClusterStatus: Codable, Sendable, Equatable {
    public struct Group: Codable, Sendable, Equatable {
        public var shard: UInt64
        public var role: String
        public var leader: UInt64
        public var term: UInt64
        public var commit: UInt64
        public var applied: UInt64

        public init(shard: UInt64, role: String, leader: UInt64, term: UInt64, commit: UInt64, applied: UInt64) {
            self.shard = shard
            self.role = role
            self.leader = leader
            self.term = term
            self.commit = commit
            self.applied = applied
        }
    }

    public var node: UInt64
    public var groups: [Group]

    public init(node: UInt64, groups: [Group]) {
        self.node = node
        self.groups = groups
    }
}

extension ClusterStatus: ResponseEncodable {}

extension ManagementAPI {
    public static let probeValueOctetsMax = 4096
    static let probeKeyOctetsMax = 128

    func addClusterRoutes(to api: RouterGroup<ManagementRequestContext>) {
        let cluster = self.cluster
        @Sendable func require() throws -> any ClusterManagement {
            guard let cluster else { throw StalError(.notFound, "this node is not part of a cluster") }
            return cluster
        }
        api.put("cluster/probe/:key") { request, context -> Response in
            let key = try Self.probeKey(try context.parameters.require("key"))
            let value: ByteBuffer
            do {
                value = try await request.body.collect(upTo: Self.probeValueOctetsMax)
            } catch {
                throw StalError(.limitExceeded, "probe values are at most \(Self.probeValueOctetsMax) bytes")
            }
            try await require().putProbe(key: key, value: Array(value.readableBytesView))
            return Response(status: .noContent)
        }
        api.get("cluster/probe/:key") { request, context -> Response in
            let key = try Self.probeKey(try context.parameters.require("key"))
            let local = request.uri.queryParameters["local"].map { $0 == "1" || $0 == "true" } ?? false
            guard let value = try await require().probe(key: key, local: local) else {
                throw StalError(.notFound, "no probe value under \(key)")
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: .init(byteBuffer: ByteBuffer(bytes: value)))
        }
        api.get("cluster/status") { _, _ -> ClusterStatus in
            try await require().status()
        }
    }

    static func probeKey(_ text: String) throws -> String {
        guard !text.isEmpty, text.utf8.count <= probeKeyOctetsMax,
              text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                  || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F })
        else { throw StalError(.invalidArgument, "probe keys are 1-\(probeKeyOctetsMax) characters of A-Z a-z 0-9 . _ -") }
        return text
    }
}
