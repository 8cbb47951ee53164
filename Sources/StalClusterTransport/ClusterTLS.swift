import NIOCore
import NIOSSL

/// A node's identity between nodes: its certificate chain and key, and the cluster CA that
/// signed every node's certificate. Both sides of every connection present a certificate
/// and verify the other's against the CA alone (mutual TLS 1.3; hostnames are not checked,
/// nodes are addressed by IP).
public struct ClusterTLS: Sendable {
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    public var authority: [NIOSSLCertificate]

    public init(certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey, authority: [NIOSSLCertificate]) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.authority = authority
    }

    public init(certificateChainPEM: String, privateKeyPEM: String, authorityPEM: String) throws {
        self.init(certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificateChainPEM.utf8)),
                  privateKey: try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem),
                  authority: try NIOSSLCertificate.fromPEMBytes(Array(authorityPEM.utf8)))
    }

    public static func load(certificatePath: String, keyPath: String, authorityPath: String) throws -> ClusterTLS {
        ClusterTLS(certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath),
                   privateKey: try NIOSSLPrivateKey(file: keyPath, format: .pem),
                   authority: try NIOSSLCertificate.fromPEMFile(authorityPath))
    }

    func serverContext() throws -> NIOSSLContext {
        var config = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: certificateChain.map { .certificate($0) }, privateKey: .privateKey(privateKey),
            trustRoots: .certificates(authority))
        config.minimumTLSVersion = .tlsv13
        config.shutdownTimeout = Self.shutdownTimeout
        return try NIOSSLContext(configuration: config)
    }

    /// How long closing waits for the peer's close_notify; a stalled peer never sends one.
    static let shutdownTimeout: TimeAmount = .milliseconds(500)

    func clientContext() throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateChain = certificateChain.map { .certificate($0) }
        config.privateKey = .privateKey(privateKey)
        config.trustRoots = .certificates(authority)
        config.certificateVerification = .noHostnameVerification
        config.minimumTLSVersion = .tlsv13
        config.shutdownTimeout = Self.shutdownTimeout
        return try NIOSSLContext(configuration: config)
    }
}
