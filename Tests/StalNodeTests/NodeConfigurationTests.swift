import Foundation
import StalCore
import Testing
@testable import StalNode

@Suite struct NodeConfigurationTests {
    @Test func embeddedDefaultsUseUnprivilegedLoopbackPorts() {
        let c = NodeConfiguration.embeddedDefaults(dataDirectory: "/tmp/d")
        #expect(c.listeners[.smtp]?.description == "127.0.0.1:2525")
        #expect(c.listeners[.submission]?.port == 5870)
        #expect(c.listeners[.lmtp]?.port == 2424)
        #expect(c.listeners[.imap]?.port == 1143)
        #expect(c.listeners[.imaps]?.port == 1993)
        #expect(c.listeners[.http]?.port == 8080)
    }

    @Test func parsesAFullFile() throws {
        let c = try NodeConfiguration.parse(toml: """
            hostname = "mail.example.com"
            data_dir = "/var/lib/stal"
            [listeners]
            smtp = "0.0.0.0:25"
            imaps = "[::]:993"
            lmtp = "off"
            [tls]
            certificate = "/etc/stal/cert.pem"
            key = "/etc/stal/key.pem"
            [limits]
            smtp_message_octets_max = 1048576
            """, defaultDataDirectory: "/tmp/ignored")
        #expect(c.hostname == "mail.example.com")
        #expect(c.dataDirectory == "/var/lib/stal")
        #expect(c.listeners[.smtp] == .init(host: "0.0.0.0", port: 25))
        #expect(c.listeners[.imaps] == .init(host: "::", port: 993))
        #expect(c.listeners[.lmtp] == nil)
        #expect(c.listeners[.imap]?.port == 1143)
        #expect(c.tlsCertificatePath == "/etc/stal/cert.pem")
        #expect(c.limits.smtpMessageOctetsMax == 1_048_576)
    }

