import NIOCore
import NIOSSL
import StalCore
import StalIMAPCore

/// The thin NIO edge of an IMAP connection: feeds received bytes to the framing decoder,
/// frames to the session state machine, and performs the actions it returns. Store work
/// runs in `IMAPSession` off the event loop, one command at a time; while it runs, further
/// input waits in the decoder and reading pauses once `bufferedOctetsMax` is reached.
final class IMAPServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let configuration: IMAPServerConfiguration
    private let services: IMAPServices
    private var decoder: IMAPFrameDecoder
    private var machine: IMAPSessionStateMachine
    private var session: IMAPSession?
    private let encoder = IMAPResponseEncoder()
    /// A command (or authentication, or IDLE teardown) is running in the session.
    private var busy = false
    private var readHeld = false
    private var closing = false
    private var greeted = false
    private var inactivityTimer: Scheduled<Void>?

    init(configuration: IMAPServerConfiguration, services: IMAPServices, remoteIsLoopback: Bool) {
        self.configuration = configuration
        self.services = services
        self.decoder = IMAPFrameDecoder(configuration: .init(limits: configuration.limits))
        self.machine = IMAPSessionStateMachine(configuration: .init(
            startTLSAvailable: configuration.startTLSContext != nil, connectionIsTLS: configuration.implicitTLS,
            remoteIsLoopback: remoteIsLoopback, badCommandsBeforeDisconnect: configuration.limits.imapBadCommandsBeforeDisconnect,
            serverName: configuration.serverName))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let remote = context.channel.remoteAddress?.ipAddress ?? ""
        session = IMAPSession(services: services, configuration: configuration, remote: remote) { bytes in
            let written = eventLoop.makePromise(of: Void.self)
            eventLoop.execute {
                let context = loopContext.value
                context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: written)
            }
            do {
                try await written.futureResult.get()
                return true
            } catch {
                return false
            }
        }
        if context.channel.isActive { greet(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        shutDownSession()
    }

    func channelActive(context: ChannelHandlerContext) {
        greet(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDownSession()
        context.fireChannelInactive()
    }

    /// Dropping the session breaks the handler → session → context → handler cycle.
    private func shutDownSession() {
        closing = true
        inactivityTimer?.cancel()
        inactivityTimer = nil
        guard let session else { return }
        self.session = nil
        Task { await session.close() }
    }

    private func greet(context: ChannelHandlerContext) {
        guard !greeted else { return }
        greeted = true
        write([machine.greeting()], context: context)
        restartInactivityTimer(context: context)
    }

    private func restartInactivityTimer(context: ChannelHandlerContext) {
        inactivityTimer?.cancel()
        let loopSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        inactivityTimer = context.eventLoop.scheduleTask(in: .seconds(configuration.inactivityTimeoutSeconds)) {
            loopSelf.value.inactivityTimeout(context: loopContext.value)
        }
    }

    private func inactivityTimeout(context: ChannelHandlerContext) {
        guard !closing else { return }
        if busy {
            restartInactivityTimer(context: context)
            return
        }
        write([.untagged(.condition(.bye, nil, "Autologout; idle for too long"))], context: context)
        closing = true
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if busy && decoder.bufferedOctets >= configuration.bufferedOctetsMax {
            readHeld = true
            return
        }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        decoder.append(buffer.readableBytesView)
        restartInactivityTimer(context: context)
        processInput(context: context)
    }

    private func write(_ responses: [IMAPResponse], context: ChannelHandlerContext) {
        guard !responses.isEmpty else { return }
        var bytes: [UInt8] = []
        for r in responses { encoder.encode(r, into: &bytes) }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func processInput(context: ChannelHandlerContext) {
        while !busy && !closing {
            decoder.expectsRawLine = machine.expectsRawLine
            guard let event = decoder.next() else { break }
            switch event {
            case .continuationRequested:
                write([.continuation("Ready for literal data")], context: context)
            case .rejected(let tag, let error):
                perform(machine.frameRejected(tag: tag, error), context: context)
            case .frame(let frame):
                perform(machine.receive(frame), context: context)
            }
        }
        if !busy && readHeld {
            readHeld = false
            context.read()
        }
    }

    private func perform(_ action: IMAPSessionStateMachine.Action, context: ChannelHandlerContext) {
        guard let session else { return }
        switch action {
        case .send(let responses):
            write(responses, context: context)
        case .close(let responses):
            write(responses, context: context)
            closing = true
            context.close(promise: nil)
        case .startTLS(_, let responses):
            write(responses, context: context)
            guard let tls = configuration.startTLSContext else { return }
            // Bytes pipelined after STARTTLS were sent in clear text: drop them (RFC 3501 §11.1).
            decoder = IMAPFrameDecoder(configuration: decoder.configuration)
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
                machine.tlsEstablished()
            } catch {
                closing = true
                context.close(promise: nil)
            }
        case .checkCredentials(_, let username, let password):
            runInSession(context: context) {
                await session.authenticate(username: username, password: password)
            } then: { handler, outcome, context in
                handler.perform(handler.machine.authenticationFinished(outcome), context: context)
            }
        case .perform(let tagged):
            runInSession(context: context) {
                await session.execute(tagged)
            } then: { handler, change, _ in
                switch change {
                case .unchanged: break
                case .selected(let readOnly): handler.machine.selected(readOnly: readOnly)
                case .deselected: handler.machine.deselected()
                }
            }
        case .startIdle(_, let responses):
            runInSession(context: context) {
                await session.startIdle(responses)
            } then: { _, _, _ in }
        case .finishIdle(let responses):
            runInSession(context: context) {
                await session.finishIdle(responses)
            } then: { _, _, _ in }
        }
    }

    /// Runs `work` in the session while input waits, then continues on the event loop.
    private func runInSession<Result: Sendable>(
        context: ChannelHandlerContext,
        _ work: @escaping @Sendable () async -> Result,
        then: @escaping (IMAPServerHandler, Result, ChannelHandlerContext) -> Void
    ) {
        busy = true
        let loopSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loopThen = NIOLoopBound(then, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        Task {
            let result = await work()
            eventLoop.execute {
                let handler = loopSelf.value
                let context = loopContext.value
                handler.busy = false
                loopThen.value(handler, result, context)
                handler.processInput(context: context)
            }
        }
    }
}

/// Installs the IMAP handler into a channel's pipeline; the one plug point for listeners.
public enum IMAPChannelInitializer {
    /// Call from a `childChannelInitializer` (after any implicit-TLS handler). Plaintext
    /// authentication is allowed on TLS connections and from loopback addresses only.
    public static func configure(channel: Channel, configuration: IMAPServerConfiguration,
                                 services: IMAPServices) -> EventLoopFuture<Void> {
        let remoteIsLoopback = isLoopback(channel.remoteAddress)
        return channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(
                IMAPServerHandler(configuration: configuration, services: services, remoteIsLoopback: remoteIsLoopback))
        }
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
