import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import StalCore
import StalDeterminism
import StalRaft
import StalShardLog
import Testing
@testable import StalClusterTransport

/// The pure Raft core of several groups on three nodes, talking only through real
/// ClusterTransports: elections, replication and coalesced heartbeats over TLS sockets.
/// State is in memory (durability is the node driver's concern, not the transport's).
final class InMemoryRaftNode: RaftTransportReceiver, @unchecked Sendable {
    private let lock = NIOLock()
    private var groups = RaftGroupSet()
    private var applied: [UInt64: [[UInt8]]] = [:]
    private var transport: ClusterTransport?

    init(id: RaftNodeID, groups ids: [UInt64]) {
        for g in ids {
            groups.add(group: g, replica: RaftStateMachine(config: RaftConfig(id: id), state: .bootstrap(voters: [1, 2, 3]),
                                                           random: SeededRandom(seed: id * 1000 + g)))
        }
    }

    func attach(_ transport: ClusterTransport) { lock.withLock { self.transport = transport } }

    func received(_ messages: [RaftGroupMessage]) {
        lock.withLock {
            for m in messages { groups.step(m) }
            pumpLocked()
        }
    }

    func unreachable(_ node: RaftNodeID) {
        lock.withLock {
            for g in groups.groupIDs { groups.with(group: g) { $0.reportUnreachable(node) } }
            pumpLocked()
        }
    }

    func snapshotStatus(group: UInt64, to node: RaftNodeID, delivered: Bool) {
        lock.withLock {
            groups.with(group: group) { $0.reportSnapshot(to: node, succeeded: delivered) }
            pumpLocked()
        }
    }

    func handleRequest(_ payload: [UInt8], from node: RaftNodeID) async throws -> [UInt8] { payload }

    func tick() {
        lock.withLock {
            groups.tick()
            pumpLocked()
        }
    }

    /// Runs Ready cycles until none is left; sends under the lock so batches keep their order.
    private func pumpLocked() {
        while groups.hasReady {
            let batch = groups.ready()
            for g in batch.groups {
                for e in g.ready.committedEntries where e.kind == .normal && !e.data.isEmpty {
                    applied[g.group, default: []].append(e.data)
                }
            }
            groups.advance(batch)
            transport?.send(batch.messages)
        }
    }

    func leader(of group: UInt64) -> RaftNodeID? {
        lock.withLock {
            guard let r = groups.replicas[group], r.status.role == .leader else { return nil }
            return r.id
        }
    }

    func propose(_ data: [UInt8], group: UInt64) -> Bool {
        lock.withLock {
            let accepted = groups.with(group: group) { r -> Bool in
                if case .success = r.propose(data) { return true }
                return false
            } ?? false
            pumpLocked()
            return accepted
        }
    }

    func applied(_ group: UInt64) -> [[UInt8]] { lock.withLock { applied[group] ?? [] } }
}

@Suite struct RaftOverTransportTests {
    @Test func groupsElectLeadersAndReplicateOverTLS() async throws {
        let groupIDs: [UInt64] = [1, 2, 3, 4, 5]
        let cluster = try Cluster()
        let nodes: [RaftNodeID: InMemoryRaftNode] = Dictionary(uniqueKeysWithValues: [1, 2, 3].map {
            ($0, InMemoryRaftNode(id: $0, groups: groupIDs))
        })
        for id in nodes.keys.sorted() {
            let t = try await ClusterTransport.bind(nodeID: id, host: "127.0.0.1", port: 0, peers: [:],
                                                    tls: try cluster.authority.issue(node: id), group: cluster.group)
            cluster.transports[id] = t
            cluster.ports[id] = t.listeningPort
        }
        for (id, node) in nodes {
            cluster.transports[id]!.setPeers(cluster.addresses)
            node.attach(cluster.transports[id]!)
            try cluster.transports[id]!.start(node)
        }
        let ticker = Task {
            while !Task.isCancelled {
                for node in nodes.values { node.tick() }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        defer { ticker.cancel() }

        for g in groupIDs {
            let value = Array("group \(g) value".utf8)
            try await eventually("a leader of group \(g) accepts a proposal") {
                nodes.values.contains { $0.leader(of: g) != nil && $0.propose(value, group: g) }
            }
            try await eventually("group \(g) applies the value on every node") {
                nodes.values.allSatisfy { !$0.applied(g).isEmpty }
            }
            #expect(nodes.values.allSatisfy { $0.applied(g) == [value] })
        }
        ticker.cancel()
        await cluster.shutdown()
    }
}
