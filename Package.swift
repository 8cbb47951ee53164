// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Stal",
    platforms: [.macOS(.v15)],
    products: [],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // L0 shared
        .target(name: "StalCore"),
        .target(name: "StalDeterminism", dependencies: ["StalCore"]),

        // C libraries
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // L1 pure cores
        .target(name: "StalErasure", dependencies: ["StalCore", "CISAL"]),

        // L2 services
        .target(name: "StalBlobStore",
                dependencies: ["StalCore", "StalDeterminism", "StalErasure", "CZstd",
                               .product(name: "Crypto", package: "swift-crypto")]),

        // Benchmarks (run with tools/bench/erasure)
        .executableTarget(name: "bench-erasure", dependencies: ["StalErasure", "StalBlobStore", "StalDeterminism", "CISAL"],
                          path: "tools/bench/bench-erasure"),

        .testTarget(name: "StalCoreTests", dependencies: ["StalCore"]),
        .testTarget(name: "StalDeterminismTests", dependencies: ["StalDeterminism"]),
        .testTarget(name: "StalErasureTests", dependencies: ["StalErasure", "StalDeterminism"]),
        .testTarget(name: "StalBlobStoreTests",
                    dependencies: ["StalBlobStore", "StalErasure", "StalDeterminism",
                                   .product(name: "Crypto", package: "swift-crypto")]),
    ],
    swiftLanguageModes: [.v6]
)
