import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import StalCore
import StalRaft
import StalShardLog

/// The one outbound connection to one peer: a bounded queue, a connection that is
/// re-dialled with exponential backoff, and the exchanges waiting on it (snapshot
/// transfers, requests). Everything queued before a flush is written together and flushed
/// once. While the link is backing off after a failure, sends are dropped at once (Raft
/// retransmits); while it is connecting they wait in the queue.
final class PeerLink: Sendable {
    let node: RaftNodeID
    let address: ClusterTransport.PeerAddress
    let eventLoop: any EventLoop
    private let transport: ClusterTransport
    private let state: NIOLockedValueBox<State>

    enum Phase {
        case connecting(attempt: UInt64)
        case connected(attempt: UInt64, any Channel)
        case backingOff
        case stopped
    }

    enum Outgoing {
        case message(RaftGroupMessage)
        case request(id: UInt64, payload: [UInt8])
    }

    struct PendingRequest {
        var continuation: CheckedContinuation<[UInt8], any Error>
    }

    struct State {
        var phase: Phase = .backingOff
        var attempts: UInt64 = 0
        var queue: [Outgoing] = []
        var queuedBytes = 0
        var flushScheduled = false
        var reconnectDelay: Duration
        var nextTransfer: UInt64 = 1
        var snapshotsInFlight: [UInt64: UInt64] = [:]
        var nextRequest: UInt64 = 1
        var requests: [UInt64: PendingRequest] = [:]
    }

    init(node: RaftNodeID, address: ClusterTransport.PeerAddress, transport: ClusterTransport, eventLoop: any EventLoop) {
        self.node = node
        self.address = address
        self.transport = transport
        self.eventLoop = eventLoop
        self.state = NIOLockedValueBox(State(reconnectDelay: transport.options.reconnectDelayMin))
    }

    // MARK: sending

    func enqueue(_ messages: [RaftGroupMessage]) {
        let options = transport.options
        var dropped: [RaftGroupMessage] = []
        let flush = state.withLockedValue { state -> Bool in
            switch state.phase {
            case .backingOff, .stopped:
                dropped = messages
                return false
            case .connecting, .connected:
                for m in messages {
                    let size = Self.estimatedBytes(m)
                    if state.queue.count >= options.peerQueueMessagesMax || state.queuedBytes + size > options.peerQueueBytesMax {
                        dropped.append(m)
                    } else {
                        state.queue.append(.message(m))
                        state.queuedBytes += size
                    }
                }
                return scheduleFlushLocked(&state)
            }
        }
        if !dropped.isEmpty { reportDropped(dropped) }
        if flush { eventLoop.execute { self.flush() } }
    }

    func request(_ payload: [UInt8], timeout: Duration) async throws -> [UInt8] {
        let options = transport.options
        return try await withCheckedThrowingContinuation { continuation in
            let (id, flush) = state.withLockedValue { state -> (UInt64?, Bool) in
                switch state.phase {
                case .backingOff, .stopped:
                    return (nil, false)
                case .connecting, .connected:
                    guard state.queue.count < options.peerQueueMessagesMax,
                          state.queuedBytes + payload.count <= options.peerQueueBytesMax else { return (nil, false) }
                    let id = state.nextRequest
                    state.nextRequest += 1
                    state.requests[id] = PendingRequest(continuation: continuation)
                    state.queue.append(.request(id: id, payload: payload))
                    state.queuedBytes += payload.count
                    return (id, scheduleFlushLocked(&state))
                }
            }
            guard let id else {
                continuation.resume(throwing: StalError(.unavailable, "node \(node) is unreachable"))
                return
            }
            eventLoop.scheduleTask(in: .nanoseconds(Self.nanoseconds(timeout))) {
                self.finishRequest(id, .failure(StalError(.unavailable, "node \(self.node) did not answer in time")))
            }
            if flush { eventLoop.execute { self.flush() } }
        }
    }

    private func scheduleFlushLocked(_ state: inout State) -> Bool {
        guard case .connected = state.phase, !state.flushScheduled, !state.queue.isEmpty else { return false }
        state.flushScheduled = true
        return true
    }

