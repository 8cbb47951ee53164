import Crypto
import Foundation
import NIOSSL
import StalClusterTransport
import SwiftASN1
import X509

/// A throwaway cluster CA that issues node certificates, as an operator's `openssl` would.
struct TestAuthority {
    let name: DistinguishedName
    let key: P256.Signing.PrivateKey
    let certificatePEM: String

    init(name commonName: String) throws {
        key = P256.Signing.PrivateKey()
        let certKey = Certificate.PrivateKey(key)
        name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: certKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                KeyUsage(keyCertSign: true)
            },
            issuerPrivateKey: certKey)
        certificatePEM = try Self.pem(certificate)
    }

    func issue(node: UInt64) throws -> ClusterTLS {
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PrivateKey(leafKey).publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400),
            issuer: name, subject: try DistinguishedName { CommonName("node-\(node)") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                KeyUsage(digitalSignature: true)
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return try ClusterTLS(certificateChainPEM: try Self.pem(certificate), privateKeyPEM: leafKey.pemRepresentation,
                              authorityPEM: certificatePEM)
    }

    static func pem(_ certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString
    }
}
