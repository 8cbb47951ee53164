import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import StalCore
import StalRaft
import StalShardLog

/// A peer's connection to this node. The first frame must be the peer's hello; every
/// message must then be from that peer and to this node. Messages of one read are handed
/// to the receiver together when the read completes; snapshot slices are reassembled (at
/// most `inboundSnapshotTransfersMax` at once, each within `snapshotBytesMax`) and the
/// sender is told once the receiver has the snapshot.
final class InboundConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ClusterFrame
    typealias OutboundOut = ByteBuffer

    private let transport: ClusterTransport
    private var peer: RaftNodeID?
    private var pending: [RaftGroupMessage] = []
    private var pendingAcks: [UInt64] = []
    private var transfers: [UInt64: [UInt8]] = [:]
    private let requestsInFlight = InFlightCounter()

    init(transport: ClusterTransport) {
        self.transport = transport
    }

    func channelActive(context: ChannelHandlerContext) {
        if !transport.track(context.channel) {
            context.close(promise: nil)
        } else {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let channel = context.channel
            context.eventLoop.scheduleTask(in: .nanoseconds(PeerLink.nanoseconds(transport.options.handshakeTimeout))) {
                if handler.value.peer == nil { channel.close(promise: nil) }
            }
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        transport.untrack(context.channel)
        transfers = [:]
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let peer else {
            guard case .hello(let node) = frame, transport.isPeer(node) else {
                return refuse(context, "expected the hello of a known peer")
            }
            guard let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self).peerCertificate,
                  ClusterTLS.certifiedNodes(certificate).contains(node) else {
                return refuse(context, "hello claims node \(node), which the peer's certificate does not name")
            }
            self.peer = node
            return
        }
        let me = transport.nodeID
        switch frame {
        case .messages(let messages):
            guard messages.allSatisfy({ $0.message.from == peer && $0.message.to == me && $0.message.kind != .snapshot }) else {
                return refuse(context, "message not from \(peer) to \(me)")
            }
            pending.append(contentsOf: messages)
        case .heartbeats(let from, let to, let beats):
            guard from == peer, to == me else { return refuse(context, "heartbeats not from \(peer) to \(me)") }
            pending.append(contentsOf: beats.map { $0.message(from: from, to: to) })
        case .snapshotChunk(let chunk):
            receiveChunk(context, chunk, from: peer)
        case .request(let id, let payload):
            serve(context, id: id, payload: payload, from: peer)
        case .hello, .snapshotAck, .response:
            refuse(context, "unexpected frame from a dialling peer")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !pending.isEmpty {
            let messages = pending
            pending = []
            transport.receiver?.received(messages)
        }
        if !pendingAcks.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: 16 * pendingAcks.count)
            for transfer in pendingAcks { ClusterFrameCodec.encode(.snapshotAck(transfer: transfer, delivered: true), into: &buffer) }
            pendingAcks = []
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        transport.logger.notice("closing a cluster connection", metadata: [
            "peer": .string(peer.map(String.init) ?? "unknown"), "error": .string("\(error)"),
        ])
        context.close(promise: nil)
    }

    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        errorCaught(context: context, error: ClusterFrameError(reason))
    }

    private func receiveChunk(_ context: ChannelHandlerContext, _ chunk: SnapshotChunk, from peer: RaftNodeID) {
        var bytes: [UInt8]
        if chunk.offset == 0 {
            guard transfers[chunk.transfer] == nil, transfers.count < transport.options.inboundSnapshotTransfersMax else {
                return refuse(context, "too many snapshot transfers")
            }
            bytes = []
        } else {
            guard let partial = transfers.removeValue(forKey: chunk.transfer), UInt64(partial.count) == chunk.offset else {
                return refuse(context, "snapshot slice out of order")
            }
            bytes = partial
        }
        bytes.append(contentsOf: chunk.bytes)
        guard UInt64(bytes.count) == chunk.totalBytes else {
            transfers[chunk.transfer] = bytes
            return
        }
        let message: RaftGroupMessage
        do {
            message = try ClusterFrameCodec.decodeSnapshotMessage(bytes)
        } catch {
            return refuse(context, error.reason)
        }
        guard message.message.kind == .snapshot, message.message.from == peer, message.message.to == transport.nodeID,
              message.group == chunk.group else {
            return refuse(context, "snapshot transfer does not carry a snapshot from \(peer)")
        }
        pending.append(message)
        pendingAcks.append(chunk.transfer)
    }

    private func serve(_ context: ChannelHandlerContext, id: UInt64, payload: [UInt8], from peer: RaftNodeID) {
        let channel = context.channel
        guard requestsInFlight.increment(limit: transport.options.inboundRequestsMax), let receiver = transport.receiver else {
            let refusal = ClusterFrame.response(id: id, .failure(StalError(.unavailable, "node \(transport.nodeID) is busy")))
            context.writeAndFlush(wrapOutboundOut(ClusterFrameCodec.encode(refusal)), promise: nil)
            return
        }
        let counter = requestsInFlight
        Task {
            let outcome: ClusterFrame.RequestOutcome
            do {
                outcome = .success(try await receiver.handleRequest(payload, from: peer))
            } catch let error as StalError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(StalError(.internal, "\(error)"))
            }
            counter.decrement()
            channel.writeAndFlush(ClusterFrameCodec.encode(.response(id: id, outcome)), promise: nil)
        }
    }
}

/// Requests being served on one connection; shared with the tasks serving them.
final class InFlightCounter: Sendable {
    private let value = NIOLockedValueBox(0)

    func increment(limit: Int) -> Bool {
        value.withLockedValue { v in
            guard v < limit else { return false }
            v += 1
            return true
        }
    }

    func decrement() { value.withLockedValue { $0 -= 1 } }
}
