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
        .target(name: "StalMIME", dependencies: ["StalCore"]),
        .target(name: "StalIMAPCore", dependencies: ["StalCore", "StalMIME"]),

        // L2 services
        .target(name: "StalStorage", dependencies: ["StalCore", "StalDeterminism", "CRocksDB"]),
        .target(name: "StalShardLog", dependencies: ["StalCore", "StalDeterminism", "StalStorage"]),
        .target(name: "StalMailStore",
                dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "CZstd"]),
        .target(name: "StalDirectory",
                dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore", "CArgon2"]),

        // L3 edges
        .target(name: "StalIMAP", dependencies: [
            "StalCore", "StalDeterminism", "StalIMAPCore", "StalMIME", "StalMailStore", "StalDirectory",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // Tools
        .executableTarget(name: "stal-mime-inspect", dependencies: ["StalMIME"], path: "tools/mime-inspect"),
        .executableTarget(name: "fuzz-mime", dependencies: ["StalMIME"], path: "tools/fuzz/mime"),
        .executableTarget(name: "fuzz-imap", dependencies: ["StalCore", "StalIMAPCore"], path: "tools/fuzz/imap"),
        .executableTarget(name: "bench-mime", dependencies: ["StalMIME"], path: "tools/bench/mime/swift"),

        // Benchmarks
        .executableTarget(name: "bench-store",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore"],
                          path: "tools/bench/store"),
        .executableTarget(name: "bench-imap",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalShardLog", "StalMailStore",
                                         "StalDirectory", "StalIMAP",
                                         .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOPosix", package: "swift-nio")],
                          path: "tools/bench/imap"),
        // Killed with SIGKILL by StalMailStoreTests to prove acknowledged appends survive.
        .executableTarget(name: "store-crash-writer",
                          dependencies: ["StalCore", "StalDeterminism", "StalStorage", "StalMailStore"],
                          path: "tools/crash/store-writer"),

        .testTarget(name: "StalCoreTests", dependencies: ["StalCore"]),
        .testTarget(name: "StalDeterminismTests", dependencies: ["StalDeterminism"]),
        .testTarget(name: "StalMIMETests", dependencies: ["StalMIME"]),
        .testTarget(name: "StalIMAPCoreTests", dependencies: ["StalIMAPCore"]),
        .testTarget(name: "StalStorageTests", dependencies: ["StalStorage"]),
        .testTarget(name: "StalShardLogTests", dependencies: ["StalShardLog", "StalStorage", "StalDeterminism"]),
        .testTarget(name: "StalMailStoreTests",
                    dependencies: ["StalMailStore", "StalShardLog", "StalStorage", "StalDeterminism"]),
        .testTarget(name: "StalDirectoryTests",
                    dependencies: ["StalDirectory", "StalMailStore", "StalShardLog", "StalStorage", "StalDeterminism"]),
        .testTarget(name: "StalIMAPTests", dependencies: [
            "StalIMAP", "StalIMAPCore", "StalMIME", "StalMailStore", "StalDirectory", "StalShardLog", "StalStorage", "StalDeterminism",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
