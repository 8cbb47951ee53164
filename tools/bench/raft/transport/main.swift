import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import StalClusterTransport
import StalRaft
import StalShardLog
import SwiftASN1
import X509

/// Two ClusterTransports on 127.0.0.1 with mutual TLS, in one process: how many Raft
/// messages per second one link carries, and request/response round trips (what a
/// follower pays to forward a proposal to the leader). One JSON line per case.
/// Usage: bench-cluster-transport [messages] [requests]

let messageCount = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let requestCount = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 100_000 : 100_000

final class Counter: RaftTransportReceiver {
    let received = NIOLockedValueBox(0)
    func received(_ messages: [RaftGroupMessage]) { received.withLockedValue { $0 += messages.count } }
    func unreachable(_ node: RaftNodeID) {}
    func snapshotStatus(group: UInt64, to node: RaftNodeID, delivered: Bool) {}
    func handleRequest(_ payload: [UInt8], from node: RaftNodeID) async throws -> [UInt8] { payload }
}

func pem(_ certificate: Certificate) throws -> String {
    var serializer = DER.Serializer()
    try serializer.serialize(certificate)
    return PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString
}

func makeTLS() throws -> [ClusterTLS] {
    let caKey = P256.Signing.PrivateKey()
    let caName = try DistinguishedName { CommonName("bench CA") }
    let now = Date()
    let ca = try Certificate(
        version: .v3, serialNumber: .init(), publicKey: Certificate.PrivateKey(caKey).publicKey,
        notValidBefore: now - 3600, notValidAfter: now + 86400, issuer: caName, subject: caName,
        signatureAlgorithm: .ecdsaWithSHA256,
        extensions: try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            KeyUsage(keyCertSign: true)
        }, issuerPrivateKey: Certificate.PrivateKey(caKey))
    return try (1...2).map { n in
        let key = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: Certificate.PrivateKey(key).publicKey,
            notValidBefore: now - 3600, notValidAfter: now + 86400, issuer: caName,
            subject: try DistinguishedName { CommonName("node-\(n)") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                KeyUsage(digitalSignature: true)
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
            }, issuerPrivateKey: Certificate.PrivateKey(caKey))
        return try ClusterTLS(certificateChainPEM: try pem(leaf), privateKeyPEM: key.pemRepresentation, authorityPEM: try pem(ca))
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
let tls = try makeTLS()
let a = try await ClusterTransport.bind(nodeID: 1, host: "127.0.0.1", port: 0, peers: [:], tls: tls[0], group: group)
let b = try await ClusterTransport.bind(nodeID: 2, host: "127.0.0.1", port: 0, peers: [:], tls: tls[1], group: group)
let peers: [RaftNodeID: ClusterTransport.PeerAddress] = [1: .init(host: "127.0.0.1", port: a.listeningPort),
                                                         2: .init(host: "127.0.0.1", port: b.listeningPort)]
a.setPeers(peers)
b.setPeers(peers)
let counterA = Counter(), counterB = Counter()
try a.start(counterA)
try b.start(counterB)
while try await a.request(to: 2, [1], timeout: .seconds(5)) != [1] {}

// Appends of one 256-byte entry, sent in batches of 64 as a driver's Ready would.
let entry = [UInt8](repeating: 0x61, count: 256)
let batch = (0..<64).map { i in
    RaftGroupMessage(group: UInt64(i % 8), message: RaftMessage(kind: .append, from: 1, to: 2, term: 1, index: UInt64(i),
                                                                 entries: [LogEntry(index: UInt64(i + 1), term: 1, data: entry)]))
}
var start = ContinuousClock.now
var sent = 0
while sent < messageCount {
    // Stay under the peer queue bound: a real driver is paced by Raft's inflight limit.
    while sent - counterB.received.withLockedValue({ $0 }) > 4096 { await Task.yield() }
    a.send(batch)
    sent += batch.count
}
while counterB.received.withLockedValue({ $0 }) < sent { await Task.yield() }
var elapsed = seconds(since: start)
print(#"{"case":"append messages, 256 B entry, batches of 64","messages":\#(sent),"messagesPerSecond":\#(Int(Double(sent) / elapsed))}"#)

for concurrency in [1, 64] {
    let latencies = NIOLockedValueBox<[Double]>([])
    start = ContinuousClock.now
    let perTask = requestCount / concurrency
    await withTaskGroup(of: Void.self) { tasks in
        for _ in 0..<concurrency {
            tasks.addTask {
                var mine: [Double] = []
                for _ in 0..<perTask {
                    let t0 = ContinuousClock.now
                    _ = try? await a.request(to: 2, entry, timeout: .seconds(5))
                    mine.append(seconds(since: t0) * 1000)
                }
                latencies.withLockedValue { $0 += mine }
            }
        }
    }
    elapsed = seconds(since: start)
    let sorted = latencies.withLockedValue { $0 }.sorted()
    let p = { (q: Double) in String(format: "%.3f", sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) }
    print(#"{"case":"request/response 256 B","concurrency":\#(concurrency),"requestsPerSecond":\#(Int(Double(sorted.count) / elapsed)),"p50Ms":\#(p(0.5)),"p99Ms":\#(p(0.99))}"#)
}
await a.shutdown()
await b.shutdown()
try await group.shutdownGracefully()
