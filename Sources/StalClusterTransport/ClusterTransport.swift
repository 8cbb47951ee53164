import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import StalCore
import StalRaft
import StalShardLog

/// `RaftTransport` over TCP with mutual TLS (docs/raft.md, "Transport").
///
/// Each node dials every peer once and uses that connection for everything it sends to
/// the peer; the peer answers requests and acknowledges snapshots on the same connection.
/// Inbound connections carry the peer's traffic to this node. `bind` opens the listener;
/// the driver's `start` begins dialling.
public final class ClusterTransport: RaftTransport {
    public struct PeerAddress: Sendable, Hashable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public struct Options: Sendable {
        public var limits = ClusterFrameLimits()
        /// Slice size of snapshot transfers.
        public var snapshotChunkBytes = 1 << 20
        /// A batch of messages is split into frames of about this many bytes.
        public var batchFrameBytes = 1 << 20
        /// Per peer: messages (and requests) waiting to be written; beyond, sends are dropped.
        public var peerQueueMessagesMax = 8192
        public var peerQueueBytesMax = 64 << 20
        public var reconnectDelayMin: Duration = .milliseconds(50)
        public var reconnectDelayMax: Duration = .seconds(1)
        public var connectTimeout: Duration = .seconds(2)
        /// A connection whose TLS handshake (and, inbound, hello) is not done by then is closed.
        public var handshakeTimeout: Duration = .seconds(5)
        /// Inbound connections held at once; beyond, new ones are closed at once.
        public var inboundConnectionsMax = 256
        /// Per inbound connection: requests being served at once; beyond, refused at once.
        public var inboundRequestsMax = 1024
        /// Per inbound connection: snapshot transfers being reassembled at once.
        public var inboundSnapshotTransfersMax = 4
        public init() {}
    }

    public let nodeID: RaftNodeID
    public let options: Options
    let logger: Logger
    let group: any EventLoopGroup
    let serverContext: NIOSSLContext
    let clientContext: NIOSSLContext
    private let serverChannel: any Channel
    private let state = NIOLockedValueBox(State())

    struct State {
        var peers: [RaftNodeID: PeerAddress] = [:]
        var links: [RaftNodeID: PeerLink] = [:]
        var receiver: (any RaftTransportReceiver)?
        var inbound: [ObjectIdentifier: any Channel] = [:]
        var stopped = false
    }

    /// The port the listener is bound to (the configured one, or the kernel's choice for 0).
    public var listeningPort: Int { serverChannel.localAddress?.port ?? 0 }

    private init(nodeID: RaftNodeID, peers: [RaftNodeID: PeerAddress], options: Options, logger: Logger,
                 group: any EventLoopGroup, serverContext: NIOSSLContext, clientContext: NIOSSLContext,
                 serverChannel: any Channel) {
        self.nodeID = nodeID
        self.options = options
        self.logger = logger
        self.group = group
        self.serverContext = serverContext
        self.clientContext = clientContext
        self.serverChannel = serverChannel
        state.withLockedValue { $0.peers = peers.filter { $0.key != nodeID } }
    }

