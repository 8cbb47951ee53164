import NIOCore
import NIOSSL
import StalRaft
import X509

/// A node's identity between nodes: its certificate chain and key, and the cluster CA that
/// signed every node's certificate. Both sides of every connection present a certificate
/// and verify the other's against the CA (mutual TLS 1.3; hostnames are not checked,
/// nodes are addressed by IP), and each certificate must name the node it speaks for:
/// subject common name or a DNS subject alternative name `node-<id>` (`certifiedNode`).
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

    /// The node a certificate was issued to: its `node-<id>` common name or DNS alternative
    /// name. Without this binding any certificate of the cluster CA could claim any node id
    /// in its hello and receive that node's traffic.
    public static func certifiedNodes(_ certificate: NIOSSLCertificate) -> Set<RaftNodeID> {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return [] }
        var names: [String] = []
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                names.append(attribute.value.description)
            }
        }
        if let alternatives = try? parsed.extensions.subjectAlternativeNames {
            for case let .dnsName(name) in alternatives { names.append(name) }
        }
        return Set(names.compactMap { name in
            guard name.hasPrefix(nodeNamePrefix) else { return nil }
            return RaftNodeID(name.dropFirst(nodeNamePrefix.count))
        })
    }

    static let nodeNamePrefix = "node-"
}
