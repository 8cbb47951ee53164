import StalRaft

/// One simulation run's parameters. Everything else is derived from `seed`.
public struct SimulationOptions: Hashable, Sendable {
    public var seed: UInt64
    /// Events processed in the safety phase (faults on).
    public var steps: Int
    public var initialVoters: Int = 3
    public var maxVoters: Int = 5
    public var clients: Int = 3
    public var keys: Int = 3
    /// Core bugs to inject (tests only).
    public var raftFaults: RaftTestingFaults = []
    public var faults: FaultProfile = .standard
    /// Simulated time the liveness phase may take to complete a write after healing.
    public var livenessBoundMicros: UInt64 = 20_000_000
    public var traceLinesKept: Int = 300
    /// Passed to every replica's `RaftConfig`: lease reads are safe only while clock drift
    /// stays below leaseSafetyMarginTicks / electionTicks (electionTicks is 10 here).
    public var leaseSafetyMarginTicks: Int = 2

    public init(seed: UInt64, steps: Int) {
        self.seed = seed
        self.steps = steps
    }
}

/// Fault rates, all in parts per million of the relevant occasion.
public struct FaultProfile: Hashable, Sendable {
    /// Each run draws its message loss rate from these.
    public var messageLossPerMillionChoices: [UInt64] = [10_000, 50_000, 150_000, 300_000]
    public var messageDuplicatePerMillion: UInt64 = 20_000
    public var messageDelayMicrosMin: UInt64 = 200
    /// Delays vary this much, which reorders messages.
    public var messageDelayMicrosMax: UInt64 = 8_000
    /// A clogged message waits up to `clogMicrosMax` more, overtaken by later ones.
    public var messageClogPerMillion: UInt64 = 20_000
    public var clogMicrosMax: UInt64 = 100_000
    public var diskSyncMicrosMin: UInt64 = 100
    public var diskSyncMicrosMax: UInt64 = 3_000
    /// A nemesis acts roughly this often (crash, restart, partition, heal, membership
    /// change, leadership transfer).
    public var nemesisIntervalMicros: UInt64 = 150_000
    public var crashes = true
    public var partitions = true
    public var membershipChanges = true
    public var leadershipTransfers = true
    /// Per-node tick rate deviates by up to this much (parts per million) from nominal.
    public var clockDriftPerMillionMax: UInt64 = 10_000
    /// Each run draws its append batch limit from these. Small batches make a new leader's
    /// older entries and its no-op travel in separate messages (Figure 8 territory).
    public var maxEntriesPerAppendChoices: [Int] = [1, 1, 2, 16]
    /// Chance that a newly elected leader crashes within 30 ms.
    public var crashNewLeaderPerMillion: UInt64 = 500_000
    /// Chance that a newly elected leader is cut off from everyone within 30 ms.
    public var isolateNewLeaderPerMillion: UInt64 = 400_000

    public init() {}

    public static let standard = FaultProfile()

    public static let none: FaultProfile = {
        var p = FaultProfile()
        p.messageLossPerMillionChoices = [0]
        p.messageDuplicatePerMillion = 0
        p.messageClogPerMillion = 0
        p.messageDelayMicrosMin = 0
        p.messageDelayMicrosMax = 0
        p.diskSyncMicrosMin = 0
        p.diskSyncMicrosMax = 0
        p.crashes = false
        p.partitions = false
        p.membershipChanges = false
        p.leadershipTransfers = false
        p.clockDriftPerMillionMax = 0
        p.maxEntriesPerAppendChoices = [64]
        return p
    }()
}

public struct SimulationReport: Sendable {
    public var options: SimulationOptions
    public var seed: UInt64 { options.seed }
    public var steps: Int { options.steps }
    public var traceHash: UInt64
    public var violations: [String]
    /// The last events before the end of the run (or the first violation).
    public var traceTail: [String]
    public var history: [KVOperation]
    public var linearizability: LinearizabilityResult
    public var completedWrites: Int
    public var completedReads: Int
    public var unknownWrites: Int
    public var elections: Int
    public var crashes: Int
    public var membershipChanges: Int
    public var simulatedMicros: UInt64

    public var passed: Bool { violations.isEmpty && linearizability == .linearizable }

    public var summary: String {
        "seed=\(seed) steps=\(steps) trace=\(String(traceHash, radix: 16)) writes=\(completedWrites) reads=\(completedReads) unknown=\(unknownWrites) elections=\(elections) crashes=\(crashes) confchanges=\(membershipChanges) simulated_ms=\(simulatedMicros / 1000) \(passed ? "ok" : "FAILED")"
    }

    public var reproduceCommand: String {
        var command = "tools/sim --seed \(seed) --steps \(steps)"
        if options.initialVoters != 3 { command += " --voters \(options.initialVoters)" }
        if options.faults == .none { command += " --no-faults" }
        let flags: [(RaftTestingFaults, String)] = [
            (.commitPreviousTermEntriesByCounting, "commit-old-term"),
            (.grantMultipleVotesPerTerm, "double-vote"),
            (.acknowledgeBeforeSync, "skip-fsync"),
        ]
        for (fault, name) in flags where options.raftFaults.contains(fault) { command += " --fault \(name)" }
        return command
    }

    /// Everything needed to understand and reproduce a failure.
    public var failureDescription: String {
        var lines = ["simulation failed: \(summary)", "reproduce: \(reproduceCommand)"]
        lines += violations.map { "violation: \($0)" }
        if case .violation(let key, let ops) = linearizability {
            lines.append("not linearizable on key \(key):")
            lines += ops.sorted { $0.invokedAt < $1.invokedAt }.map {
                "  client \($0.clientID) \($0.kind) \($0.value) [\($0.invokedAt), \($0.returnedAt.map(String.init) ?? "?")]"
            }
        }
        if case .inconclusive(let key) = linearizability { lines.append("linearizability search budget exhausted on key \(key)") }
        lines.append("last events:")
        lines += traceTail
        return lines.joined(separator: "\n")
    }
}
