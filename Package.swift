// swift-tools-version: 6.1
import PackageDescription

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOSSL", package: "swift-nio-ssl"),
]

let package = Package(
    name: "Stal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stald", targets: ["stald"]),
        .executable(name: "stalctl", targets: ["stalctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // C libraries (Debian -dev packages through pkg-config)
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),

        // L0 shared
        .target(name: "StalCore"),
        .target(name: "StalDeterminism", dependencies: ["StalCore"]),

        // L1 pure cores
        .target(name: "StalMIME", dependencies: ["StalCore"]),
        .target(name: "StalRaft", dependencies: ["StalCore", "StalDeterminism"]),
        .target(name: "StalErasure", dependencies: ["StalCore", "CISAL"]),
        .target(name: "StalIMAPCore", dependencies: ["StalCore", "StalMIME"]),
        .target(name: "StalSMTPCore", dependencies: ["StalCore"]),
        .target(name: "StalSieve", dependencies: ["StalCore", "StalMIME"]),

        // L2 services
        .target(name: "StalBlobStore",
                dependencies: ["StalCore", "StalDeterminism", "StalErasure", "CZstd",
                               .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "StalStorage", dependencies: ["StalCore", "StalDeterminism", "CRocksDB"]),
        .target(name: "StalShardLog", dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalRaft"]),
        .target(name: "StalMailStore",
                dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMIME", "StalSieve", "CZstd"]),
        .target(name: "StalDirectory",
                dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore", "CArgon2"]),

        // L3 edges
        .target(name: "StalServerKit", dependencies: nio + [
            "StalCore",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "StalSMTP", dependencies: [
            "StalCore", "StalDeterminism", "StalSMTPCore", "StalMailStore", "StalDirectory",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "StalIMAP", dependencies: [
            "StalCore", "StalDeterminism", "StalIMAPCore", "StalMIME", "StalMailStore", "StalDirectory",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "StalClusterTransport", dependencies: nio + [
            "StalCore", "StalRaft", "StalShardLog",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "StalHTTP", dependencies: [
            "StalCore", "StalDeterminism", "StalDirectory", "StalMailStore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),

        // L4 composition
        .target(name: "StalNode", dependencies: nio + [
            "StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore", "StalDirectory", "StalBlobStore", "StalErasure",
            "StalServerKit", "StalSMTP", "StalSMTPCore", "StalIMAP", "StalHTTP", "StalClusterTransport",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        .executableTarget(name: "stald", dependencies: [
            "StalNode", "StalMIME", "StalCore", "StalSieveTestSuite",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "stalctl", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Off to the side: deterministic simulation
        .target(name: "StalSimulator", dependencies: ["StalRaft", "StalDeterminism"]),
        // Off to the side: the Pigeonhole Sieve test harness (reads files with Foundation)
        .target(name: "StalSieveTestSuite", dependencies: ["StalSieve", "StalCore"]),

        // Tools
        .executableTarget(name: "stal-sim", dependencies: ["StalSimulator"], path: "tools/stal-sim"),
        .executableTarget(name: "stal-mime-inspect", dependencies: ["StalMIME"], path: "tools/mime-inspect"),
        // Fuzz targets: tools/fuzz/run-* builds them with libFuzzer; plain builds replay inputs.
        .target(name: "StalFuzzSupport"),
        .executableTarget(name: "fuzz-mime", dependencies: ["StalMIME", "StalFuzzSupport"], path: "tools/fuzz/mime"),
        .executableTarget(name: "fuzz-imap", dependencies: ["StalCore", "StalIMAPCore", "StalFuzzSupport"], path: "tools/fuzz/imap"),
        .executableTarget(name: "fuzz-smtp", dependencies: ["StalSMTPCore", "StalCore", "StalFuzzSupport"], path: "tools/fuzz/smtp"),
        .executableTarget(name: "fuzz-sieve", dependencies: ["StalSieve", "StalCore", "StalFuzzSupport"], path: "tools/fuzz/sieve"),
        .executableTarget(name: "bench-mime", dependencies: ["StalMIME"], path: "tools/bench/mime/swift"),

        // Killed with SIGKILL by StalMailStoreTests to prove acknowledged appends survive.
        .executableTarget(name: "store-crash-writer",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalMailStore"],
                          path: "tools/crash/store-writer"),

        // Benchmarks
        .executableTarget(name: "bench-raft-core", dependencies: ["StalRaft", "StalDeterminism"], path: "tools/bench/raft-core"),
        .executableTarget(name: "bench-raft-load", path: "tools/bench/raft/load"),
        .executableTarget(name: "bench-cluster-transport",
                          dependencies: ["StalClusterTransport", "StalRaft", "StalShardLog",
                                         .product(name: "NIOPosix", package: "swift-nio"),
                                         .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                                         .product(name: "Crypto", package: "swift-crypto"),
                                         .product(name: "X509", package: "swift-certificates"),
                                         .product(name: "SwiftASN1", package: "swift-asn1")],
                          path: "tools/bench/raft/transport"),
        .executableTarget(name: "bench-sieve", dependencies: ["StalSieve", "StalCore"], path: "tools/bench/sieve",
                          exclude: ["filter.sieve"]),
        .executableTarget(name: "bench-smtp",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalMailStore", "StalDirectory",
                                         "StalSMTP", .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOPosix", package: "swift-nio")],
                          path: "tools/bench/smtp"),
        .executableTarget(name: "bench-imap",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore",
                                         "StalDirectory", "StalIMAP",
                                         .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOPosix", package: "swift-nio")],
                          path: "tools/bench/imap"),
        .executableTarget(name: "bench-erasure", dependencies: ["StalErasure", "StalBlobStore", "StalDeterminism", "CISAL"],
                          path: "tools/bench/bench-erasure"),
        .executableTarget(name: "bench-store",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore"],
                          path: "tools/bench/store"),

        .testTarget(name: "StalCoreTests", dependencies: ["StalCore"]),
        .testTarget(name: "StalDeterminismTests", dependencies: ["StalDeterminism"]),
        .testTarget(name: "StalStorageTests", dependencies: ["StalStorage"]),
        .testTarget(name: "StalShardLogTests", dependencies: ["StalShardLog", "StalStorage", "StalDeterminism", "StalRaft"]),
        .testTarget(name: "StalMailStoreTests",
                    dependencies: ["StalMailStore", "StalShardLog", "StalStorage", "StalDeterminism", "StalRaft"]),
        .testTarget(name: "StalDirectoryTests",
                    dependencies: ["StalDirectory", "StalMailStore", "StalShardLog", "StalStorage", "StalDeterminism"]),
        .testTarget(name: "StalMIMETests", dependencies: ["StalMIME"]),
        .testTarget(name: "StalRaftTests", dependencies: ["StalRaft", "StalDeterminism"], exclude: ["Scenarios"]),
        .testTarget(name: "StalSimulatorTests", dependencies: ["StalSimulator", "StalRaft", "StalDeterminism"]),
        .testTarget(name: "StalSieveTests", dependencies: ["StalSieve", "StalSieveTestSuite"], exclude: ["RFCExamples"]),
        .testTarget(name: "StalErasureTests", dependencies: ["StalErasure", "StalDeterminism"]),
        .testTarget(name: "StalBlobStoreTests",
                    dependencies: ["StalBlobStore", "StalErasure", "StalDeterminism",
                                   .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "StalSMTPCoreTests", dependencies: ["StalSMTPCore", "StalCore"]),
        .testTarget(name: "StalSMTPTests", dependencies: [
            "StalSMTP", "StalSMTPCore", "StalCore", "StalDeterminism",
            "StalMailStore", "StalDirectory", "StalShardLog", "StalStorage",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .testTarget(name: "StalIMAPCoreTests", dependencies: ["StalIMAPCore"]),
        .testTarget(name: "StalIMAPTests", dependencies: [
            "StalIMAP", "StalIMAPCore", "StalMIME", "StalMailStore", "StalDirectory", "StalShardLog", "StalStorage", "StalDeterminism",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .testTarget(name: "StalNodeTests", dependencies: ["StalNode", "StalCore", "StalDirectory", "StalBlobStore", "StalErasure", "StalDeterminism"],
                    exclude: ["clients"]),
        .testTarget(name: "StalServerKitTests", dependencies: ["StalServerKit"]),
        .testTarget(name: "StalClusterTransportTests", dependencies: [
            "StalClusterTransport", "StalRaft", "StalShardLog", "StalCore", "StalDeterminism",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
        ]),
        .testTarget(name: "StalHTTPTests", dependencies: [
            "StalHTTP", "StalDirectory", "StalMailStore", "StalStorage", "StalDeterminism",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