    /// Binds the listener. Inbound traffic is accepted from any node holding a certificate
    /// of the cluster CA whose hello names a known peer; it reaches the receiver once
    /// `start` has been called.
    public static func bind(nodeID: RaftNodeID, host: String, port: Int, peers: [RaftNodeID: PeerAddress],
                            tls: ClusterTLS, group: any EventLoopGroup, options: Options = Options(),
                            logger: Logger = Logger(label: "stal.cluster")) async throws -> ClusterTransport {
        precondition(nodeID != raftNoNode, "node id 0 means nobody")
        let serverContext = try tls.serverContext()
        let clientContext = try tls.clientContext()
        let core = InboundCore()
        let limits = options.limits
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let transport = core.transport else { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOSSLServerHandler(context: serverContext),
                        ByteToMessageHandler(ClusterFrameDecoder(limits: limits)),
                        InboundConnectionHandler(transport: transport),
                    ])
                }
            }
            .bind(host: host, port: port).get()
        let transport = ClusterTransport(nodeID: nodeID, peers: peers, options: options, logger: logger, group: group,
                                         serverContext: serverContext, clientContext: clientContext, serverChannel: channel)
        core.transport = transport
        return transport
    }

    /// Replaces the peer addresses; only before `start` (tests learn ports after binding).
    public func setPeers(_ peers: [RaftNodeID: PeerAddress]) {
        state.withLockedValue {
            precondition($0.receiver == nil, "setPeers after start")
            $0.peers = peers.filter { $0.key != nodeID }
        }
    }

    public func start(_ receiver: any RaftTransportReceiver) throws {
        let links: [PeerLink] = try state.withLockedValue { state in
            guard state.receiver == nil, !state.stopped else { throw StalError(.internal, "transport started twice") }
            state.receiver = receiver
            for (node, address) in state.peers.sorted(by: { $0.key < $1.key }) {
                state.links[node] = PeerLink(node: node, address: address, transport: self, eventLoop: group.next())
            }
            return Array(state.links.values)
        }
        for link in links { link.connect() }
    }

    public func send(_ messages: [RaftGroupMessage]) {
        guard !messages.isEmpty else { return }
        var byPeer: [RaftNodeID: [RaftGroupMessage]] = [:]
        for m in messages { byPeer[m.message.to, default: []].append(m) }
        let (links, receiver) = state.withLockedValue { ($0.links, $0.receiver) }
        for (node, batch) in byPeer {
            if let link = links[node] {
                link.enqueue(batch)
            } else if let receiver {
                for m in batch where m.message.kind == .snapshot {
                    receiver.snapshotStatus(group: m.group, to: node, delivered: false)
                }
                receiver.unreachable(node)
            }
        }
    }

    public func request(to node: RaftNodeID, _ payload: [UInt8], timeout: Duration) async throws -> [UInt8] {
        guard let link = state.withLockedValue({ $0.links[node] }) else {
            throw StalError(.unavailable, "node \(node) is not a peer")
        }
        return try await link.request(payload, timeout: timeout)
    }

    public func shutdown() async {
        let (links, inbound) = state.withLockedValue { state -> ([PeerLink], [any Channel]) in
            state.stopped = true
            state.receiver = nil
            return (Array(state.links.values), Array(state.inbound.values))
        }
        try? await serverChannel.close()
        for link in links { await link.stop() }
        for channel in inbound { try? await channel.close() }
    }

    /// Whether the link to `node` has finished its handshake (tests wait for it).
    func isConnected(to node: RaftNodeID) -> Bool {
        state.withLockedValue { $0.links[node] }?.isConnected ?? false
    }

    /// Bytes waiting in the link's queue to `node` (tests wait for it to drain).
    func queuedBytes(to node: RaftNodeID) -> Int {
        state.withLockedValue { $0.links[node] }?.queuedBytes ?? 0
    }

    // MARK: for links and handlers

    var receiver: (any RaftTransportReceiver)? { state.withLockedValue { $0.receiver } }

    func isPeer(_ node: RaftNodeID) -> Bool { state.withLockedValue { $0.peers[node] != nil } }

    /// Registers an inbound connection so shutdown closes it; false once stopped or full.
    func track(_ channel: any Channel) -> Bool {
        state.withLockedValue { state in
            guard !state.stopped, state.inbound.count < options.inboundConnectionsMax else { return false }
            state.inbound[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func untrack(_ channel: any Channel) {
        _ = state.withLockedValue { $0.inbound.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// Lets the child-channel initializer reach the transport, which exists only after binding.
private final class InboundCore: @unchecked Sendable {
    private let lock = NIOLock()
    private var _transport: ClusterTransport?
    var transport: ClusterTransport? {
        get { lock.withLock { _transport } }
        set { lock.withLock { _transport = newValue } }
    }
}
