/// ReadIndex requests waiting for a quorum to confirm the leader (Raft thesis §6.4).
struct ReadIndexQueue: Sendable {
    struct PendingRead: Sendable {
        var context: [UInt8]
        var index: LogIndex
        var requester: RaftNodeID
        var acks: Set<RaftNodeID>
    }

    private(set) var pending: [PendingRead] = []

    var count: Int { pending.count }
    var lastContext: [UInt8] { pending.last?.context ?? [] }

    func contains(_ context: [UInt8]) -> Bool { pending.contains { $0.context == context } }

    mutating func add(context: [UInt8], index: LogIndex, requester: RaftNodeID, selfID: RaftNodeID) {
        pending.append(PendingRead(context: context, index: index, requester: requester, acks: [selfID]))
    }

    /// Records that `from` answered a heartbeat carrying `context`. A heartbeat answered
    /// for one request was sent after every earlier request arrived, so once a quorum
    /// confirms it, it and every earlier request are released.
    mutating func acknowledge(context: [UInt8], from: RaftNodeID, quorum: MajorityConfig) -> [PendingRead] {
        guard !context.isEmpty, let position = pending.firstIndex(where: { $0.context == context }) else { return [] }
        pending[position].acks.insert(from)
        let acks = pending[position].acks
        guard quorum.hasQuorum({ acks.contains($0) }) else { return [] }
        let released = Array(pending[...position])
        pending.removeFirst(position + 1)
        return released
    }

    mutating func removeAll() { pending = [] }
}
