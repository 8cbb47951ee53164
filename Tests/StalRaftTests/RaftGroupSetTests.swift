import Testing
import StalDeterminism
@testable import StalRaft

@Suite struct RaftGroupSetTests {
    struct Node {
        var groups = RaftGroupSet()
        var store = OrderedStore()
        var fsyncs = 0
        var applied: [UInt64: [String]] = [:]
    }

    /// Three nodes each host replicas of groups 1...4; every Ready cycle of a node is one
    /// write and at most one fsync, whatever the number of groups with work.
    @Test func manyGroupsShareOneWriteAndOneFsync() throws {
        let groupIDs: [UInt64] = [4, 1, 3, 2]
        var nodes: [RaftNodeID: Node] = [:]
        for id: RaftNodeID in [1, 2, 3] {
            var n = Node()
            for g in groupIDs {
                var replica = RaftStateMachine(config: RaftConfig(id: id), state: .bootstrap(voters: [1, 2, 3]),
                                               random: SeededRandom(seed: id * 100 + g))
                replica.startupTicks = replica.config.electionTicks
                n.groups.add(group: g, replica: replica)
                OrderedStore.apply(RaftWriteBatch.initial(group: g, state: .bootstrap(voters: [1, 2, 3])), to: &n.store.synced)
            }
            nodes[id] = n
        }
        #expect(nodes[1]!.groups.groupIDs == [1, 2, 3, 4])
        var cycles = 0
        var groupReadies = 0
        func settle() {
            while true {
                var outbox: [RaftGroupMessage] = []
                for id: RaftNodeID in [1, 2, 3] where nodes[id]!.groups.hasReady {
                    var n = nodes[id]!
                    let batch = n.groups.ready()
                    n.store.write(batch.mutations)
                    if batch.mustSync {
                        for b in n.store.batches { OrderedStore.apply(b, to: &n.store.synced) }
                        n.store.batches = []
                        n.fsyncs += 1
                    }
                    outbox += batch.messages
                    for g in batch.groups {
                        for e in g.ready.committedEntries where e.kind == .normal && !e.data.isEmpty {
                            n.applied[g.group, default: []].append(String(decoding: e.data, as: UTF8.self))
                        }
                    }
                    n.groups.advance(batch)
                    cycles += 1
                    groupReadies += batch.groups.count
                    nodes[id] = n
                }
                if outbox.isEmpty { return }
                for m in outbox { nodes[m.message.to]!.groups.step(m) }
            }
        }
        // Group g is led by node g % 3 + 1.
        for g in groupIDs {
            _ = nodes[RaftNodeID(g % 3 + 1)]!.groups.with(group: g) { $0.campaign() }
        }
        settle()
        for g in groupIDs {
            let leader = RaftNodeID(g % 3 + 1)
            #expect(nodes[leader]!.groups.replicas[g]?.role == .leader)
            _ = nodes[leader]!.groups.with(group: g) { $0.propose(Array("g\(g)".utf8)) }
        }
        settle()
        for id: RaftNodeID in [1, 2, 3] {
            for _ in 0..<2 { nodes[id]!.groups.tick() }
        }
        settle()
        for id: RaftNodeID in [1, 2, 3] {
            for g in groupIDs { #expect(nodes[id]!.applied[g] == ["g\(g)"]) }
            // Each group's state recovers from the shared store on its own, with everything
            // that had to be durable: term, vote and log (a commit-only change need not be).
            for g in groupIDs {
                let recovered = try RaftWriteBatch.recover(group: g, scan: OrderedStore.scan(nodes[id]!.store.afterCrash(keeping: 0), group: g))
                let live = nodes[id]!.groups.replicas[g]!
                #expect(recovered.hardState.term == live.term)
                #expect(recovered.hardState.vote == live.vote)
                #expect(recovered.hardState.commit <= live.commitIndex)
                #expect(recovered.entries.last?.index == live.lastIndex)
            }
        }
        #expect(groupReadies > cycles)
        #expect(nodes.values.map(\.fsyncs).reduce(0, +) <= cycles)
        #expect(nodes[1]!.groups.step(RaftGroupMessage(group: 99, message: RaftMessage(kind: .heartbeat, from: 2, to: 1))) == false)
    }

    @Test func readyHonoursTheGroupLimit() {
        var set = RaftGroupSet()
        for g: UInt64 in 1...5 {
            set.add(group: g, replica: RaftStateMachine(config: RaftConfig(id: 1), state: .bootstrap(voters: [1]), random: SeededRandom(seed: g)))
            _ = set.with(group: g) { $0.campaign() }
        }
        let batch = set.ready(maxGroups: 2)
        #expect(batch.groups.map(\.group) == [1, 2])
        set.advance(batch)
        #expect(set.ready().groups.map(\.group) == [3, 4, 5])
        set.remove(group: 3)
        #expect(set.groupIDs == [1, 2, 4, 5])
    }
}
