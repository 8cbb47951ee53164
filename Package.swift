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
        .target(name: "StalRaft", dependencies: ["StalCore", "StalDeterminism"]),

        // Off to the side: deterministic simulation
        .target(name: "StalSimulator", dependencies: ["StalRaft", "StalDeterminism"]),
        .executableTarget(name: "stal-sim", dependencies: ["StalSimulator"], path: "tools/stal-sim"),
        .executableTarget(name: "bench-raft-core", dependencies: ["StalRaft", "StalDeterminism"], path: "tools/bench/raft-core"),

        .testTarget(name: "StalCoreTests", dependencies: ["StalCore"]),
        .testTarget(name: "StalDeterminismTests", dependencies: ["StalDeterminism"]),
        .testTarget(name: "StalRaftTests", dependencies: ["StalRaft", "StalDeterminism"], exclude: ["Scenarios"]),
        .testTarget(name: "StalSimulatorTests", dependencies: ["StalSimulator", "StalRaft", "StalDeterminism"]),
    ],
    swiftLanguageModes: [.v6]
)
