import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing
@testable import StalServerKit

@Suite struct TLSMaterialTests {
    @Test func selfSignedCertificateBuildsAServerContext() throws {
        let m = try TLSMaterial.selfSigned(hostnames: ["mail.example.test"], now: Date(timeIntervalSince1970: 1_764_000_000), validityDays: 30)
        #expect(m.certificateChainPEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(m.privateKeyPEM.contains("PRIVATE KEY"))
        _ = try m.makeServerContext()
    }

    @Test func createdMaterialIsReusedAndKeyIsPrivate() throws {
        let dir = NSTemporaryDirectory() + "stal-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let now = Date(timeIntervalSince1970: 1_764_000_000)
        let a = try TLSMaterial.loadOrCreateSelfSigned(directory: dir, hostnames: ["localhost"], now: now)
        let b = try TLSMaterial.loadOrCreateSelfSigned(directory: dir, hostnames: ["localhost"], now: now)
        #expect(a.certificateChainPEM == b.certificateChainPEM)
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/key.pem")
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
    }
}

@Suite struct ListenerTests {
    @Test func refusesConnectionsAboveTheLimit() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await Listener.bind(
            .init(name: "test", host: "127.0.0.1", port: 0, connectionsMax: 1),
            group: group, logger: .init(label: "test")
        ) { channel in
            channel.writeAndFlush(channel.allocator.buffer(string: "hello\r\n")).map { _ in }
        }
        let port = listener.localPort
        let first = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        let greeting = try await readAll(group: group, port: port)
        // The second connection is closed before any greeting because the first holds the slot.
        #expect(greeting.isEmpty)
        try await first.close()
        await listener.shutdown()
        try await group.shutdownGracefully()
    }

    private func readAll(group: EventLoopGroup, port: Int) async throws -> String {
        let collector = Collector(eventLoop: group.next())
        _ = try await ClientBootstrap(group: group)
            .channelInitializer { $0.pipeline.addHandler(collector) }
            .connect(host: "127.0.0.1", port: port).get()
        return try await collector.done.futureResult.get()
    }

    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var text = ""
        let done: EventLoopPromise<String>
        init(eventLoop: EventLoop) { done = eventLoop.makePromise() }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var b = unwrapInboundIn(data)
            text += b.readString(length: b.readableBytes) ?? ""
        }
        func channelInactive(context: ChannelHandlerContext) { done.succeed(text) }
    }

    @Test func loopbackDetection() throws {
        #expect(try SocketAddress(ipAddress: "127.0.0.5", port: 1).isLoopback)
        #expect(try SocketAddress(ipAddress: "::1", port: 1).isLoopback)
        #expect(try !SocketAddress(ipAddress: "192.0.2.1", port: 1).isLoopback)
    }
}
