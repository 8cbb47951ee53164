// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Stal",
    platforms: [.macOS(.v15)],
    products: [],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // C libraries (Debian -dev packages through pkg-config)
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),

        // L0 shared
        .target(name: "StalCore"),
        .target(name: "StalDeterminism", dependencies: ["StalCore"]),

        // L1 pure cores
        .target(name: "StalSMTPCore", dependencies: ["StalCore"]),

        // L2 services
        .target(name: "StalStorage", dependencies: ["StalCore", "StalDeterminism", "CRocksDB"]),
        .target(name: "StalShardLog", dependencies: ["StalCore", "StalDeterminism", "StalStorage"]),
        .target(name: "StalMailStore",
                dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "CZstd"]),
        .target(name: "StalDirectory",
                dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore", "CArgon2"]),

        // L3 edges
        .target(name: "StalSMTP", dependencies: [
            "StalCore", "StalDeterminism", "StalSMTPCore", "StalMailStore", "StalDirectory",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // Benchmarks
        .executableTarget(name: "bench-store",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore"],
                          path: "tools/bench/store"),
        .executableTarget(name: "bench-smtp",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalMailStore", "StalDirectory",
                                         "StalSMTP", .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOPosix", package: "swift-nio")],
                          path: "tools/bench/smtp"),
        .executableTarget(name: "fuzz-smtp", dependencies: ["StalSMTPCore", "StalCore"], path: "tools/fuzz/smtp"),
        // Killed with SIGKILL by StalMailStoreTests to prove acknowledged appends survive.
        .executableTarget(name: "store-crash-writer",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalMailStore"],
                          path: "tools/crash/store-writer"),

        .testTarget(name: "StalCoreTests", dependencies: ["StalCore"]),
        .testTarget(name: "StalDeterminismTests", dependencies: ["StalDeterminism"]),
        .testTarget(name: "StalStorageTests", dependencies: ["StalStorage"]),
        .testTarget(name: "StalShardLogTests", dependencies: ["StalShardLog", "StalStorage", "StalDeterminism"]),
        .testTarget(name: "StalMailStoreTests",
                    dependencies: ["StalMailStore", "StalShardLog", "StalStorage", "StalDeterminism"]),
        .testTarget(name: "StalDirectoryTests",
                    dependencies: ["StalDirectory", "StalMailStore", "StalShardLog", "StalStorage", "StalDeterminism"]),
        .testTarget(name: "StalSMTPCoreTests", dependencies: ["StalSMTPCore", "StalCore"]),
        .testTarget(name: "StalSMTPTests", dependencies: [
            "StalSMTP", "StalSMTPCore", "StalCore", "StalDeterminism",
            "StalMailStore", "StalDirectory", "StalShardLog", "StalStorage",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
