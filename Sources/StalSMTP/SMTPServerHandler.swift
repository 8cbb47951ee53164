import NIOCore
import NIOSSL
import StalCore
import StalDeterminism
import StalSMTPCore

/// The thin NIO edge of an SMTP session: feeds received bytes to `SMTPSessionStateMachine`
/// and performs the actions it returns. Backend calls run as tasks whose results hop back
/// onto the channel's event loop. While one is outstanding the handler stops asking the
/// channel to read, so a pipelining client cannot make it buffer without bound.
public final class SMTPServerHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let configuration: SMTPServerConfiguration
    private let backend: any SMTPBackend
    private let clock: any WallClock
    private let sessionID: String
    private var machine: SMTPSessionStateMachine?
    private var context: ChannelHandlerContext?
    /// A `read` the channel asked for while a backend call was outstanding.
    private var readHeld = false
    private var inactive = false
    private var idleTimer: Scheduled<Void>?

    public init(configuration: SMTPServerConfiguration, backend: any SMTPBackend, clock: any WallClock, sessionID: String) {
        self.configuration = configuration
        self.backend = backend
        self.clock = clock
        self.sessionID = sessionID
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { startSession(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        startSession(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        idleTimer?.cancel()
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard machine != nil else { return }
        // Mutated in place: a copy would duplicate the message buffer on every read.
        let actions = buffer.withUnsafeReadableBytes { self.machine!.receive($0) }
        perform(actions)
        armIdleTimer()
    }

    public func read(context: ChannelHandlerContext) {
        if machine?.isAwaitingResult == true {
            readHeld = true
        } else {
            context.read()
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func startSession(context: ChannelHandlerContext) {
        guard machine == nil else { return }
        machine = SMTPSessionStateMachine(configuration: configuration.session, peer: Self.peer(of: context.channel),
                                          sessionID: sessionID)
        perform(machine!.start())
        armIdleTimer()
    }

    /// Restarted by every read and every backend answer; never fires while one is awaited.
    private func armIdleTimer() {
        idleTimer?.cancel()
        idleTimer = nil
        guard let seconds = configuration.idleTimeoutSeconds, let context, !inactive,
              machine?.isClosed == false, machine?.isAwaitingResult == false else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(seconds)) { [self] in
            guard machine != nil else { return }
            perform(machine!.idleTimeoutElapsed())
        }
    }

    // MARK: Actions

    private func perform(_ actions: [SMTPAction]) {
        guard let context else { return }
        var unflushed = false
        for action in actions {
            switch action {
            case .send(let reply):
                var buffer = context.channel.allocator.buffer(capacity: 64)
                buffer.writeBytes(reply.encode())
                context.write(wrapOutboundOut(buffer), promise: nil)
                unflushed = true
            case .startTLS:
                context.flush()
                unflushed = false
                startTLS(context: context)
            case .checkRecipient(let address):
                let backend = self.backend
                run(context) { await backend.resolveRecipient(address) } then: { handler, verdict in
                    handler.machine!.recipientResolved(verdict)
                }
            case .checkSender(let sender, let identity):
                let backend = self.backend
                run(context) { await backend.senderAllowed(sender, identity: identity) } then: { handler, allowed in
                    handler.machine!.senderChecked(allowed: allowed)
                }
            case .authenticate(let credentials):
                let backend = self.backend
                let remote = machine?.peer.address ?? ""
                run(context) { await backend.authenticate(credentials, remoteAddress: remote) } then: { handler, outcome in
                    handler.machine!.authenticationCompleted(outcome)
                }
            case .deliver(let transaction):
                let backend = self.backend
                let receivedAt = clock.now()
                run(context) { await backend.deliver(transaction, receivedAt: receivedAt) } then: { handler, outcomes in
                    handler.machine!.deliveryCompleted(outcomes)
                }
            case .close:
                context.flush()
                unflushed = false
                context.close(promise: nil)
            }
        }
        if unflushed { context.flush() }
    }

    /// Runs a backend call off the event loop, then feeds its result to the state machine
    /// on the loop. Replies already queued are flushed first: the client may be waiting
    /// for them before it sends more (RFC 2920 §3.1).
    private func run<Result: Sendable>(
        _ context: ChannelHandlerContext,
        _ operation: @escaping @Sendable () async -> Result,
        then resume: @escaping (SMTPServerHandler, Result) -> [SMTPAction]
    ) {
        context.flush()
        let future = context.eventLoop.makeFutureWithTask(operation)
        future.assumeIsolated().whenSuccess { [self] result in
            guard !inactive, machine != nil else { return }
            perform(resume(self, result))
            armIdleTimer()
            if readHeld, machine?.isAwaitingResult == false, let context = self.context {
                readHeld = false
                context.read()
            }
        }
    }

    private func startTLS(context: ChannelHandlerContext) {
        guard let tlsContext = configuration.tlsContext else {
            context.close(promise: nil)
            return
        }
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
        } catch {
            context.close(promise: nil)
        }
    }

    static func peer(of channel: Channel) -> SMTPPeer {
        guard let remote = channel.remoteAddress else { return SMTPPeer(address: "", isLoopback: false) }
        guard let ip = remote.ipAddress else {
            // A Unix domain socket (typical for LMTP) is reachable only from this host.
            return SMTPPeer(address: "", isLoopback: true)
        }
        let loopback = ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
        return SMTPPeer(address: ip, isLoopback: loopback)
    }
}
