import Glibc
import StalRaft
import StalSimulator

// Long simulator searches: `tools/sim --seeds N --steps M [--first-seed S] [--seed S]
// [--fault commit-old-term|double-vote|skip-fsync]`. Exits 1 on the first failing seed
// after printing its reproduction trace.

func usage() -> Never {
    print("usage: stal-sim [--seeds N] [--first-seed S] [--seed S] [--steps M] [--fault commit-old-term|double-vote|skip-fsync] [--history] [--trace-lines N] [--voters N] [--keep-going] [--no-faults] [--ci] [--drift-ppm N] [--lease-margin N]")
    exit(2)
}

var seeds: UInt64 = 100
var firstSeed: UInt64 = 1
var steps = 20_000
var faults: RaftTestingFaults = []
var printHistory = false
var traceLines = 300
var voters = 3
var keepGoing = false
var profile = FaultProfile.standard
var ciSet = false
var leaseMargin = 2
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let flag = args.removeFirst()
    func value() -> String {
        guard !args.isEmpty else { usage() }
        return args.removeFirst()
    }
    switch flag {
    case "--seeds": seeds = UInt64(value()) ?? { usage() }()
    case "--first-seed": firstSeed = UInt64(value()) ?? { usage() }()
    case "--seed":
        firstSeed = UInt64(value()) ?? { usage() }()
        seeds = 1
    case "--steps": steps = Int(value()) ?? { usage() }()
    case "--history": printHistory = true
    case "--keep-going": keepGoing = true
    case "--no-faults": profile = .none
    case "--ci": ciSet = true
    case "--drift-ppm": profile.clockDriftPerMillionMax = UInt64(value()) ?? { usage() }()
    case "--lease-margin": leaseMargin = Int(value()) ?? { usage() }()
    case "--crash-new-leader-ppm": profile.crashNewLeaderPerMillion = UInt64(value()) ?? { usage() }()
    case "--isolate-new-leader-ppm": profile.isolateNewLeaderPerMillion = UInt64(value()) ?? { usage() }()
    case "--nemesis-interval-us": profile.nemesisIntervalMicros = UInt64(value()) ?? { usage() }()
    case "--voters": voters = Int(value()) ?? { usage() }()
    case "--trace-lines": traceLines = Int(value()) ?? { usage() }()
    case "--fault":
        switch value() {
        case "commit-old-term": faults.insert(.commitPreviousTermEntriesByCounting)
        case "double-vote": faults.insert(.grantMultipleVotesPerTerm)
        case "skip-fsync": faults.insert(.acknowledgeBeforeSync)
        default: usage()
        }
    default: usage()
    }
}

var runs: [SimulationOptions] = []
if ciSet {
    runs = CISeedSet.runs
} else {
    for seed in firstSeed..<(firstSeed + seeds) {
        var options = SimulationOptions(seed: seed, steps: steps)
        options.initialVoters = voters
        options.maxVoters = max(options.maxVoters, voters)
        options.faults = profile
        options.leaseSafetyMarginTicks = leaseMargin
        runs.append(options)
    }
}
var failed = 0
for var options in runs {
    options.raftFaults = faults
    options.traceLinesKept = traceLines
    let report = ClusterSimulator.run(options)
    print(report.summary)
    if printHistory {
        for op in report.history {
            print("  client \(op.clientID) \(op.kind) k\(op.key) v\(op.value) [\(op.invokedAt), \(op.returnedAt.map(String.init) ?? "?")]")
        }
    }
    if !report.passed {
        if traceLines > 0 { print(report.failureDescription) }
        failed += 1
        if !keepGoing { break }
    }
}
exit(failed == 0 ? 0 : 1)
