import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import StalCore
import StalRaft
import StalShardLog
import Testing
@testable import StalClusterTransport

/// Records what a transport hands to its driver.
final class RecordingReceiver: RaftTransportReceiver {
    struct Events {
        var received: [RaftGroupMessage] = []
        var unreachable: [RaftNodeID] = []
        var snapshotStatus: [(group: UInt64, node: RaftNodeID, delivered: Bool)] = []
        var requests = 0
    }
    let events = NIOLockedValueBox(Events())
    let answer: @Sendable ([UInt8], RaftNodeID) async throws -> [UInt8]

    init(answer: @escaping @Sendable ([UInt8], RaftNodeID) async throws -> [UInt8] = { payload, from in [UInt8(from)] + payload }) {
        self.answer = answer
    }

    func received(_ messages: [RaftGroupMessage]) { events.withLockedValue { $0.received += messages } }
    func unreachable(_ node: RaftNodeID) { events.withLockedValue { $0.unreachable.append(node) } }
    func snapshotStatus(group: UInt64, to node: RaftNodeID, delivered: Bool) {
        events.withLockedValue { $0.snapshotStatus.append((group, node, delivered)) }
    }
    func handleRequest(_ payload: [UInt8], from node: RaftNodeID) async throws -> [UInt8] {
        events.withLockedValue { $0.requests += 1 }
        return try await answer(payload, node)
    }

    var received: [RaftGroupMessage] { events.withLockedValue { $0.received } }
    var unreachable: [RaftNodeID] { events.withLockedValue { $0.unreachable } }
}

