import NIOCore
import NIOEmbedded
import NIOSSL
import StalCore
import StalDeterminism
import StalSMTP
import StalSMTPCore
import Testing

/// A client's view of one server session on an async testing channel.
struct SMTPTestConnection {
    let channel: NIOAsyncTestingChannel

    init(configuration: SMTPServerConfiguration, backend: any SMTPBackend, remote: String = "192.0.2.9",
         clock: any WallClock = ManualClock(Timestamp(secondsSinceEpoch: 1_795_000_000))) async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: remote, port: 50_000)).get()
        try await channel.testingEventLoop.executeInContext {
            try SMTPChannelInitializer.configure(channel: channel, configuration: configuration, backend: backend,
                                                 clock: clock, sessionID: "t1")
        }
        self.channel = channel
    }

    func send(_ text: String) async throws {
        try await channel.writeInbound(ByteBuffer(string: text))
    }

    /// The next reply the server wrote (one write per reply), waiting for backend calls.
    func reply() async throws -> String {
        let buffer = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        return String(buffer: buffer)
    }

    func replies(_ count: Int) async throws -> [String] {
        var out: [String] = []
        for _ in 0..<count { out.append(try await reply()) }
        return out
    }
}

/// A self-signed certificate for `mx.example`, used only to run real TLS handshakes in tests.
enum TestTLS {
    static let certificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIBmDCCAT6gAwIBAgIUEU/+FezMtxLFqOBCdz3XqS9hDikwCgYIKoZIzj0EAwIw
        FTETMBEGA1UEAwwKbXguZXhhbXBsZTAgFw0yNjExMjUwMDU5MDRaGA8yMTI2MTEw
        MTAwNTkwNFowFTETMBEGA1UEAwwKbXguZXhhbXBsZTBZMBMGByqGSM49AgEGCCqG
        SM49AwEHA0IABMQgXY5WdicjOm4BdsC6YItXYVn34GFaRS/OsCMaMFqPO1+YNitQ
        webur81whHqFThlovVn+27t5aqSvFrSHBMmjajBoMB0GA1UdDgQWBBTn5Q0ltMDc
        RRdhUC2lONXXXoi5HTAfBgNVHSMEGDAWgBTn5Q0ltMDcRRdhUC2lONXXXoi5HTAP
        BgNVHRMBAf8EBTADAQH/MBUGA1UdEQQOMAyCCm14LmV4YW1wbGUwCgYIKoZIzj0E
        AwIDSAAwRQIhAO7k3mnV8JQi18xw79pL5r9E2yS97Nis+rBKhip1bYeiAiBcifEl
        ELFXTX30vAWkx3oHcGM22SQ/7N3efNnOZ6snMw==
        -----END CERTIFICATE-----
        """
    static let privateKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0lksUgXbqNMmqcpH
        rQj42RSuiXHJB8l4eCKwOC+UVyChRANCAATEIF2OVnYnIzpuAXbAumCLV2FZ9+Bh
        WkUvzrAjGjBajztfmDYrUMHm7q/NcIR6hU4ZaL1Z/tu7eWqkrxa0hwTJ
        -----END PRIVATE KEY-----
        """

    static func serverContext() throws -> NIOSSLContext {
        let certificate = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)],
                                                                     privateKey: .privateKey(key))
        return try NIOSSLContext(configuration: configuration)
    }

    static func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return try NIOSSLContext(configuration: configuration)
    }
}
