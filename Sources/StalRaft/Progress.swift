/// The leader's view of one follower (etcd's tracker.Progress).
public struct Progress: Hashable, Sendable {
    public enum State: UInt8, Hashable, Sendable {
        /// One append per heartbeat interval until the follower's match index is found.
        case probe
        /// Optimistically stream appends, up to `maxInflightAppends` unacknowledged.
        case replicate
        /// A snapshot is on its way; nothing else is sent until it is acknowledged.
        case snapshot
    }

    public internal(set) var match: LogIndex = 0
    public internal(set) var next: LogIndex
    public internal(set) var state: State = .probe
    public internal(set) var pendingSnapshot: LogIndex = 0
    /// Heard from since the last check-quorum round.
    public internal(set) var recentActive = false
    /// In probe state: an append was sent and is unanswered.
    public internal(set) var probeSent = false
    public internal(set) var inflights: Inflights
    public internal(set) var isLearner: Bool
    /// Latest leader tick echoed by this follower's heartbeat responses in this term.
    public internal(set) var leaseAckTick: UInt64?

    public init(next: LogIndex, maxInflight: Int, isLearner: Bool) {
        self.next = next
        self.inflights = Inflights(capacity: maxInflight)
        self.isLearner = isLearner
    }

    public var isPaused: Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }

    private mutating func reset(to newState: State) {
        probeSent = false
        pendingSnapshot = 0
        state = newState
        inflights.reset()
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            let pending = pendingSnapshot
            reset(to: .probe)
            next = max(match + 1, pending + 1)
        } else {
            reset(to: .probe)
            next = match + 1
        }
    }

    mutating func becomeReplicate() {
        reset(to: .replicate)
        next = match + 1
    }

    mutating func becomeSnapshot(_ index: LogIndex) {
        reset(to: .snapshot)
        pendingSnapshot = index
    }

    /// Records an acknowledgement up to `index`; false when it tells us nothing new.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Records that an append ending at `lastIndex` with `count` entries was sent.
    mutating func sentAppend(lastIndex: LogIndex, count: Int) {
        switch state {
        case .replicate:
            if count > 0 {
                next = lastIndex + 1
                inflights.add(lastIndex)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            break
        }
    }

    /// Handles a rejection of the append that was sent at `rejected`; `matchHint` is the
    /// highest index that might still match. False when the rejection is stale.
    mutating func maybeDecrease(rejected: LogIndex, matchHint: LogIndex) -> Bool {
        if state == .replicate {
            guard rejected > match else { return false }
            next = match + 1
            return true
        }
        guard next > 0, next - 1 == rejected else { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        probeSent = false
        return true
    }
}
