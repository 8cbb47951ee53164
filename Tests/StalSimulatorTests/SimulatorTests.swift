import Dispatch
import Testing
import StalRaft
@testable import StalSimulator

/// Runs a simulation on a Dispatch thread. A run is seconds of synchronous work; on one of
/// the cooperative pool's threads (one per core) it would stall the in-process servers of
/// suites running in parallel until their clients time out.
func simulate(_ options: SimulationOptions) async -> SimulationReport {
    await withCheckedContinuation { c in DispatchQueue.global().async { c.resume(returning: ClusterSimulator.run(options)) } }
}

@Suite struct FixedSeedSetTests {
    @Test(arguments: CISeedSet.runs.map(\.seed))
    func seedPassesEveryInvariantAndIsLinearizable(seed: UInt64) async {
        let options = CISeedSet.runs.first { $0.seed == seed }!
        let report = await simulate(options)
        #expect(report.passed, "\(report.failureDescription)")
        // The run must have exercised the system, not idled.
        #expect(report.completedWrites > 10)
        #expect(report.completedReads > 10)
        #expect(report.elections > 2)
        #expect(report.crashes > 2)
    }

    @Test func sameSeedSameTraceHash() async {
        let options = SimulationOptions(seed: 3, steps: 5_000)
        let a = await simulate(options)
        let b = await simulate(options)
        #expect(a.traceHash == b.traceHash)
        #expect(a.history == b.history)
        let c = await simulate(SimulationOptions(seed: 4, steps: 5_000))
        #expect(a.traceHash != c.traceHash)
    }

    @Test func faultFreeRunCommitsSteadily() async {
        var options = SimulationOptions(seed: 9, steps: 5_000)
        options.faults = .none
        let report = await simulate(options)
        #expect(report.passed, "\(report.failureDescription)")
        #expect(report.unknownWrites == 0)
        #expect(report.elections == 1)
        #expect(report.completedWrites > 100)
    }
}

/// Each deliberate safety bug must make the simulator fail somewhere in the CI seed set.
@Suite struct BugInjectionTests {
    private func firstFailure(_ fault: RaftTestingFaults) async -> SimulationReport? {
        for var options in CISeedSet.runs {
            options.raftFaults = fault
            options.traceLinesKept = 40
            let report = await simulate(options)
            if !report.passed { return report }
        }
        return nil
    }

    @Test func committingOlderTermEntriesByCountingIsCaught() async {
        let report = await firstFailure(.commitPreviousTermEntriesByCounting)
        #expect(report != nil)
        #expect(report?.violations.contains { $0.contains("leader completeness") || $0.contains("committed entry changed") || $0.contains("state machine safety") } == true)
    }

    @Test func grantingTwoVotesInATermIsCaught() async {
        let report = await firstFailure(.grantMultipleVotesPerTerm)
        #expect(report != nil)
    }

    @Test func acknowledgingBeforeFsyncIsCaught() async {
        let report = await firstFailure(.acknowledgeBeforeSync)
        #expect(report != nil)
    }

    @Test func failureReportNamesTheSeedToReproduce() async {
        let report = await firstFailure(.acknowledgeBeforeSync)!
        #expect(report.failureDescription.contains("tools/sim --seed \(report.seed) --steps \(report.steps)"))
        #expect(report.reproduceCommand.hasSuffix("--fault skip-fsync"))
        #expect(!report.traceTail.isEmpty)
        var again = CISeedSet.runs.first { $0.seed == report.seed }!
        again.raftFaults = .acknowledgeBeforeSync
        again.traceLinesKept = 40
        let replay = await simulate(again)
        #expect(replay.traceHash == report.traceHash)
    }
}

@Suite struct SimStorageTests {
    func persist(_ entries: [LogEntry], _ hs: HardState? = nil) -> SimStorage.Write {
        .ready(snapshot: nil, entries: entries, hardState: hs)
    }

    @Test func crashKeepsOnlyAPrefixOfUnsyncedWrites() throws {
        var s = SimStorage(.bootstrap(voters: [1]))
        s.write(persist([LogEntry(index: 2, term: 2)], HardState(term: 2, vote: 1, commit: 1)))
        s.sync()
        s.write(persist([LogEntry(index: 3, term: 2)]))
        s.write(persist([], HardState(term: 3, vote: 1, commit: 3)))
        s.crash(keeping: 1)
        #expect(s.durable.entries.map(\.index) == [1, 2, 3])
        #expect(s.durable.hardState.term == 2)
        s.write(persist([LogEntry(index: 3, term: 4)]))
        s.crash(keeping: 0)
        #expect(s.durable.entries.last?.term == 2)
        #expect(try s.recovered() == s.durable)
    }

    @Test func entriesReplaceTheSuffixAndCompactionDropsThePrefix() throws {
        var s = SimStorage(.bootstrap(voters: [1]))
        s.write(persist([LogEntry(index: 2, term: 2), LogEntry(index: 3, term: 2)]))
        s.write(persist([LogEntry(index: 3, term: 3)]))
        s.write(.compact(Snapshot(metadata: SnapshotMetadata(index: 2, term: 2, confState: ConfState(voters: [1])), data: [4, 2])))
        s.sync()
        #expect(s.durable.entries.map(\.term) == [3])
        #expect(s.durable.snapshot.metadata.index == 2)
        #expect(try s.recovered() == s.durable)
        #expect(try s.recovered().snapshot.data == [4, 2])
    }

    @Test func kvCommandRoundTrips() {
        let c = KVCommand(clientID: 513, operationID: 0xDEAD_BEEF, kind: .put, key: 7, value: 0x0102_0304)
        #expect(KVCommand(decoding: c.encoded()) == c)
        #expect(KVCommand(decoding: [1, 2, 3]) == nil)
        var kv = KVStore(keyCount: 3)
        _ = kv.apply(c)
        #expect(KVStore(decoding: kv.encoded(), keyCount: 3) == kv)
    }
}
