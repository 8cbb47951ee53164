import Foundation
import StalCore
import StalDeterminism
import StalRaft
import StalShardLog
import StalStorage
import Testing

/// Three drivers in one process, each over its own engine, joined by `InProcessRaftTransport`.
final class InProcessCluster: @unchecked Sendable {
    static let shard: UInt64 = 3
    let network = InProcessRaftNetwork()
    let ids: [RaftNodeID] = [1, 2, 3]
    let engines: [RaftNodeID: MemoryEngine]
    let options: RaftNodeDriver.Options
    private let lock = Mutex()
    private var drivers: [RaftNodeID: RaftNodeDriver] = [:]
    private var logs: [RaftNodeID: RaftShardLog] = [:]
    private var transports: [RaftNodeID: InProcessRaftTransport] = [:]

    init(compactAfterEntries: UInt64 = 10_000) throws {
        engines = Dictionary(uniqueKeysWithValues: ids.map { ($0, MemoryEngine(tracksDurability: true)) })
        var options = RaftNodeDriver.Options()
        options.tickInterval = .milliseconds(5)
        options.compactAfterEntries = compactAfterEntries
        options.randomSeed = 11
        self.options = options
        for id in ids { try start(id) }
    }

    func start(_ id: RaftNodeID) throws {
        let transport = InProcessRaftTransport(node: id, network: network)
        let driver = try RaftNodeDriver(engine: engines[id]!, nodeID: id, peers: ids.filter { $0 != id }, transport: transport,
                                        options: options)
        let log = try driver.addGroup(shard: Self.shard, stateMachine: CountingStateMachine())
        lock.withLock {
            drivers[id] = driver
            logs[id] = log
            transports[id] = transport
        }
    }

    /// Stops a node like a power cut: its driver ends, its traffic stops, its unsynced
    /// writes are lost.
    func crash(_ id: RaftNodeID) async {
        let (driver, transport) = lock.withLock { (drivers.removeValue(forKey: id), transports.removeValue(forKey: id)) }
        _ = lock.withLock { logs.removeValue(forKey: id) }
        driver?.shutdown()
        await transport?.shutdown()
        engines[id]!.crash()
    }

    func log(_ id: RaftNodeID) -> RaftShardLog { lock.withLock { logs[id]! } }
    func driver(_ id: RaftNodeID) -> RaftNodeDriver { lock.withLock { drivers[id]! } }
    var running: [RaftNodeID] { lock.withLock { drivers.keys.sorted() } }

    func leader() async throws -> RaftNodeID {
        var found: RaftNodeID = raftNoNode
        try await eventually("a leader") {
            found = running.first { log($0).status.role == .leader } ?? raftNoNode
            return found != raftNoNode
        }
        return found
    }

    /// Proposes through `id`, retrying while leadership moves (a lost proposal fails with
    /// `.unavailable`; the counting state machine then counts it once or twice, so tests
    /// that compare counts avoid retries across a leader change).
    func propose(_ name: String, via id: RaftNodeID) async throws -> CommandResult {
        try await log(id).propose(named(name))
    }

    func stop() async {
        for id in running { await crash(id) }
    }

    /// Every running replica applied the same index and holds the same state.
    func converged() throws -> Bool {
        let nodes = running
        let applied = nodes.map { log($0).status.applied }
        guard Set(applied).count == 1 else { return false }
        let states = try nodes.map { try engines[$0]!.dump([.state]) }
        return states.allSatisfy { $0 == states[0] }
    }
}

@Suite(.serialized) struct RaftClusterTests {
    @Test func writesThroughAnyNodeReachEveryReplica() async throws {
        let cluster = try InProcessCluster()
        let leader = try await cluster.leader()
        var indices: [UInt64] = []
        for i in 0..<30 {
            let via = cluster.ids[i % 3]
            indices.append(try #require(index(of: try await cluster.propose("w\(i)", via: via))))
        }
        #expect(Set(indices).count == 30)
        for id in cluster.ids { try await cluster.log(id).linearizableRead() }
        try await eventually("convergence") { try cluster.converged() }
        for id in cluster.ids {
            #expect(try count(cluster.engines[id]!) == 30)
            let s = cluster.log(id).status
            #expect(s.leader == leader)
        }
        #expect(cluster.driver(leader).groupStatuses.map(\.shard) == [InProcessCluster.shard])
        await cluster.stop()
    }

    /// A follower's linearizable read sees a write acknowledged through another node.
    @Test func followerReadSeesAcknowledgedWrite() async throws {
        let cluster = try InProcessCluster()
        let leader = try await cluster.leader()
        let follower = cluster.ids.first { $0 != leader }!
        for i in 0..<10 { _ = try await cluster.propose("r\(i)", via: leader) }
        try await cluster.log(follower).linearizableRead()
        #expect(try count(cluster.engines[follower]!) == 10)
        await cluster.stop()
    }

    @Test func leaderCrashAndRestartFromItsStorage() async throws {
        let cluster = try InProcessCluster()
        let first = try await cluster.leader()
        for i in 0..<10 { _ = try await cluster.propose("a\(i)", via: first) }
        await cluster.crash(first)
        let second = try await cluster.leader()
        #expect(second != first)
        for i in 0..<10 { _ = try await cluster.propose("b\(i)", via: second) }
        try cluster.start(first)
        for i in 0..<5 { _ = try await cluster.propose("c\(i)", via: first) }
        try await cluster.log(first).linearizableRead()
        try await eventually("convergence") { try cluster.converged() }
        #expect(try count(cluster.engines[first]!) == 25)
        await cluster.stop()
    }

    @Test func laggingFollowerIsCaughtUpBySnapshot() async throws {
        let cluster = try InProcessCluster(compactAfterEntries: 20)
        let leader = try await cluster.leader()
        let lagging = cluster.ids.first { $0 != leader }!
        _ = try await cluster.propose("before", via: leader)
        cluster.network.isolate(lagging)
        for i in 0..<60 { _ = try await cluster.propose("x\(i)", via: leader) }
        #expect(cluster.driver(leader).statistics.compactions >= 2)
        cluster.network.heal(lagging)
        try await cluster.log(lagging).linearizableRead()
        try await eventually("convergence") { try cluster.converged() }
        #expect(cluster.driver(lagging).statistics.snapshotsInstalled >= 1)
        #expect(try count(cluster.engines[lagging]!) == 61)
        // The installed snapshot survives a restart of the follower.
        await cluster.crash(lagging)
        try cluster.start(lagging)
        _ = try await cluster.propose("after", via: lagging)
        try await cluster.log(lagging).linearizableRead()
        try await eventually("convergence") { try cluster.converged() }
        #expect(try count(cluster.engines[lagging]!) == 62)
        await cluster.stop()
    }
}
