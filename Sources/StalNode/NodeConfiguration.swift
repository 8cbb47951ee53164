import StalCore
import TOMLKit

/// Everything a node needs to start. `NodeConfiguration.embeddedDefaults` is what `stald`
/// runs with when no file is given: loopback listeners on unprivileged ports and data under
/// `./data` (or `$STAL_DATA`).
public struct NodeConfiguration: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port`, `[v6]:port` or a bare port (loopback).
        public init?(_ text: String) {
            if let p = Int(text) {
                self.init(host: "127.0.0.1", port: p)
                return
            }
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                let host = String(text[text.index(after: text.startIndex)..<close])
                let rest = text[text.index(after: close)...]
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { return nil }
                self.init(host: host, port: p)
                return
            }
            guard let colon = text.lastIndex(of: ":"), let p = Int(text[text.index(after: colon)...]) else { return nil }
            self.init(host: String(text[..<colon]), port: p)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public enum ListenerKind: String, Sendable, CaseIterable, Codable {
        case smtp, submission, lmtp, imap, imaps, http
    }

    /// The `[cluster]` section: this node's place in a Raft cluster. Without it the node
    /// runs alone, exactly as before clustering existed.
    public struct Cluster: Sendable, Equatable {
        public var nodeID: UInt64
        /// Where this node accepts its peers' connections.
        public var listen: Endpoint
        /// Every node of the cluster by id, this one included.
        public var peers: [UInt64: Endpoint]
        /// PEM files: this node's certificate chain and key, and the cluster CA.
        public var certificatePath: String
        public var keyPath: String
        public var authorityPath: String

        public init(nodeID: UInt64, listen: Endpoint, peers: [UInt64: Endpoint], certificatePath: String,
                    keyPath: String, authorityPath: String) {
            self.nodeID = nodeID
            self.listen = listen
            self.peers = peers
            self.certificatePath = certificatePath
            self.keyPath = keyPath
            self.authorityPath = authorityPath
        }
    }

    /// The `[blobs]` section: erasure-coded blob storage over local locations.
    public struct BlobStorage: Sendable, Equatable {
        public struct Location: Sendable, Equatable {
            public var path: String
            public var failureDomain: String

            public init(path: String, failureDomain: String) {
                self.path = path
                self.failureDomain = failureDomain
            }
        }

        public var locations: [Location]
        public var dataShards: Int
        public var parityShards: Int
        /// Shards durable before a write returns; nil means k+1 capped at k+m.
        public var writeQuorum: Int?
        /// The background scrubber's read rate.
        public var scrubBytesPerSecond = 32 << 20

        public init(locations: [Location], dataShards: Int, parityShards: Int, writeQuorum: Int? = nil) {
            self.locations = locations
            self.dataShards = dataShards
            self.parityShards = parityShards
            self.writeQuorum = writeQuorum
        }
    }

    public var hostname: String
    public var dataDirectory: String
    /// A listener absent from the map is not started.
    public var listeners: [ListenerKind: Endpoint]
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var limits: Limits
    public var cluster: Cluster?
    /// Nil (no `[blobs]` section): one plain file per blob under the data directory.
    public var blobs: BlobStorage?

    public init(hostname: String, dataDirectory: String, listeners: [ListenerKind: Endpoint],
                tlsCertificatePath: String? = nil, tlsKeyPath: String? = nil, limits: Limits = .default,
                cluster: Cluster? = nil) {
        self.hostname = hostname
        self.dataDirectory = dataDirectory
        self.listeners = listeners
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.limits = limits
        self.cluster = cluster
    }

    public static let defaultPorts: [ListenerKind: Int] = [
        .smtp: 2525, .submission: 5870, .lmtp: 2424, .imap: 1143, .imaps: 1993, .http: 8080,
    ]

    public static func embeddedDefaults(dataDirectory: String) -> NodeConfiguration {
        NodeConfiguration(
            hostname: "localhost",
            dataDirectory: dataDirectory,
            listeners: defaultPorts.mapValues { Endpoint(host: "127.0.0.1", port: $0) })
    }

    /// Every listener on 127.0.0.1 with an ephemeral port, for tests.
    public static func ephemeral(dataDirectory: String) -> NodeConfiguration {
        NodeConfiguration(
            hostname: "localhost",
            dataDirectory: dataDirectory,
            listeners: defaultPorts.mapValues { _ in Endpoint(host: "127.0.0.1", port: 0) })
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a TOML file's text. Unknown keys are errors, so a typo never silently leaves a
    /// default in place.
    public static func parse(toml text: String, defaultDataDirectory: String) throws -> NodeConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ParseError(description: "configuration line \(error.source.begin.line): \(error.description)")
        }
        var config = NodeConfiguration.embeddedDefaults(dataDirectory: defaultDataDirectory)
        for key in table.keys {
            switch key {
            case "hostname":
                config.hostname = try string(table, key)
            case "data_dir":
                config.dataDirectory = try string(table, key)
            case "listeners":
                guard let listeners = table[key]?.table else { throw ParseError(description: "[listeners] must be a table") }
                for name in listeners.keys {
                    guard let kind = ListenerKind(rawValue: name) else {
                        throw ParseError(description: "unknown listener '\(name)' (known: \(ListenerKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    let value = try string(listeners, name)
                    if value == "off" {
                        config.listeners.removeValue(forKey: kind)
                    } else if let endpoint = Endpoint(value) {
                        config.listeners[kind] = endpoint
                    } else {
                        throw ParseError(description: "listener \(name): expected host:port or \"off\", got \(value)")
                    }
                }
            case "tls":
                guard let tls = table[key]?.table else { throw ParseError(description: "[tls] must be a table") }
                for name in tls.keys {
                    switch name {
                    case "certificate": config.tlsCertificatePath = try string(tls, name)
                    case "key": config.tlsKeyPath = try string(tls, name)
                    default: throw ParseError(description: "unknown key tls.\(name)")
                    }
                }
                if (config.tlsCertificatePath == nil) != (config.tlsKeyPath == nil) {
                    throw ParseError(description: "tls.certificate and tls.key must be given together")
                }
            case "limits":
                guard let limits = table[key]?.table else { throw ParseError(description: "[limits] must be a table") }
                for name in limits.keys {
                    guard let value = limits[name]?.int, value > 0 else {
                        throw ParseError(description: "limits.\(name) must be a positive integer")
                    }
                    try config.limits.set(name, to: value)
                }
            case "cluster":
                guard let cluster = table[key]?.table else { throw ParseError(description: "[cluster] must be a table") }
                config.cluster = try parseCluster(cluster)
            case "blobs":
                guard let blobs = table[key]?.table else { throw ParseError(description: "[blobs] must be a table") }
                config.blobs = try parseBlobs(blobs)
            default:
                throw ParseError(description: "unknown configuration key '\(key)'")
            }
        }
        // Blob manifests ride the replicated mail shard, but shard files live in local
        // directories: every other replica would hold manifests of shards it cannot reach.
        if config.blobs != nil, config.cluster != nil {
            throw ParseError(description: "[blobs] cannot be combined with [cluster] yet: its locations are local directories")
        }
        return config
    }

    static func parseCluster(_ table: TOMLTable) throws -> Cluster {
        var nodeID: UInt64?
        var listen: Endpoint?
        var peers: [UInt64: Endpoint]?
        var certificate: String?, key: String?, authority: String?
        for name in table.keys {
            switch name {
            case "node_id":
                guard let v = table[name]?.int, v > 0 else { throw ParseError(description: "cluster.node_id must be a positive integer") }
                nodeID = UInt64(v)
            case "listen":
                let text = try string(table, name)
                guard let e = Endpoint(text) else { throw ParseError(description: "cluster.listen: expected host:port, got \(text)") }
                listen = e
            case "peers":
                guard let t = table[name]?.table else { throw ParseError(description: "cluster.peers must be a table of id = \"host:port\"") }
                var map: [UInt64: Endpoint] = [:]
                for id in t.keys {
                    guard let n = UInt64(id), n > 0 else { throw ParseError(description: "cluster.peers: '\(id)' is not a positive node id") }
                    let text = try string(t, id)
                    guard let e = Endpoint(text), e.port > 0 else {
                        throw ParseError(description: "cluster.peers.\(id): expected host:port, got \(text)")
                    }
                    map[n] = e
                }
                peers = map
            case "certificate": certificate = try string(table, name)
            case "key": key = try string(table, name)
            case "ca": authority = try string(table, name)
            default: throw ParseError(description: "unknown key cluster.\(name)")
            }
        }
        guard let nodeID else { throw ParseError(description: "cluster.node_id is required") }
        guard let peers, let own = peers[nodeID] else {
            throw ParseError(description: "cluster.peers must list every node, this one (\(nodeID)) included")
        }
        guard let certificate, let key, let authority else {
            throw ParseError(description: "cluster.certificate, cluster.key and cluster.ca are required")
        }
        return Cluster(nodeID: nodeID, listen: listen ?? own, peers: peers, certificatePath: certificate, keyPath: key,
                       authorityPath: authority)
    }

    private static func parseBlobs(_ table: TOMLTable) throws -> BlobStorage {
        var locations: [BlobStorage.Location] = []
        var k: Int?, m: Int?, quorum: Int?, scrubRate: Int?
        for name in table.keys {
            switch name {
            case "data_shards": k = try int(table, name, section: "blobs")
            case "parity_shards": m = try int(table, name, section: "blobs")
            case "write_quorum": quorum = try int(table, name, section: "blobs")
            case "scrub_bytes_per_second":
                scrubRate = try int(table, name, section: "blobs")
                guard let rate = scrubRate, rate > 0 else {
                    throw ParseError(description: "blobs.scrub_bytes_per_second must be a positive integer")
                }
            case "locations":
                guard let array = table[name]?.array else {
                    throw ParseError(description: "blobs.locations must be an array of {path, failure_domain} tables")
                }
                for (index, item) in array.enumerated() {
                    guard let entry = item.table else {
                        throw ParseError(description: "blobs.locations[\(index)] must be a table {path, failure_domain}")
                    }
                    for field in entry.keys where field != "path" && field != "failure_domain" {
                        throw ParseError(description: "unknown key blobs.locations[\(index)].\(field)")
                    }
                    guard let path = entry["path"]?.string, !path.isEmpty, path.utf8.count <= 255 else {
                        throw ParseError(description: "blobs.locations[\(index)].path must be a string of 1 to 255 bytes")
                    }
                    guard let domain = entry["failure_domain"]?.string, !domain.isEmpty else {
                        throw ParseError(description: "blobs.locations[\(index)].failure_domain must be a non-empty string")
                    }
                    locations.append(.init(path: path, failureDomain: domain))
                }
            default:
                throw ParseError(description: "unknown key blobs.\(name)")
            }
        }
        guard let k, let m else { throw ParseError(description: "[blobs] needs data_shards and parity_shards") }
        guard (1...16).contains(k), (0...8).contains(m) else {
            throw ParseError(description: "blobs: data_shards must be 1...16 and parity_shards 0...8, got \(k) and \(m)")
        }
        guard !locations.isEmpty else { throw ParseError(description: "[blobs] needs at least one location") }
        guard Set(locations.map(\.path)).count == locations.count else {
            throw ParseError(description: "blobs.locations: a path is listed twice")
        }
        if let quorum, !(k...(k + m)).contains(quorum) {
            throw ParseError(description: "blobs.write_quorum must be between data_shards (\(k)) and data_shards + parity_shards (\(k + m)), got \(quorum)")
        }
        var blobs = BlobStorage(locations: locations, dataShards: k, parityShards: m, writeQuorum: quorum)
        if let scrubRate { blobs.scrubBytesPerSecond = scrubRate }
        return blobs
    }

    private static func int(_ table: TOMLTable, _ key: String, section: String) throws -> Int {
        guard let i = table[key]?.int else { throw ParseError(description: "\(section).\(key) must be an integer") }
        return i
    }

    private static func string(_ table: TOMLTable, _ key: String) throws -> String {
        guard let s = table[key]?.string else { throw ParseError(description: "\(key) must be a string") }
        return s
    }
}

extension Limits {
    /// The configuration file's names for each limit.
    static var settable: [String: WritableKeyPath<Limits, Int>] { [
        "smtp_command_line_octets_max": \.smtpCommandLineOctetsMax,
        "smtp_data_line_octets_max": \.smtpDataLineOctetsMax,
        "smtp_message_octets_max": \.smtpMessageOctetsMax,
        "smtp_recipients_max": \.smtpRecipientsMax,
        "smtp_errors_before_disconnect": \.smtpErrorsBeforeDisconnect,
        "imap_command_line_octets_max": \.imapCommandLineOctetsMax,
        "imap_literal_octets_max": \.imapLiteralOctetsMax,
        "imap_append_octets_max": \.imapAppendOctetsMax,
        "imap_bad_commands_before_disconnect": \.imapBadCommandsBeforeDisconnect,
        "mime_nesting_depth_max": \.mimeNestingDepthMax,
        "mime_parts_max": \.mimePartsMax,
        "mime_header_octets_max": \.mimeHeaderOctetsMax,
        "auth_failures_before_slowdown": \.authFailuresBeforeSlowdown,
        "auth_failures_before_block": \.authFailuresBeforeBlock,
    ] }

    mutating func set(_ name: String, to value: Int) throws {
        guard let path = Self.settable[name] else {
            throw NodeConfiguration.ParseError(description: "unknown limit '\(name)'")
        }
        self[keyPath: path] = value
    }
}