    @Test func parsesABlobsSection() throws {
        let c = try NodeConfiguration.parse(toml: """
            [blobs]
            data_shards = 4
            parity_shards = 2
            write_quorum = 5
            scrub_bytes_per_second = 1048576
            locations = [
              { path = "/srv/disk0", failure_domain = "rack-a" },
              { path = "/srv/disk1", failure_domain = "rack-b" },
            ]
            """, defaultDataDirectory: "/d")
        let blobs = try #require(c.blobs)
        #expect(blobs.dataShards == 4 && blobs.parityShards == 2 && blobs.writeQuorum == 5)
        #expect(blobs.scrubBytesPerSecond == 1_048_576)
        #expect(blobs.locations == [.init(path: "/srv/disk0", failureDomain: "rack-a"), .init(path: "/srv/disk1", failureDomain: "rack-b")])
        #expect(try NodeConfiguration.parse(toml: "", defaultDataDirectory: "/d").blobs == nil)
        let defaults = try #require(try NodeConfiguration.parse(toml: """
            [blobs]
            data_shards = 1
            parity_shards = 0
            locations = [{ path = "/srv/disk0", failure_domain = "local" }]
            """, defaultDataDirectory: "/d").blobs)
        #expect(defaults.writeQuorum == nil)
        #expect(defaults.scrubBytesPerSecond == 32 << 20)
    }

    @Test func rejectsBadBlobsSectionsNamingTheProblem() {
        let scheme = "[blobs]\ndata_shards = 4\nparity_shards = 2\n"
        let location = "locations = [{ path = \"/a\", failure_domain = \"x\" }]"
        let cases: [(toml: String, reason: String)] = [
            (scheme + "stripes = 3\n" + location, "unknown key blobs.stripes"),
            ("[blobs]\nk = 4\nm = 2\n" + location, "unknown key blobs.k"),
            (scheme + "locations = [{ path = \"/a\", failure_domain = \"x\", weight = 2 }]", "unknown key blobs.locations[0].weight"),
            (scheme + "locations = [{ path = \"/a\" }]", "blobs.locations[0].failure_domain must be"),
            (scheme + "locations = [{ path = \"\", failure_domain = \"x\" }]", "blobs.locations[0].path must be"),
            (scheme + "locations = [\"/a\"]", "blobs.locations[0] must be a table"),
            (scheme + "locations = [{ path = \"/a\", failure_domain = \"x\" }, { path = \"/a\", failure_domain = \"y\" }]",
             "a path is listed twice"),
            (scheme + "locations = []", "at least one location"),
            ("[blobs]\ndata_shards = 0\nparity_shards = 2\n" + location, "data_shards must be 1...16"),
            ("[blobs]\ndata_shards = 4\nparity_shards = 9\n" + location, "parity_shards 0...8"),
            ("[blobs]\nparity_shards = 2\n" + location, "needs data_shards and parity_shards"),
            (scheme + "write_quorum = 3\n" + location, "write_quorum must be between data_shards (4)"),
            (scheme + "write_quorum = 7\n" + location, "and data_shards + parity_shards (6), got 7"),
            (scheme + "scrub_bytes_per_second = 0\n" + location, "scrub_bytes_per_second must be a positive integer"),
            ("[blobs]\ndata_shards = \"4\"\nparity_shards = 2\n" + location, "blobs.data_shards must be an integer"),
            ("blobs = 3", "[blobs] must be a table"),
            (scheme + location + "\n" + Self.clusterSection, "[blobs] cannot be combined with [cluster]"),
        ]
        for (toml, reason) in cases {
            let error = #expect(throws: NodeConfiguration.ParseError.self, "\(toml)") {
                try NodeConfiguration.parse(toml: toml, defaultDataDirectory: "/d")
            }
            #expect(error?.description.contains(reason) == true, "\(toml): \(error?.description ?? "no error")")
        }
    }

    @Test func rejectsTyposAndBadValues() {
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "hostnme = \"x\"", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "[listeners]\nsmtpp = \"1\"", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "[listeners]\nsmtp = \"nope\"", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "[tls]\ncertificate = \"/a\"", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "[limits]\nsmtp_message_octets_max = -1", defaultDataDirectory: "/d") }
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: "= broken", defaultDataDirectory: "/d") }
    }

    static let clusterSection = """
        [cluster]
        node_id = 2
        listen = "127.0.0.1:7102"
        peers = { "1" = "127.0.0.1:7101", "2" = "127.0.0.1:7102", "3" = "127.0.0.1:7103" }
        certificate = "/etc/stal/node2.pem"
        key = "/etc/stal/node2.key"
        ca = "/etc/stal/ca.pem"
        """

    @Test func parsesTheClusterSection() throws {
        let c = try NodeConfiguration.parse(toml: Self.clusterSection, defaultDataDirectory: "/d")
        let cluster = try #require(c.cluster)
        #expect(cluster.nodeID == 2)
        #expect(cluster.listen == .init(host: "127.0.0.1", port: 7102))
        #expect(cluster.peers == [1: .init(host: "127.0.0.1", port: 7101), 2: .init(host: "127.0.0.1", port: 7102),
                                  3: .init(host: "127.0.0.1", port: 7103)])
        #expect(cluster.certificatePath == "/etc/stal/node2.pem")
        #expect(cluster.keyPath == "/etc/stal/node2.key")
        #expect(cluster.authorityPath == "/etc/stal/ca.pem")
        #expect(try NodeConfiguration.parse(toml: "hostname = \"x\"", defaultDataDirectory: "/d").cluster == nil)
    }

    @Test func clusterListenDefaultsToTheNodesOwnPeerAddress() throws {
        let text = Self.clusterSection.replacingOccurrences(of: "listen = \"127.0.0.1:7102\"\n", with: "")
        #expect(try NodeConfiguration.parse(toml: text, defaultDataDirectory: "/d").cluster?.listen.port == 7102)
    }

    @Test(arguments: [
        ("node_id = 2", "node_id = 0"),
        ("node_id = 2", "node_id = 4"),
        ("node_id = 2", "node_id = \"2\""),
        ("ca = ", "authority = "),
        ("ca = \"/etc/stal/ca.pem\"", ""),
        ("\"3\" = \"127.0.0.1:7103\"", "\"x\" = \"127.0.0.1:7103\""),
        ("\"3\" = \"127.0.0.1:7103\"", "\"3\" = \"nowhere\""),
        ("listen = \"127.0.0.1:7102\"", "listen = \"7102x\""),
    ])
    func rejectsBadClusterSections(_ replace: (String, String)) {
        let text = Self.clusterSection.replacingOccurrences(of: replace.0, with: replace.1)
        #expect(text != Self.clusterSection)
        #expect(throws: NodeConfiguration.ParseError.self) { try NodeConfiguration.parse(toml: text, defaultDataDirectory: "/d") }
    }

    @Test func aClusterNodeWithoutAnAdministratorPasswordIsRefused() async throws {
        let data = NSTemporaryDirectory() + "stal-cluster-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        var c = NodeConfiguration.ephemeral(dataDirectory: data)
        c.cluster = try NodeConfiguration.parse(toml: Self.clusterSection, defaultDataDirectory: "/d").cluster
        await #expect(throws: StalError(.invalidArgument, "a cluster node takes the administrator password from STAL_ADMIN_PASSWORD")) {
            try await StalNode.start(c)
        }
    }
}
