/// The fixed runs CI executes (and the bug-injection tests search): three- and five-voter
/// clusters under the standard fault profile. Sized to finish well inside CI's budget in
/// a debug build; `tools/sim` explores beyond it.
public enum CISeedSet {
    public static let stepsPerRun = 30_000

    public static var runs: [SimulationOptions] {
        let threeVoters = (UInt64(1)...12).map { seed -> SimulationOptions in
            SimulationOptions(seed: seed, steps: stepsPerRun)
        }
        let fiveVoters = (UInt64(101)...106).map { seed -> SimulationOptions in
            var o = SimulationOptions(seed: seed, steps: stepsPerRun)
            o.initialVoters = 5
            o.maxVoters = 5
            return o
        }
        return threeVoters + fiveVoters
    }
}