    /// Writes everything queued: the coalescable heartbeats first as one frame, then the
    /// other messages and requests in order (batched into frames), snapshots in slices.
    private func flush() {
        let options = transport.options
        let taken = state.withLockedValue { state -> (any Channel, [Outgoing])? in
            state.flushScheduled = false
            // An unwritable channel (the peer is not reading) keeps traffic in the bounded
            // queue, so a stalled peer costs at most the queue plus the write buffer.
            guard case .connected(_, let channel) = state.phase, channel.isWritable else { return nil }
            let queue = state.queue
            state.queue = []
            state.queuedBytes = 0
            return (channel, queue)
        }
        guard let (channel, items) = taken, !items.isEmpty else { return }
        let me = transport.nodeID
        var heartbeats: [CoalescedHeartbeat] = []
        var frames: [ClusterFrame] = []
        var batch: [RaftGroupMessage] = []
        var batchBytes = 0
        var unsendable: [RaftGroupMessage] = []
        func closeBatch() {
            if !batch.isEmpty { frames.append(.messages(batch)) }
            batch = []
            batchBytes = 0
        }
        for item in items {
            switch item {
            case .request(let id, let payload):
                closeBatch()
                frames.append(.request(id: id, payload: payload))
            case .message(let m) where m.message.kind == .snapshot:
                closeBatch()
                let encoded = ClusterFrameCodec.encodeSnapshotMessage(m)
                guard UInt64(encoded.count) <= options.limits.snapshotBytesMax else {
                    unsendable.append(m)
                    continue
                }
                // Registered only while this connection is current: a failure processed
                // in between must not leave a transfer that nobody will ever resolve.
                let registered = state.withLockedValue { state -> UInt64? in
                    guard case .connected(_, let current) = state.phase, current === channel else { return nil }
                    let t = state.nextTransfer
                    state.nextTransfer += 1
                    state.snapshotsInFlight[t] = m.group
                    return t
                }
                guard let transfer = registered else {
                    unsendable.append(m)
                    continue
                }
                var offset = 0
                repeat {
                    let end = min(encoded.count, offset + options.snapshotChunkBytes)
                    frames.append(.snapshotChunk(SnapshotChunk(
                        transfer: transfer, group: m.group, totalBytes: UInt64(encoded.count), offset: UInt64(offset),
                        bytes: Array(encoded[offset..<end]))))
                    offset = end
                } while offset < encoded.count
            case .message(let m) where CoalescedHeartbeat.isCoalescable(m.message) && m.message.from == me:
                heartbeats.append(CoalescedHeartbeat(m))
            case .message(let m):
                let size = Self.estimatedBytes(m)
                guard size <= options.limits.frameBytesMax - 64 else {
                    unsendable.append(m)
                    continue
                }
                if batchBytes + size > options.batchFrameBytes { closeBatch() }
                batch.append(m)
                batchBytes += size
            }
        }
        closeBatch()
        if !heartbeats.isEmpty { frames.insert(.heartbeats(from: me, to: node, heartbeats), at: 0) }
        var buffer = channel.allocator.buffer(capacity: 0)
        for frame in frames {
            if case .snapshotChunk = frame {
                if buffer.readableBytes > 0 { channel.write(buffer, promise: nil) }
                channel.write(ClusterFrameCodec.encode(frame), promise: nil)
                buffer = channel.allocator.buffer(capacity: 0)
            } else {
                ClusterFrameCodec.encode(frame, into: &buffer)
            }
        }
        if buffer.readableBytes > 0 { channel.write(buffer, promise: nil) }
        channel.flush()
        if !unsendable.isEmpty { reportDropped(unsendable) }
    }

    static func estimatedBytes(_ m: RaftGroupMessage) -> Int {
        var n = 100 + m.message.context.count
        for e in m.message.entries { n += 21 + e.data.count }
        if let s = m.message.snapshot { n += 40 + s.data.count + 8 * s.metadata.confState.members.count }
        return n
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }

    private func reportDropped(_ messages: [RaftGroupMessage]) {
        guard let receiver = transport.receiver else { return }
        for m in messages where m.message.kind == .snapshot {
            receiver.snapshotStatus(group: m.group, to: node, delivered: false)
        }
        receiver.unreachable(node)
    }

    // MARK: connection lifecycle

