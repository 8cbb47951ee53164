import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A server certificate chain and private key in PEM form, either read from the operator's
/// files or generated once and kept under the data directory so clients can pin it.
public struct TLSMaterial: Sendable {
    public var certificateChainPEM: String
    public var privateKeyPEM: String

    public init(certificateChainPEM: String, privateKeyPEM: String) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
    }

    public static func load(certificatePath: String, keyPath: String) throws -> TLSMaterial {
        TLSMaterial(
            certificateChainPEM: try String(contentsOfFile: certificatePath, encoding: .utf8),
            privateKeyPEM: try String(contentsOfFile: keyPath, encoding: .utf8))
    }

    /// Reuses `cert.pem`/`key.pem` in `directory` or creates a self-signed P-256 certificate
    /// for `hostnames` there (the key file is written with mode 0600).
    public static func loadOrCreateSelfSigned(
        directory: String, hostnames: [String], now: Date, validityDays: Int = 825
    ) throws -> TLSMaterial {
        let certPath = directory + "/cert.pem"
        let keyPath = directory + "/key.pem"
        let fm = FileManager.default
        if fm.fileExists(atPath: certPath), fm.fileExists(atPath: keyPath) {
            return try load(certificatePath: certPath, keyPath: keyPath)
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let material = try selfSigned(hostnames: hostnames, now: now, validityDays: validityDays)
        try Data(material.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: keyPath + ".tmp"))
        chmod(keyPath + ".tmp", 0o600)
        try Data(material.certificateChainPEM.utf8).write(to: URL(fileURLWithPath: certPath + ".tmp"))
        _ = rename(keyPath + ".tmp", keyPath)
        _ = rename(certPath + ".tmp", certPath)
        return material
    }

    public static func selfSigned(hostnames: [String], now: Date, validityDays: Int) throws -> TLSMaterial {
        let key = P256.Signing.PrivateKey()
        let certKey = Certificate.PrivateKey(key)
        let name = try DistinguishedName {
            CommonName(hostnames.first ?? "localhost")
            OrganizationName("Stal self-signed")
        }
        var sans: [GeneralName] = hostnames.map { .dnsName($0) }
        sans.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            KeyUsage(digitalSignature: true, keyEncipherment: true)
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(sans)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: certKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(Double(validityDays) * 86400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: certKey)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let pem = PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString
        return TLSMaterial(certificateChainPEM: pem, privateKeyPEM: key.pemRepresentation)
    }

    /// A server context offering TLS 1.2 and 1.3 only.
    public func makeServerContext() throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificateChainPEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        config.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: config)
    }
}
