import Foundation
import StalDeterminism
import StalRaft

// In-process micro-benchmark of the pure Raft core: three replicas, an instant in-memory
// network, no disk. It measures the core's own cost per committed entry; it is NOT the
// issue's real-process, fsyncing, networked benchmark.

struct InstantCluster {
    var nodes: [RaftStateMachine]
    var leaderIndex = 0

    init(maxEntriesPerAppend: Int) {
        nodes = (1...3).map { id in
            var c = RaftConfig(id: RaftNodeID(id))
            c.maxEntriesPerAppend = maxEntriesPerAppend
            c.maxUncommittedEntries = 1 << 20
            return RaftStateMachine(config: c, state: .bootstrap(voters: [1, 2, 3]), random: SeededRandom(seed: UInt64(id)))
        }
    }

    /// Runs Ready cycles until quiet; returns the number of entries the leader applied.
    mutating func settle() -> Int {
        var appliedByLeader = 0
        while true {
            var outbox: [RaftMessage] = []
            for i in nodes.indices where nodes[i].hasReady {
                let r = nodes[i].ready()
                outbox.append(contentsOf: r.messages)
                if i == leaderIndex { appliedByLeader += r.committedEntries.count }
                nodes[i].advance(r)
                if r.committedEntries.count > 0, nodes[i].status.applied > nodes[i].snapshotIndex + 10_000 {
                    _ = nodes[i].compact(through: nodes[i].status.applied, data: [])
                }
            }
            if outbox.isEmpty { return appliedByLeader }
            for m in outbox { nodes[Int(m.to) - 1].step(m) }
        }
    }
}

/// CPU time rather than wall time: the build machine is shared, and the core is
/// single-threaded, so CPU time is the stable measure of its cost.
func processCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func measure(batch: Int, payloadBytes: Int, totalEntries: Int) {
    var cluster = InstantCluster(maxEntriesPerAppend: max(batch, 64))
    var leader: Int?
    while leader == nil {
        for i in cluster.nodes.indices { cluster.nodes[i].tick() }
        _ = cluster.settle()
        leader = cluster.nodes.firstIndex { $0.role == .leader }
    }
    cluster.leaderIndex = leader!
    let payload = [UInt8](repeating: 0xAB, count: payloadBytes)
    var committed = 0
    let start = processCPUNanoseconds()
    while committed < totalEntries {
        for _ in 0..<batch { _ = cluster.nodes[cluster.leaderIndex].propose(payload) }
        committed += cluster.settle()
    }
    let seconds = Double(processCPUNanoseconds() - start) / 1e9
    let rate = Double(committed) / seconds
    print("{\"name\":\"raft-core-3-replica-commit\",\"parameters\":{\"batch\":\(batch),\"payload_bytes\":\(payloadBytes),\"entries\":\(committed),\"network\":\"instant-in-process\",\"disk\":\"none\"},\"result\":\(Int(rate)),\"unit\":\"entries per CPU second\"}")
}

for batch in [1, 16, 256] {
    measure(batch: batch, payloadBytes: 256, totalEntries: batch == 1 ? 50_000 : 300_000)
}
