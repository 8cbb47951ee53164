import StalRaft

/// A client of the replicated registers: one operation at a time, retried on refusals,
/// abandoned at its deadline (a put abandoned after a leader accepted it has an unknown
/// outcome).
final class SimClient {
    enum OperationKind: Equatable {
        case put(UInt32)
        /// A read that goes through the log like a write.
        case logGet
        /// A read served locally after ReadIndex (or the leader lease).
        case indexGet(ReadMode)
    }

    struct Operation {
        var operationID: UInt32
        var kind: OperationKind
        var key: UInt8
        var invokedAt: UInt64
        var deadline: UInt64
        /// The replica holding an accepted attempt; nil when no attempt is outstanding.
        var submittedTo: (node: RaftNodeID, incarnation: Int)?
    }

    let id: Int
    var leaderGuess: RaftNodeID = raftNoNode
    var generation = 0
    var nextOperationID: UInt32 = 1
    var current: Operation?

    init(id: Int) {
        self.id = id
    }
}
