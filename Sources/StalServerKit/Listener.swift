import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// One listening socket. The protocol target supplies `configure`, which installs its
/// handlers on each accepted channel; the listener adds implicit TLS in front when asked and
/// refuses connections above `connectionsMax` before any protocol code runs.
public final class Listener: Sendable {
    public struct Configuration: Sendable {
        public var name: String
        public var host: String
        public var port: Int
        public var implicitTLS: NIOSSLContext?
        public var connectionsMax: Int

        public init(name: String, host: String, port: Int, implicitTLS: NIOSSLContext? = nil, connectionsMax: Int = 10_000) {
            self.name = name
            self.host = host
            self.port = port
            self.implicitTLS = implicitTLS
            self.connectionsMax = connectionsMax
        }
    }

    public let configuration: Configuration
    public let channel: Channel
    private let connections: ConnectionTracker

    public var localPort: Int { channel.localAddress?.port ?? configuration.port }

    private init(configuration: Configuration, channel: Channel, connections: ConnectionTracker) {
        self.configuration = configuration
        self.channel = channel
        self.connections = connections
    }

    public static func bind(
        _ configuration: Configuration,
        group: EventLoopGroup,
        logger: Logger,
        configure: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
    ) async throws -> Listener {
        let tracker = ConnectionTracker(limit: configuration.connectionsMax)
        let tls = configuration.implicitTLS
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { channel in
                guard tracker.admit(channel) else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in tracker.release(channel) }
                if let tls {
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }.flatMap { configure(channel) }
                }
                return configure(channel)
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        logger.info("listening", metadata: [
            "listener": .string(configuration.name),
            "address": .string("\(configuration.host):\(channel.localAddress?.port ?? configuration.port)"),
        ])
        return Listener(configuration: configuration, channel: channel, connections: tracker)
    }

    /// Stops accepting, then closes open connections.
    public func shutdown() async {
        try? await channel.close()
        await connections.closeAll()
    }

    public var openConnections: Int { connections.count }
}

final class ConnectionTracker: @unchecked Sendable {
    private let lock = NIOLock()
    private var open: [ObjectIdentifier: Channel] = [:]
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func admit(_ channel: Channel) -> Bool {
        lock.withLock {
            guard open.count < limit else { return false }
            open[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func release(_ channel: Channel) {
        lock.withLock { _ = open.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var count: Int { lock.withLock { open.count } }

    func closeAll() async {
        let channels = lock.withLock { Array(open.values) }
        for c in channels { try? await c.close() }
    }
}

extension SocketAddress {
    /// Loopback peers may use plain-text authentication without TLS (the connection never
    /// leaves the host).
    public var isLoopback: Bool {
        switch self {
        case .v4(let a):
            return a.address.sin_addr.s_addr.bigEndian >> 24 == 127
        case .v6:
            let ip = self.ipAddress ?? ""
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket:
            return true
        }
    }
}
