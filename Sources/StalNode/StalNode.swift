import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import StalBlobStore
import StalCore
import StalDeterminism
import StalDirectory
import StalErasure
import StalHTTP
import StalMailStore
import StalClusterTransport
import StalServerKit
import StalShardLog
import StalStorage

/// One running node: storage, directory and mail store opened from the data directory,
/// and a listener per configured protocol. `start` returns once every listener is bound.
public final class StalNode: Sendable {
    public let configuration: NodeConfiguration
    public let directory: Directory
    public let mailStore: MailStore
    /// The port each listener is bound to (differs from the configuration for port 0).
    public let boundPorts: [NodeConfiguration.ListenerKind: Int]
    /// Set only on the start that created the administrator, so it can be shown once.
    public let bootstrapAdminPassword: String?
    public let tls: TLSMaterial
    /// Runs the node's Raft groups (the mail shard and the metadata shard).
    public let raftDriver: RaftNodeDriver
    /// The transport, driver and probe of a clustered node; nil when it runs alone.
    let cluster: ClusterRuntime?

    private let group: MultiThreadedEventLoopGroup
    private let listeners: [Listener]
    private let httpTask: Task<Void, Error>?
    private let httpShutdown: @Sendable () -> Void
    private let housekeeping: Housekeeping
    private let housekeepingTask: Task<Void, Never>
    private let erasureBlobs: ErasureBlobStorage?
    private let scrubTask: Task<Void, Never>?

    public static let credentialFileName = "admin-credentials"

    private init(configuration: NodeConfiguration, directory: Directory, mailStore: MailStore,
                 boundPorts: [NodeConfiguration.ListenerKind: Int], bootstrapAdminPassword: String?, tls: TLSMaterial,
                 raftDriver: RaftNodeDriver, cluster: ClusterRuntime?, group: MultiThreadedEventLoopGroup, listeners: [Listener], httpTask: Task<Void, Error>?,
                 httpShutdown: @escaping @Sendable () -> Void, housekeeping: Housekeeping,
                 housekeepingTask: Task<Void, Never>, erasureBlobs: ErasureBlobStorage?, scrubTask: Task<Void, Never>?) {
        self.configuration = configuration
        self.directory = directory
        self.mailStore = mailStore
        self.boundPorts = boundPorts
        self.bootstrapAdminPassword = bootstrapAdminPassword
        self.tls = tls
        self.raftDriver = raftDriver
        self.cluster = cluster
        self.group = group
        self.listeners = listeners
        self.httpTask = httpTask
        self.httpShutdown = httpShutdown
        self.housekeeping = housekeeping
        self.housekeepingTask = housekeepingTask
        self.erasureBlobs = erasureBlobs
        self.scrubTask = scrubTask
    }

    public struct Options: Sendable {
        public var clock: any WallClock = SystemClock()
        public var passwordHasher: PasswordHasher = .standard
        public var eventLoopThreads = System.coreCount
        /// Awaited between housekeeping passes (blob garbage collection).
        public var housekeepingPause: @Sendable () async throws -> Void = { try await Task.sleep(for: .seconds(600)) }
        /// The administrator password of a clustered node (stald takes it from
        /// STAL_ADMIN_PASSWORD); a single node generates its own instead.
        public var clusterAdminPassword: String?
        /// Awaited between background scrub steps with the pause the scrub rate asks for.
        public var blobScrubPause: @Sendable (Int64) async throws -> Void = { try await Task.sleep(for: .milliseconds($0)) }
        public init() {}
    }

    public static func start(_ configuration: NodeConfiguration, options: Options = Options(),
                             logger: Logger = Logger(label: "stald")) async throws -> StalNode {
        let fm = FileManager.default
        let data = configuration.dataDirectory
        try fm.createDirectory(atPath: data, withIntermediateDirectories: true)
        chmod(data, 0o700)

        let tls: TLSMaterial
        if let cert = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            tls = try TLSMaterial.load(certificatePath: cert, keyPath: key)
        } else {
            let now = Date(timeIntervalSince1970: TimeInterval(options.clock.now().secondsSinceEpoch))
            tls = try TLSMaterial.loadOrCreateSelfSigned(directory: data + "/tls", hostnames: [configuration.hostname, "localhost"], now: now)
        }
        let tlsContext = try tls.makeServerContext()
        // Stored message bodies are not moved between kinds of blob storage: a node refuses
        // the kind its mail is not in rather than lose sight of it.
        let blobDirectory = data + "/blobs"
        let embeddedBlobs = configuration.blobs == nil && configuration.cluster == nil
        if configuration.blobs != nil, Self.containsFile(blobDirectory) {
            throw StalError(.invalidArgument, "\(blobDirectory) holds message bodies of a node without [blobs]; they would be unreadable with it")
        }
        if embeddedBlobs, Self.holdsPlainBlobFiles(blobDirectory) {
            throw StalError(.invalidArgument, "\(blobDirectory) holds message bodies as plain files (<tenant>/<2 hex>/<id>), the layout of stald before its embedded blob store, which cannot read them; run the stald that wrote them, or start this one on an empty data directory")
        }