    func connect() {
        let attempt = state.withLockedValue { state -> UInt64? in
            if case .stopped = state.phase { return nil }
            state.attempts += 1
            state.phase = .connecting(attempt: state.attempts)
            return state.attempts
        }
        guard let attempt else { return }
        let clientContext = transport.clientContext
        let limits = transport.options.limits
        let me = transport.nodeID
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: 1 << 20, high: 8 << 20))
            .connectTimeout(.nanoseconds(Self.nanoseconds(transport.options.connectTimeout)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        try NIOSSLClientHandler(context: clientContext, serverHostname: nil),
                        ByteToMessageHandler(ClusterFrameDecoder(limits: limits)),
                        OutboundConnectionHandler(link: self, attempt: attempt, nodeID: me),
                    ])
                }
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { result in
                switch result {
                case .failure:
                    self.connectionFailed(attempt: attempt)
                case .success(let channel):
                    // A peer that accepts but never finishes the handshake (stopped, wedged)
                    // must not hold the link in `connecting` forever.
                    self.eventLoop.scheduleTask(in: .nanoseconds(Self.nanoseconds(self.transport.options.handshakeTimeout))) {
                        if self.isConnecting(attempt: attempt) { channel.close(promise: nil) }
                    }
                }
            }
    }

    var queuedBytes: Int { state.withLockedValue { $0.queuedBytes } }

    var isConnected: Bool {
        state.withLockedValue { state in
            if case .connected = state.phase { return true }
            return false
        }
    }

    private func isConnecting(attempt: UInt64) -> Bool {
        state.withLockedValue { state in
            if case .connecting(let current) = state.phase { return current == attempt }
            return false
        }
    }

    /// The TLS handshake succeeded and the hello is written: queued traffic may flow.
    func established(attempt: UInt64, channel: any Channel) {
        let flush = state.withLockedValue { state -> Bool in
            guard case .connecting(let current) = state.phase, current == attempt else { return false }
            state.phase = .connected(attempt: attempt, channel)
            state.reconnectDelay = transport.options.reconnectDelayMin
            return scheduleFlushLocked(&state)
        }
        if flush { self.flush() }
    }

    /// The channel drained below its low watermark: write what queued up meanwhile.
    func becameWritable(attempt: UInt64) {
        let flush = state.withLockedValue { state -> Bool in
            guard case .connected(let current, _) = state.phase, current == attempt else { return false }
            return scheduleFlushLocked(&state)
        }
        if flush { self.flush() }
    }

    /// The attempt's connection failed or closed: everything waiting on it is abandoned
    /// and reported, and the link re-dials after the backoff delay.
    func connectionFailed(attempt: UInt64) {
        let outcome = state.withLockedValue { state -> (Duration, [Outgoing], [UInt64: UInt64], [PendingRequest])? in
            switch state.phase {
            case .connecting(let current) where current == attempt, .connected(let current, _) where current == attempt:
                break
            default:
                return nil
            }
            state.phase = .backingOff
            let delay = state.reconnectDelay
            state.reconnectDelay = min(state.reconnectDelay * 2, transport.options.reconnectDelayMax)
            let result = (delay, state.queue, state.snapshotsInFlight, Array(state.requests.values))
            state.queue = []
            state.queuedBytes = 0
            state.snapshotsInFlight = [:]
            state.requests = [:]
            return result
        }
        guard let (delay, queue, snapshots, requests) = outcome else { return }
        for r in requests { r.continuation.resume(throwing: StalError(.unavailable, "connection to node \(node) failed")) }
        if let receiver = transport.receiver {
            for group in snapshots.values { receiver.snapshotStatus(group: group, to: node, delivered: false) }
            for case .message(let m) in queue where m.message.kind == .snapshot {
                receiver.snapshotStatus(group: m.group, to: node, delivered: false)
            }
            receiver.unreachable(node)
        }
        eventLoop.scheduleTask(in: .nanoseconds(Self.nanoseconds(delay))) { self.connect() }
    }

    func snapshotAcknowledged(transfer: UInt64, delivered: Bool) {
        guard let group = state.withLockedValue({ $0.snapshotsInFlight.removeValue(forKey: transfer) }) else { return }
        transport.receiver?.snapshotStatus(group: group, to: node, delivered: delivered)
    }

    func finishRequest(_ id: UInt64, _ outcome: ClusterFrame.RequestOutcome) {
        guard let pending = state.withLockedValue({ $0.requests.removeValue(forKey: id) }) else { return }
        switch outcome {
        case .success(let payload): pending.continuation.resume(returning: payload)
        case .failure(let error): pending.continuation.resume(throwing: error)
        }
    }

    func stop() async {
        let (channel, requests) = state.withLockedValue { state -> ((any Channel)?, [PendingRequest]) in
            var channel: (any Channel)?
            if case .connected(_, let c) = state.phase { channel = c }
            state.phase = .stopped
            state.queue = []
            state.queuedBytes = 0
            let requests = Array(state.requests.values)
            state.requests = [:]
            return (channel, requests)
        }
        for r in requests { r.continuation.resume(throwing: StalError(.unavailable, "transport stopped")) }
        try? await channel?.close()
    }
}

/// The dialling side of a link: sends the hello once TLS is up, passes answers back.
final class OutboundConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ClusterFrame
    let link: PeerLink
    let attempt: UInt64
    let nodeID: RaftNodeID

    init(link: PeerLink, attempt: UInt64, nodeID: RaftNodeID) {
        self.link = link
        self.attempt = attempt
        self.nodeID = nodeID
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            // The listener must be the node we dialled, not any holder of a cluster certificate.
            guard let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self).peerCertificate,
                  ClusterTLS.certifiedNodes(certificate).contains(link.node) else {
                context.close(promise: nil)
                return
            }
            context.writeAndFlush(NIOAny(ClusterFrameCodec.encode(.hello(node: nodeID))), promise: nil)
            link.established(attempt: attempt, channel: context.channel)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .response(let id, let outcome):
            link.finishRequest(id, outcome)
        case .snapshotAck(let transfer, let delivered):
            link.snapshotAcknowledged(transfer: transfer, delivered: delivered)
        default:
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { link.becameWritable(attempt: attempt) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.connectionFailed(attempt: attempt)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
