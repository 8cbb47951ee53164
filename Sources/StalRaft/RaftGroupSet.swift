/// A message of one group, as it travels between nodes that host many groups.
public struct RaftGroupMessage: Hashable, Sendable {
    public var group: UInt64
    public var message: RaftMessage

    public init(group: UInt64, message: RaftMessage) {
        self.group = group
        self.message = message
    }
}

/// One group's share of a `RaftBatchReady`.
public struct RaftGroupReady: Sendable {
    public var group: UInt64
    public var ready: Ready
}

/// The Ready of many groups at once. The driver follows the `Ready` contract for all of
/// them together: apply `mutations` as ONE atomic write (fsync it if `mustSync`: one fsync
/// for every group, i.e. group commit), then send `messages` (leaders' appends and
/// heartbeats may go first, as `Ready` allows), then apply each group's
/// snapshot, committed entries and read states, then `advance`.
public struct RaftBatchReady: Sendable {
    public var groups: [RaftGroupReady] = []
    public var mutations: [KVMutation] = []
    public var mustSync = false
    public var messages: [RaftGroupMessage] = []
}

/// The Raft groups one node hosts, driven through one Ready cycle (multi-Raft). Pure, like
/// the core: a node driver owns the store, the transport and the clock.
public struct RaftGroupSet: Sendable {
    public private(set) var replicas: [UInt64: RaftStateMachine] = [:]
    /// Group ids in order: iteration never depends on hashing.
    public private(set) var groupIDs: [UInt64] = []

    public init() {}

    public mutating func add(group: UInt64, replica: RaftStateMachine) {
        if replicas[group] == nil {
            groupIDs.insert(group, at: groupIDs.firstIndex { $0 > group } ?? groupIDs.count)
        }
        replicas[group] = replica
    }

    public mutating func remove(group: UInt64) {
        replicas[group] = nil
        groupIDs.removeAll { $0 == group }
    }

    /// Runs `body` on one group's replica (propose, read, transfer, compact...).
    public mutating func with<Result>(group: UInt64, _ body: (inout RaftStateMachine) -> Result) -> Result? {
        guard replicas[group] != nil else { return nil }
        return body(&replicas[group]!)
    }

    public mutating func tick() {
        for id in groupIDs { replicas[id]!.tick() }
    }

    /// Steps a message into its group; false when this node does not host the group.
    @discardableResult
    public mutating func step(_ m: RaftGroupMessage) -> Bool {
        guard replicas[m.group] != nil else { return false }
        replicas[m.group]!.step(m.message)
        return true
    }

    public var hasReady: Bool { groupIDs.contains { replicas[$0]!.hasReady } }

    /// Collects the Ready of at most `maxGroups` groups (in group order).
    public mutating func ready(maxGroups: Int = Int.max) -> RaftBatchReady {
        var batch = RaftBatchReady()
        for id in groupIDs where batch.groups.count < maxGroups && replicas[id]!.hasReady {
            let r = replicas[id]!.ready()
            batch.groups.append(RaftGroupReady(group: id, ready: r))
            batch.mutations += RaftWriteBatch.mutations(group: id, ready: r)
            batch.mustSync = batch.mustSync || r.mustSync
            batch.messages += r.messages.map { RaftGroupMessage(group: id, message: $0) }
        }
        return batch
    }

    public mutating func advance(_ batch: RaftBatchReady) {
        for g in batch.groups where replicas[g.group] != nil {
            replicas[g.group]!.advance(g.ready)
        }
    }
}