/// Polls `condition` until it holds; the cap only matters when something hangs.
func eventually(_ what: String, capSeconds: Int = 60, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(capSeconds)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw StalError(.unavailable, "gave up waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

func message(_ kind: RaftMessage.Kind, group: UInt64 = 1, from: RaftNodeID, to: RaftNodeID, term: RaftTerm = 1,
             entries: [LogEntry] = [], snapshot: Snapshot? = nil) -> RaftGroupMessage {
    RaftGroupMessage(group: group, message: RaftMessage(kind: kind, from: from, to: to, term: term, entries: entries,
                                                         snapshot: snapshot))
}

/// Up to three transports on 127.0.0.1 with certificates of one CA.
final class Cluster {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let authority: TestAuthority
    var transports: [RaftNodeID: ClusterTransport] = [:]
    var receivers: [RaftNodeID: RecordingReceiver] = [:]
    var ports: [RaftNodeID: Int] = [:]

    init() throws {
        authority = try TestAuthority(name: "stal test cluster CA")
    }

    var addresses: [RaftNodeID: ClusterTransport.PeerAddress] {
        ports.mapValues { ClusterTransport.PeerAddress(host: "127.0.0.1", port: $0) }
    }

    /// Binds every node first (ephemeral ports), then starts them all.
    func start(_ nodes: [RaftNodeID], options: ClusterTransport.Options = .init(),
               receiver: (RaftNodeID) -> RecordingReceiver = { _ in RecordingReceiver() }) async throws {
        for node in nodes {
            let t = try await ClusterTransport.bind(nodeID: node, host: "127.0.0.1", port: ports[node] ?? 0, peers: [:],
                                                    tls: try authority.issue(node: node), group: group, options: options)
            transports[node] = t
            ports[node] = t.listeningPort
        }
        for node in nodes {
            transports[node]!.setPeers(addresses)
            let r = receiver(node)
            receivers[node] = r
            try transports[node]!.start(r)
        }
    }

    func stop(_ node: RaftNodeID) async {
        await transports.removeValue(forKey: node)?.shutdown()
    }

    func shutdown() async {
        for t in transports.values { await t.shutdown() }
        transports = [:]
        try? await group.shutdownGracefully()
    }
}

@Suite(.serialized) struct ClusterTransportTests {
    @Test func messagesOfEveryKindArriveInOrderWithHeartbeatsCoalesced() async throws {
        let cluster = try Cluster()
        try await cluster.start([1, 2, 3])
        var toTwo: [RaftGroupMessage] = []
        for i in 0..<200 {
            toTwo.append(message(.append, group: UInt64(i % 5), from: 1, to: 2, term: UInt64(i),
                                 entries: [LogEntry(index: UInt64(i), term: 1, data: Array(repeating: UInt8(i % 256), count: i * 100))]))
        }
        var beats: [RaftGroupMessage] = []
        for g in 0..<50 {
            beats.append(RaftGroupMessage(group: UInt64(g), message: RaftMessage(kind: .heartbeat, from: 1, to: 2, term: 3,
                                                                                  commit: UInt64(g), context: [UInt8(g)], leaseTick: 5)))
        }
        let toThree = [message(.requestVote, from: 1, to: 3), message(.timeoutNow, from: 1, to: 3)]
        cluster.transports[1]!.send(toTwo + beats + toThree)
        try await eventually("delivery") {
            cluster.receivers[2]!.received.count == 250 && cluster.receivers[3]!.received.count == 2
        }
        let got = cluster.receivers[2]!.received
        #expect(got.filter { $0.message.kind == .append } == toTwo)
        #expect(Set(got.filter { $0.message.kind == .heartbeat }) == Set(beats))
        #expect(cluster.receivers[3]!.received == toThree)
        // 2 answers 1 over its own connection.
        cluster.transports[2]!.send([message(.appendResponse, from: 2, to: 1)])
        try await eventually("reply") { cluster.receivers[1]!.received.count == 1 }
        await cluster.shutdown()
    }

    @Test func requestsGetResponsesErrorsAndTimeouts() async throws {
        let release = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let cluster = try Cluster()
        try await cluster.start([1, 2]) { node in
            RecordingReceiver { payload, from in
                if payload == [0] { throw StalError(.notLeader, "ask node 3") }
                if payload == [1] {
                    await withCheckedContinuation { c in release.withLockedValue { $0 = c } }
                }
                return [UInt8(from)] + payload
            }
        }
        let answer = try await cluster.transports[1]!.request(to: 2, [7, 8], timeout: .seconds(30))
        #expect(answer == [1, 7, 8])
        await #expect(throws: StalError(.notLeader, "ask node 3")) {
            try await cluster.transports[1]!.request(to: 2, [0], timeout: .seconds(30))
        }
        await #expect(throws: StalError.self) {
            try await cluster.transports[1]!.request(to: 2, [1], timeout: .milliseconds(100))
        }
        try await eventually("stuck handler") { release.withLockedValue { $0 != nil } }
        release.withLockedValue { $0?.resume() }
        await #expect(throws: StalError.self) {
            try await cluster.transports[1]!.request(to: 9, [1], timeout: .seconds(1))
        }
        await cluster.shutdown()
    }

    @Test func multiMebibyteSnapshotArrivesInSlices() async throws {
        let cluster = try Cluster()
        var options = ClusterTransport.Options()
        options.snapshotChunkBytes = 1 << 20
        try await cluster.start([1, 2], options: options)
        var data = [UInt8](repeating: 0, count: 5 << 20 + 12345)
        for i in data.indices { data[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 13) }
        let snapshot = message(.snapshot, group: 4, from: 1, to: 2, term: 2, snapshot: Snapshot(
            metadata: SnapshotMetadata(index: 500, term: 2, confState: ConfState(voters: [1, 2, 3])), data: data))
        let after = message(.append, group: 4, from: 1, to: 2, term: 2)
        cluster.transports[1]!.send([snapshot, after])
        try await eventually("snapshot") { cluster.receivers[2]!.received.count == 2 }
        #expect(cluster.receivers[2]!.received == [snapshot, after])
        try await eventually("status") { cluster.receivers[1]!.events.withLockedValue { !$0.snapshotStatus.isEmpty } }
        let status = cluster.receivers[1]!.events.withLockedValue { $0.snapshotStatus }
        #expect(status.count == 1 && status[0].group == 4 && status[0].node == 2 && status[0].delivered)
        await cluster.shutdown()
    }

    @Test func reconnectsAfterThePeerRestarts() async throws {
        let cluster = try Cluster()
        try await cluster.start([1, 2])
        cluster.transports[1]!.send([message(.append, from: 1, to: 2, term: 1)])
        try await eventually("first delivery") { cluster.receivers[2]!.received.count == 1 }
        await cluster.stop(2)
        try await eventually("peer reported unreachable") {
            cluster.transports[1]!.send([message(.append, from: 1, to: 2, term: 2)])
            return cluster.receivers[1]!.unreachable.contains(2)
        }
        let restarted = RecordingReceiver()
        let t2 = try await ClusterTransport.bind(nodeID: 2, host: "127.0.0.1", port: cluster.ports[2]!, peers: cluster.addresses,
                                                 tls: try cluster.authority.issue(node: 2), group: cluster.group)
        cluster.transports[2] = t2
        try t2.start(restarted)
        try await eventually("delivery after restart") {
            cluster.transports[1]!.send([message(.append, from: 1, to: 2, term: 3)])
            return restarted.received.contains { $0.message.term == 3 }
        }
        await cluster.shutdown()
    }

    /// A transport with `tls` claiming to be node 2 is refused both ways: its hello to node
    /// 1, and node 1's connection when it dials the claimant's listener as node 2.
    func expectRefusedAsNode2(_ cluster: Cluster, tls: ClusterTLS) async throws {
        let claimantReceiver = RecordingReceiver()
        let claimant = try await ClusterTransport.bind(nodeID: 2, host: "127.0.0.1", port: 0, peers: [1: cluster.addresses[1]!],
                                                       tls: tls, group: cluster.group)
        try claimant.start(claimantReceiver)
        try await eventually("the claimant's hello refused") {
            claimant.send([message(.append, from: 2, to: 1, term: 66)])
            return claimantReceiver.unreachable.count >= 2
        }
        #expect(!cluster.receivers[1]!.received.contains { $0.message.term == 66 })
        let dialler = try await ClusterTransport.bind(nodeID: 1, host: "127.0.0.1", port: 0,
                                                      peers: [2: .init(host: "127.0.0.1", port: claimant.listeningPort)],
                                                      tls: try cluster.authority.issue(node: 1), group: cluster.group)
        let diallerReceiver = RecordingReceiver()
        try dialler.start(diallerReceiver)
        try await eventually("the dialler refuses the claimant's listener") {
            dialler.send([message(.append, from: 1, to: 2, term: 77)])
            return diallerReceiver.unreachable.count >= 2
        }
        #expect(!claimantReceiver.received.contains { $0.message.term == 77 })
        await claimant.shutdown()
        await dialler.shutdown()
    }

    @Test func certificateOfAnotherAuthorityIsRefused() async throws {
        let cluster = try Cluster()
        try await cluster.start([1, 2])
        try await expectRefusedAsNode2(cluster, tls: try TestAuthority(name: "some other CA").issue(node: 2))
        await cluster.shutdown()
    }

    /// A certificate of the cluster CA speaks only for the node it names: node 3's key
    /// cannot say hello as node 2, nor answer when node 1 dials node 2.
    @Test func certificateOfAnotherNodeCannotClaimItsID() async throws {
        let cluster = try Cluster()
        try await cluster.start([1, 2])
        try await expectRefusedAsNode2(cluster, tls: try cluster.authority.issue(node: 3))
        // The genuine node 2 still gets through.
        cluster.transports[2]!.send([message(.append, from: 2, to: 1, term: 88)])
        try await eventually("node 2's message arrives") { cluster.receivers[1]!.received.contains { $0.message.term == 88 } }
        #expect(ClusterTLS.certifiedNodes(try cluster.authority.issue(node: 3).certificateChain[0]) == [3])
        await cluster.shutdown()
    }

    @Test func fullQueueDropsAndReportsWithoutBlocking() async throws {
        // A peer that accepts TCP but never answers the TLS handshake keeps the link connecting.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let silent = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let authority = try TestAuthority(name: "ca")
        var options = ClusterTransport.Options()
        options.peerQueueMessagesMax = 4
        let t = try await ClusterTransport.bind(nodeID: 1, host: "127.0.0.1", port: 0,
                                                peers: [2: .init(host: "127.0.0.1", port: silent.localAddress!.port!)],
                                                tls: try authority.issue(node: 1), group: group, options: options)
        let receiver = RecordingReceiver()
        try t.start(receiver)
        t.send((0..<10).map { message(.append, from: 1, to: 2, term: UInt64($0)) })
        t.send([message(.snapshot, from: 1, to: 2, snapshot: Snapshot(metadata: SnapshotMetadata(index: 1, term: 1)))])
        #expect(receiver.unreachable.contains(2))
        #expect(receiver.events.withLockedValue { $0.snapshotStatus.map(\.delivered) } == [false])
        await t.shutdown()
        try await silent.close()
        try await group.shutdownGracefully()
    }

    @Test func connectionThatNeverSaysHelloIsClosed() async throws {
        let cluster = try Cluster()
        var options = ClusterTransport.Options()
        options.handshakeTimeout = .milliseconds(100)
        try await cluster.start([1], options: options)
        let idle = try await ClientBootstrap(group: cluster.group).connect(host: "127.0.0.1", port: cluster.ports[1]!).get()
        try await eventually("the silent connection is closed") { !idle.isActive }
        #expect(cluster.receivers[1]!.received.isEmpty)
        await cluster.shutdown()
    }

    @Test func peerThatStopsReadingFillsTheQueueInsteadOfMemory() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let authority = try TestAuthority(name: "ca")
        let serverContext = try authority.issue(node: 2).serverContext()
        // Completes the handshake, then never reads again.
        let stalled = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([NIOSSLServerHandler(context: serverContext), StopReading()])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        var options = ClusterTransport.Options()
        options.peerQueueBytesMax = 1 << 20
        let t = try await ClusterTransport.bind(nodeID: 1, host: "127.0.0.1", port: 0,
                                                peers: [2: .init(host: "127.0.0.1", port: stalled.localAddress!.port!)],
                                                tls: try authority.issue(node: 1), group: group, options: options)
        let receiver = RecordingReceiver()
        try t.start(receiver)
        try await eventually("the handshake") { t.isConnected(to: 2) }
        let payload = [UInt8](repeating: 7, count: 100_000)
        var sent = 0
        // The first batches leave the queue for the socket while the peer's buffers have room.
        t.send((0..<5).map { _ in
            sent += 1
            return message(.append, from: 1, to: 2, entries: [LogEntry(index: UInt64(sent), term: 1, data: payload)])
        })
        try await eventually("the first batches are written") { t.queuedBytes(to: 2) == 0 }
        try await eventually("queue overflow reported") {
            t.send((0..<5).map { _ in
                sent += 1
                return message(.append, from: 1, to: 2, entries: [LogEntry(index: UInt64(sent), term: 1, data: payload)])
            })
            return receiver.unreachable.contains(2)
        }
        // Then the stalled peer's buffers filled up and the queue overflowed instead of memory
        // growing without bound: an empty queue of 1 MiB overflows at the 11th 100 kB batch.
        #expect(sent >= 16)
        #expect(t.isConnected(to: 2))
        await t.shutdown()
        try await stalled.close()
        try await group.shutdownGracefully()
    }
}

final class StopReading: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        context.fireUserInboundEventTriggered(event)
    }
}
