// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Stal",
    platforms: [.macOS(.v15)],
    products: [],
    dependencies: [],
    targets: [
        // L0 shared
        .target(name: "StalCore"),
        .target(name: "StalDeterminism", dependencies: ["StalCore"]),

        // L1 pure cores
        .target(name: "StalMIME", dependencies: ["StalCore"]),
        .target(name: "StalSieve", dependencies: ["StalCore", "StalMIME"]),
        // Side: Pigeonhole test harness (reads files with Foundation)
        .target(name: "StalSieveTestSuite", dependencies: ["StalSieve", "StalCore"]),

        // Tools
        .executableTarget(name: "stal-mime-inspect", dependencies: ["StalMIME"], path: "tools/mime-inspect"),
        .executableTarget(name: "fuzz-mime", dependencies: ["StalMIME"], path: "tools/fuzz/mime"),
        .executableTarget(name: "stal-sievetest", dependencies: ["StalSieveTestSuite"]),
        .executableTarget(name: "fuzz-sieve", dependencies: ["StalSieve", "StalCore"], path: "tools/fuzz/sieve"),
        .executableTarget(name: "bench-sieve", dependencies: ["StalSieve", "StalCore"], path: "tools/bench/sieve"),

        .testTarget(name: "StalCoreTests", dependencies: ["StalCore"]),
        .testTarget(name: "StalDeterminismTests", dependencies: ["StalDeterminism"]),
        .testTarget(name: "StalMIMETests", dependencies: ["StalMIME"]),
        .testTarget(name: "StalSieveTests", dependencies: ["StalSieve", "StalSieveTestSuite"], exclude: ["RFCExamples"]),
    ],
    swiftLanguageModes: [.v6]
)
