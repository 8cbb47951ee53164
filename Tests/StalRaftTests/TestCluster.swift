import StalDeterminism
@testable import StalRaft

/// Several replicas wired by an instant, in-order network that honours the Ready contract:
/// persist (into `durable`), send, apply, advance. Links can be cut per direction.
struct TestCluster {
    var nodes: [RaftNodeID: RaftStateMachine] = [:]
    var durable: [RaftNodeID: RaftPersistentState] = [:]
    var applied: [RaftNodeID: [LogEntry]] = [:]
    var readStates: [RaftNodeID: [ReadState]] = [:]
    var cut = Set<[RaftNodeID]>()
    /// Every message delivered, in order, for assertions about traffic.
    var delivered: [RaftMessage] = []
    var ids: [RaftNodeID]
    /// Replicas whose Readies the test handles itself; `settle` only delivers to them.
    var manuallyDriven = Set<RaftNodeID>()
    var configure: (inout RaftConfig) -> Void

    init(voters: [RaftNodeID], configure: @escaping (inout RaftConfig) -> Void = { _ in }) {
        ids = voters
        self.configure = configure
        for id in voters { start(id, state: .bootstrap(voters: voters)) }
    }

    static func config(_ id: RaftNodeID, _ configure: (inout RaftConfig) -> Void) -> RaftConfig {
        var c = RaftConfig(id: id)
        c.electionTicks = 10
        c.heartbeatTicks = 1
        configure(&c)
        return c
    }

    mutating func start(_ id: RaftNodeID, state: RaftPersistentState) {
        if !ids.contains(id) { ids.append(id) }
        durable[id] = state
        var n = RaftStateMachine(config: Self.config(id, configure), state: state, random: SeededRandom(seed: id))
        // A fresh test cluster behaves as if it had been up for a while: the post-restart
        // vote embargo is exercised by `restart` instead.
        n.startupTicks = n.config.electionTicks
        nodes[id] = n
        applied[id] = applied[id] ?? []
    }

    /// Restarts from what was persisted, losing all volatile state.
    mutating func restart(_ id: RaftNodeID) {
        let state = durable[id]!
        nodes[id] = RaftStateMachine(config: Self.config(id, configure), state: state, random: SeededRandom(seed: id &+ 99))
        applied[id] = []
    }

    func node(_ id: RaftNodeID) -> RaftStateMachine { nodes[id]! }

    mutating func isolate(_ id: RaftNodeID) {
        for other in ids where other != id {
            cut.insert([id, other])
            cut.insert([other, id])
        }
    }

    mutating func heal() { cut = [] }

    /// Drains every Ready and delivers every message until the cluster is quiet.
    mutating func settle(maxRounds: Int = 1000) {
        for _ in 0..<maxRounds {
            var outbox: [RaftMessage] = []
            for id in ids.sorted() where !manuallyDriven.contains(id) {
                guard var n = nodes[id], n.hasReady else { continue }
                let r = n.ready()
                persist(id, r)
                outbox += r.messages
                if r.snapshot != nil { applied[id] = [] }
                applied[id, default: []] += r.committedEntries
                readStates[id, default: []] += r.readStates
                n.advance(r)
                nodes[id] = n
            }
            if outbox.isEmpty { return }
            for m in outbox where !cut.contains([m.from, m.to]) && nodes[m.to] != nil {
                delivered.append(m)
                nodes[m.to]!.step(m)
            }
        }
    }

    private mutating func persist(_ id: RaftNodeID, _ r: Ready) {
        var s = durable[id]!
        if let snap = r.snapshot {
            s.snapshot = snap
            s.entries = []
        }
        if let first = r.entries.first {
            s.entries.removeAll { $0.index >= first.index }
            s.entries += r.entries
        }
        if let hs = r.hardState { s.hardState = hs }
        durable[id] = s
    }

    mutating func tick(_ id: RaftNodeID, times: Int = 1) {
        for _ in 0..<times { nodes[id]!.tick() }
    }

    mutating func tickAll(times: Int = 1) {
        for _ in 0..<times {
            for id in ids.sorted() { nodes[id]!.tick() }
            settle()
        }
    }

    /// Makes `id` leader by an explicit campaign.
    mutating func elect(_ id: RaftNodeID) {
        nodes[id]!.campaign()
        settle()
    }

    mutating func propose(_ id: RaftNodeID, _ text: String) -> Result<LogPosition, RaftRefusal> {
        let r = nodes[id]!.propose(Array(text.utf8))
        settle()
        return r
    }

    var leaders: [RaftNodeID] { ids.sorted().filter { nodes[$0]?.role == .leader } }

    func appliedData(_ id: RaftNodeID) -> [String] {
        (applied[id] ?? []).filter { $0.kind == .normal && !$0.data.isEmpty }.map { String(decoding: $0.data, as: UTF8.self) }
    }
}
