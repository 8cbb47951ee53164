import StalCore

/// How fast the background scrubber reads: bounded so verification never competes with
/// client I/O for more than its share of the disk.
public struct ScrubPacing: Hashable, Sendable {
    public var bytesPerSecond = 32 << 20
    /// Bytes verified per step before pausing.
    public var stepBytes = 8 << 20
    /// Pause between the end of one full pass and the start of the next.
    public var passPauseMilliseconds: Int64 = 6 * 60 * 60 * 1000

    public init() {}

    /// The pause after a step that read `bytes`, keeping the average at `bytesPerSecond`.
    public func pauseMilliseconds(afterReading bytes: Int) -> Int64 {
        Int64((bytes * 1000 + bytesPerSecond - 1) / bytesPerSecond)
    }

    /// The pause after `step`: the rate's, or the pass pause when the step ended a pass.
    public func pauseMilliseconds(after step: ScrubReport) -> Int64 {
        let pause = pauseMilliseconds(afterReading: step.bytesRead)
        return step.passCompleted ? max(pause, passPauseMilliseconds) : pause
    }
}

/// Drives `BlobStore.scrub` step by step at the pacing's rate. Blocking: run it on its own
/// thread; `sleep` is injected so tests and the simulator control time.
public struct BlobScrubber: Sendable {
    public let store: BlobStore
    public let pacing: ScrubPacing

    public init(store: BlobStore, pacing: ScrubPacing = ScrubPacing()) {
        self.store = store
        self.pacing = pacing
    }

    /// Scrubs until `shouldStop` says so, calling `report` after every step.
    public func run(shouldStop: () -> Bool, sleepMilliseconds: (Int64) -> Void, report: (ScrubReport) -> Void = { _ in }) {
        while !shouldStop() {
            let step = store.scrub(maxBytes: pacing.stepBytes)
            report(step)
            if shouldStop() { return }
            sleepMilliseconds(pacing.pauseMilliseconds(after: step))
        }
    }
}
