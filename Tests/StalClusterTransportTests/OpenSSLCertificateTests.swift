import Foundation
import NIOPosix
import StalRaft
import Testing
@testable import StalClusterTransport

/// The certificates docs/operations.md tells operators to make with the openssl CLI (and
/// cluster/stalcluster.py makes for the process tests) load and talk.
@Suite struct OpenSSLCertificateTests {
    func openssl(_ arguments: [String], in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    @Test func operationsGuideCertificatesWork() async throws {
        let dir = NSTemporaryDirectory() + "stal-openssl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                     "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=stal cluster CA",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: dir)
        try "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n"
            .write(toFile: dir + "/node.ext", atomically: true, encoding: .utf8)
        for n in 1...2 {
            try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                         "-keyout", "node\(n).key", "-out", "node\(n).csr", "-subj", "/CN=node-\(n)"], in: dir)
            try openssl(["x509", "-req", "-in", "node\(n).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                         "-days", "2", "-extfile", "node.ext", "-out", "node\(n).pem"], in: dir)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var transports: [ClusterTransport] = []
        for n: RaftNodeID in [1, 2] {
            let tls = try ClusterTLS.load(certificatePath: "\(dir)/node\(n).pem", keyPath: "\(dir)/node\(n).key",
                                          authorityPath: "\(dir)/ca.pem")
            transports.append(try await ClusterTransport.bind(nodeID: n, host: "127.0.0.1", port: 0, peers: [:], tls: tls, group: group))
        }
        let peers = ([1: transports[0], 2: transports[1]] as [RaftNodeID: ClusterTransport]).mapValues { ClusterTransport.PeerAddress(host: "127.0.0.1", port: $0.listeningPort) }
        let receivers = [RecordingReceiver(), RecordingReceiver()]
        for (i, t) in transports.enumerated() {
            t.setPeers(peers)
            try t.start(receivers[i])
        }
        transports[0].send([message(.append, from: 1, to: 2, term: 5)])
        try await eventually("delivery") { !receivers[1].received.isEmpty }
        #expect(receivers[1].received.map(\.message.term) == [5])
        for t in transports { await t.shutdown() }
        try await group.shutdownGracefully()
    }
}
