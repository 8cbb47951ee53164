import StalDeterminism
import StalRaft

/// One simulated replica process: the pure core, its disk, its applied state machine and
/// the driver state between `ready()` and `advance()`.
final class SimNode {
    let id: RaftNodeID
    var incarnation = 0
    var raft: RaftStateMachine?
    var storage: SimStorage
    var kv: KVStore
    var appliedIndex: LogIndex = 0
    /// A Ready whose writes are being fsynced; sent and applied when the sync completes.
    var outstanding: Ready?
    var tickIntervalMicros: UInt64
    /// Removed from the group for good; never restarted.
    var retired = false
    var lastCommitSeen: LogIndex = 0
    var wasLeaderInTerm: RaftTerm = 0
    var proposals: [LogIndex: (client: Int, operationID: UInt32)] = [:]
    var readRequests: [[UInt8]: (client: Int, operationID: UInt32)] = [:]
    var readsAwaitingApply: [(index: LogIndex, client: Int, operationID: UInt32)] = []

    init(id: RaftNodeID, storage: SimStorage, keyCount: Int, tickIntervalMicros: UInt64) {
        self.id = id
        self.storage = storage
        self.kv = KVStore(keyCount: keyCount)
        self.tickIntervalMicros = tickIntervalMicros
    }

    var isUp: Bool { raft != nil }

    func start(config: RaftConfig, state durable: RaftPersistentState, seed: UInt64, keyCount: Int) {
        incarnation += 1
        raft = RaftStateMachine(config: config, state: durable, random: SeededRandom(seed: seed))
        kv = KVStore(decoding: durable.snapshot.data, keyCount: keyCount)
        appliedIndex = durable.snapshot.metadata.index
        lastCommitSeen = raft?.commitIndex ?? 0
        outstanding = nil
        proposals = [:]
        readRequests = [:]
        readsAwaitingApply = []
    }

    func crash(keepingPendingWrites kept: Int) {
        storage.crash(keeping: kept)
        raft = nil
        outstanding = nil
        proposals = [:]
        readRequests = [:]
        readsAwaitingApply = []
    }
}