        let engine = try RocksDBEngine(path: data + "/db")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.eventLoopThreads))
        var cluster: ClusterRuntime?
        if let clusterConfiguration = configuration.cluster {
            guard let password = options.clusterAdminPassword else {
                throw StalError(.invalidArgument, "a cluster node takes the administrator password from STAL_ADMIN_PASSWORD")
            }
            try PasswordHasher.checkStrength(password)
            cluster = try await ClusterRuntime.start(clusterConfiguration, engine: engine, group: group, logger: logger)
        }
        let raftDriver = try cluster?.driver ?? RaftNodeDriver(engine: engine, nodeID: 1, transport: nil)
        var storeOptions = MailStore.Options()
        storeOptions.messageOctetsMax = configuration.limits.smtpMessageOctetsMax
        var erasureBlobs: ErasureBlobStorage?
        let blobs: any MailBlobStore
        if let blobConfiguration = configuration.blobs {
            let storage = try ErasureBlobStorage(blobConfiguration, clock: options.clock)
            erasureBlobs = storage
            blobs = storage
        } else if embeddedBlobs {
            // The location must exist before the store opens it: a missing one is a lost disk.
            for created in try Directories.create(blobDirectory) { try Directories.sync(Directories.parent(of: created)) }
            let storage = try ErasureBlobStorage.embedded(directory: blobDirectory, clock: options.clock)
            erasureBlobs = storage
            blobs = storage
        } else {
            // A cluster node keeps plain files: its placements would be replicated to nodes
            // whose blob directory does not hold the shards (the `[blobs]` restriction).
            blobs = try LocalBlobDirectory(root: blobDirectory)
        }
        let mailStore = try MailStore.local(engine: engine, blobs: blobs,
                                            clock: options.clock, random: SystemRandom(), options: storeOptions,
                                            driver: raftDriver)
        erasureBlobs?.catalog.attach(mailStore)
        if configuration.blobs == nil,
           try embeddedBlobs ? Self.placesShardsOutside(mailStore, ErasureBlobStorage.embeddedLocationID)
                             : !mailStore.blobPlacementIDs(limit: 1).isEmpty {
            mailStore.shutdown()
            raftDriver.shutdown()
            await cluster?.transport.shutdown()
            try? await group.shutdownGracefully()
            throw StalError(.invalidArgument, configuration.cluster == nil
                ? "the mail in \(data) is erasure-coded; it is unreadable without the [blobs] section it was stored with"
                : "the mail in \(data) is in a blob store, which a [cluster] node cannot open (it keeps plain files); start it as the single node that stored it")
        }
        let directory = try Directory.local(engine: engine, mailStore: mailStore, clock: options.clock, random: SystemRandom(),
                                            limits: configuration.limits, hasher: options.passwordHasher, driver: raftDriver)

        var bootstrapPassword: String?
        if let cluster, let password = options.clusterAdminPassword {
            cluster.attach(directory)
            cluster.bootstrapAdmin(password: password, directory: directory, logger: logger)
        } else if !directory.hasAdmin {
            var random = SystemRandom()
            let password = Self.generatePassword(using: &random)
            try await directory.bootstrapAdmin(password: password)
            bootstrapPassword = password
        }

        var listeners: [Listener] = []
        var ports: [NodeConfiguration.ListenerKind: Int] = [:]
        let services = ProtocolServices(configuration: configuration, directory: directory, mailStore: mailStore,
                                        tlsContext: tlsContext, clock: options.clock, logger: logger)
        do {
            for kind in NodeConfiguration.ListenerKind.allCases where kind != .http {
                guard let endpoint = configuration.listeners[kind] else { continue }
                let listener = try await Listener.bind(
                    .init(name: kind.rawValue, host: endpoint.host, port: endpoint.port,
                          implicitTLS: kind == .imaps ? tlsContext : nil),
                    group: group, logger: logger, configure: services.initializer(for: kind))
                listeners.append(listener)
                ports[kind] = listener.localPort
            }
        } catch {
            for l in listeners { await l.shutdown() }
            try? await group.shutdownGracefully()
            throw error
        }

        var httpTask: Task<Void, Error>?
        var httpShutdown: @Sendable () -> Void = {}
        if let endpoint = configuration.listeners[.http] {
            let (port, task, stop) = try await Self.startHTTP(
                endpoint: endpoint, api: ManagementAPI(directory: directory, mail: mailStore, cluster: cluster, blobs: erasureBlobs),
                group: group, logger: logger)
            ports[.http] = port
            httpTask = task
            httpShutdown = stop
        }

        if let bootstrapPassword, let port = ports[.http] {
            let host = configuration.listeners[.http]?.host ?? "127.0.0.1"
            let urlHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
            try Self.writeCredentialFile(directory: data, url: "http://\(urlHost):\(port)", password: bootstrapPassword)
        }

        let housekeeping = Housekeeping(directory: directory, mailStore: mailStore, erasureBlobs: erasureBlobs, logger: logger)
        let pause = options.housekeepingPause
        let housekeepingTask = Task { await housekeeping.run(pause: pause) }
        var scrubTask: Task<Void, Never>?
        if let erasureBlobs {
            // The embedded default (k=1, m=0) cannot heal, but its scrub still finds bit rot.
            var pacing = ScrubPacing()
            if let blobConfiguration = configuration.blobs { pacing.bytesPerSecond = blobConfiguration.scrubBytesPerSecond }
            let scrubber = BlobScrubService(storage: erasureBlobs, pacing: pacing)
            let scrubPause = options.blobScrubPause
            scrubTask = Task { await scrubber.run(pause: scrubPause) }
        }
        return StalNode(configuration: configuration, directory: directory, mailStore: mailStore, boundPorts: ports,
                        bootstrapAdminPassword: bootstrapPassword, tls: tls, raftDriver: raftDriver, cluster: cluster, group: group, listeners: listeners,
                        httpTask: httpTask, httpShutdown: httpShutdown, housekeeping: housekeeping,
                        housekeepingTask: housekeepingTask, erasureBlobs: erasureBlobs, scrubTask: scrubTask)
    }

    private static func startHTTP(endpoint: NodeConfiguration.Endpoint, api: ManagementAPI,
                                  group: MultiThreadedEventLoopGroup, logger: Logger)
        async throws -> (Int, Task<Void, Error>, @Sendable () -> Void) {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(endpoint.host, port: endpoint.port), serverName: "stald"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? endpoint.port)
                portContinuation.finish()
            },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
        let serviceGroup = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task { try await serviceGroup.run() }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await task.value
            throw StalError(.unavailable, "HTTP listener on \(endpoint) did not start")
        }
        return (port, task, { Task { await serviceGroup.triggerGracefulShutdown() } })
    }

    /// One housekeeping pass now; returns how many unreferenced blobs were removed.
    @discardableResult
    public func runHousekeeping() async throws -> Int {
        try await housekeeping.runOnce()
    }

    /// The erasure-coded blob store when `[blobs]` is configured.
    public var blobStore: BlobStore? { erasureBlobs?.store }

    /// Stops accepting, closes sessions, flushes the shard logs.
    public func shutdown() async {
        housekeepingTask.cancel()
        _ = await housekeepingTask.value
        scrubTask?.cancel()
        _ = await scrubTask?.value
        httpShutdown()
        _ = try? await httpTask?.value
        for listener in listeners { await listener.shutdown() }
        await erasureBlobs?.drain()
        directory.shutdown()
        mailStore.shutdown()
        raftDriver.shutdown()
        // The transport runs on the event loops, so it closes before they stop.
        await cluster?.stopBootstrap()
        await cluster?.transport.shutdown()
        try? await group.shutdownGracefully()
    }

    /// Whether `directory` holds `LocalBlobDirectory`'s layout, `<tenant>/<2 hex>/<id>`: a
    /// directory inside a directory, which a shard location (`<2 hex>/<shard files>`) never has.
    static func holdsPlainBlobFiles(_ directory: String) -> Bool {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] {
            var isDirectory: ObjCBool = false
            let path = directory + "/" + entry
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for inner in (try? fm.contentsOfDirectory(atPath: path)) ?? [] {
                if fm.fileExists(atPath: path + "/" + inner, isDirectory: &isDirectory), isDirectory.boolValue { return true }
            }
        }
        return false
    }

    /// Whether the mail was stored with a `[blobs]` section: one of the first placements
    /// names a location other than `location`. A `[blobs]` node erasure-codes every blob it
    /// is given but one of exactly the inline threshold, so the first coded placement decides.
    static func placesShardsOutside(_ mailStore: MailStore, _ location: StorageLocationID) throws -> Bool {
        for id in try mailStore.blobPlacementIDs(limit: 64) {
            guard let encoded = try mailStore.blobPlacement(id),
                  case .erasureCoded(_, let shards) = try BlobManifest(decoding: encoded).body else { continue }
            return shards.contains { $0 != location }
        }
        return false
    }

    static func containsFile(_ directory: String) -> Bool {
        guard let entries = FileManager.default.enumerator(atPath: directory) else { return false }
        while entries.nextObject() != nil {
            if entries.fileAttributes?[.type] as? FileAttributeType == .typeRegular { return true }
        }
        return false
    }

    static func generatePassword(using random: inout some RandomSource) -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<20).map { _ in alphabet[Int(random.next(below: UInt64(alphabet.count)))] })
    }

    static func writeCredentialFile(directory: String, url: String, password: String) throws {
        let path = directory + "/" + credentialFileName
        let text = "# Written once by stald at first start; stalctl reads it.\nurl = \(url)\nuser = \(Directory.adminName)\npassword = \(password)\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw StalError(.storage, "cannot write \(path): errno \(errno)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw StalError(.storage, "cannot write \(path): errno \(errno)")
        }
    }
}
