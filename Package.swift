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
        .target(name: "StalSieve", dependencies: ["StalCore"]),
        // Side: Pigeonhole test harness (reads files with Foundation)
        .target(name: "StalSieveTestSuite", dependencies: ["StalSieve", "StalCore"]),
        .executableTarget(name: "stal-sievetest", dependencies: ["StalSieveTestSuite"]),

        .testTarget(name: "StalSieveTests", dependencies: ["StalSieve", "StalSieveTestSuite"]),
        .testTarget(name: "StalCoreTests", dependencies: ["StalCore"]),
        .testTarget(name: "StalDeterminismTests", dependencies: ["StalDeterminism"]),
    ],
    swiftLanguageModes: [.v6]
)
