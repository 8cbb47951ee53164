import Logging
import NIOConcurrencyHelpers
import NIOCore
import StalClusterTransport
import StalCore
import StalDirectory
import StalHTTP
import StalShardLog
import StalStorage

/// A clustered node's Raft side: the transport to the peers and the driver that runs every
/// group over it, adapted to the management API's `ClusterManagement`.
final class ClusterRuntime: ClusterManagement {
    let nodeID: UInt64
    let transport: ClusterTransport
    let driver: RaftNodeDriver
    private let adminBootstrap = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// Set once the node has built its directory, which needs the driver first.
    private let directory = NIOLockedValueBox<Directory?>(nil)

    private init(nodeID: UInt64, transport: ClusterTransport, driver: RaftNodeDriver) {
        self.nodeID = nodeID
        self.transport = transport
        self.driver = driver
    }

    /// Binds the transport on `cluster.listen` and starts the driver over it, which starts
    /// dialling the peers. The caller adds the groups.
    static func start(_ cluster: NodeConfiguration.Cluster, engine: any KVEngine, group: any EventLoopGroup,
                      logger: Logger) async throws -> ClusterRuntime {
        let tls = try ClusterTLS.load(certificatePath: cluster.certificatePath, keyPath: cluster.keyPath,
                                      authorityPath: cluster.authorityPath)
        let transport = try await ClusterTransport.bind(
            nodeID: cluster.nodeID, host: cluster.listen.host, port: cluster.listen.port,
            peers: cluster.peers.mapValues { ClusterTransport.PeerAddress(host: $0.host, port: $0.port) },
            tls: tls, group: group, logger: logger)
        do {
            let driver = try RaftNodeDriver(engine: engine, nodeID: cluster.nodeID,
                                            peers: cluster.peers.keys.filter { $0 != cluster.nodeID }.sorted(),
                                            transport: transport)
            return ClusterRuntime(nodeID: cluster.nodeID, transport: transport, driver: driver)
        } catch {
            await transport.shutdown()
            throw error
        }
    }

    /// Proposes the administrator credential unless this replica already has one, retrying
    /// until the metadata shard has a leader. Every node does this at start with the same
    /// password, so a second proposal (two fresh nodes racing) changes only the salt.
    func bootstrapAdmin(password: String, directory: Directory, logger: Logger) {
        let task = Task {
            while !Task.isCancelled, !directory.hasAdmin {
                do {
                    try await directory.bootstrapAdmin(password: password)
                    logger.notice("administrator credential proposed to the cluster")
                    return
                } catch {
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        adminBootstrap.withLockedValue { $0 = task }
    }

    func attach(_ directory: Directory) {
        self.directory.withLockedValue { $0 = directory }
    }

    func putProbe(key: String, value: [UInt8]) async throws {
        try await attachedDirectory().putProbe(key: key, value: value)
    }

    func probe(key: String, local: Bool) async throws -> [UInt8]? {
        try await attachedDirectory().probe(key: key, linearizable: !local)
    }

    private func attachedDirectory() throws -> Directory {
        guard let directory = directory.withLockedValue({ $0 }) else {
            throw StalError(.unavailable, "the node is still starting")
        }
        return directory
    }

    func status() async -> ClusterStatus {
        ClusterStatus(node: nodeID, groups: driver.groupStatuses.map {
            ClusterStatus.Group(shard: $0.shard, role: "\($0.role)", leader: $0.leader, term: $0.term, commit: $0.commit,
                                applied: $0.applied)
        })
    }

    func stopBootstrap() async {
        let task = adminBootstrap.withLockedValue { $0 }
        task?.cancel()
        await task?.value
    }
}
