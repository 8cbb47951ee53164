import StalDeterminism
import StalRaft

/// N replicas of one Raft group in one process, driven by a seeded PRNG over a simulated
/// clock, a lossy reordering network and disks that lose unsynced writes on crash. Safety
/// invariants are checked after every event; the clients' history is checked for
/// linearizability at the end. Same options, same trace hash.
public final class ClusterSimulator {
    enum Event {
        case tick(RaftNodeID, incarnation: Int)
        case deliver(RaftMessage)
        case persisted(RaftNodeID, incarnation: Int)
        case client(Int, generation: Int)
        case nemesis
        case restart(RaftNodeID)
        case crash(RaftNodeID, incarnation: Int)
        case isolate(RaftNodeID, incarnation: Int)
        case heal(generation: Int)
        case snapshotReport(from: RaftNodeID, to: RaftNodeID, succeeded: Bool)
    }

    private struct EntryKey: Hashable {
        var index: LogIndex
        var term: RaftTerm
    }

    public let options: SimulationOptions
    private var random: SeededRandom
    private var now: UInt64 = 0
    private var queue = EventQueue<Event>()
    private var nodes: [SimNode] = []
    private var nextNodeID: RaftNodeID = 1
    private var blockedLinks = Set<UInt64>()
    private var partitionGeneration = 0
    private var clients: [SimClient] = []
    private var history: [KVOperation] = []
    private var violations: [String] = []
    private var trace = FNV64()
    private var traceRing: [String] = []
    private var traceRingNext = 0
    private var faultsActive = true
    private var everMember = Set<RaftNodeID>()
    private var nodeStartedAt: [RaftNodeID: UInt64] = [:]

    private var leaderOfTerm: [RaftTerm: RaftNodeID] = [:]
    private var committedTerm: [LogIndex: RaftTerm] = [:]
    private var maxCommitted: LogIndex = 0
    private var entryIdentity: [EntryKey: (digest: UInt64, previousTerm: RaftTerm)] = [:]
    private var appliedDigest: [LogIndex: UInt64] = [:]

    private var elections = 0
    private var crashes = 0
    private var membershipChanges = 0
    private var completedWrites = 0
    private var completedReads = 0
    private var unknownWrites = 0
    private var writesCompletedSinceHeal = 0

    private let maxEntriesPerAppend: Int
    private let messageLossPerMillion: UInt64
    private let tickMicros: UInt64 = 10_000
    private let operationTimeoutMicros: UInt64 = 1_000_000
    private let compactionThresholdEntries: LogIndex = 40

    public init(options: SimulationOptions) {
        self.options = options
        random = SeededRandom(seed: options.seed)
        let choices = options.faults.maxEntriesPerAppendChoices
        maxEntriesPerAppend = choices[Int(random.next(below: UInt64(choices.count)))]
        let losses = options.faults.messageLossPerMillionChoices
        messageLossPerMillion = losses[Int(random.next(below: UInt64(losses.count)))]
    }

    public static func run(_ options: SimulationOptions) -> SimulationReport {
        ClusterSimulator(options: options).run()
    }

    public func run() -> SimulationReport {
        let voters = (1...RaftNodeID(options.initialVoters)).map { $0 }
        for _ in voters { addNode(state: .bootstrap(voters: voters)) }
        for c in 0..<options.clients {
            clients.append(SimClient(id: c))
            wakeClient(c, after: random.next(below: 50_000))
        }
        queue.push(.nemesis, at: options.faults.nemesisIntervalMicros)

        var processed = 0
        while processed < options.steps, violations.isEmpty, let (time, event) = queue.pop() {
            now = time
            handle(event)
            processed += 1
        }
        if violations.isEmpty { runLivenessPhase() }
        finishClients()
        let linearizability = LinearizabilityChecker().check(history)
        return SimulationReport(
            options: options, traceHash: trace.value, violations: violations,
            traceTail: Array(traceRing[traceRingNext...] + traceRing[..<traceRingNext]), history: history,
            linearizability: linearizability, completedWrites: completedWrites, completedReads: completedReads,
            unknownWrites: unknownWrites, elections: elections, crashes: crashes,
            membershipChanges: membershipChanges, simulatedMicros: now)
    }

    // MARK: - Phases

    /// Faults healed and every replica restarted: a write must complete within the bound.
    private func runLivenessPhase() {
        faultsActive = false
        blockedLinks = []
        note("liveness phase: faults healed")
        for n in nodes where !n.isUp && !n.retired { restart(n) }
        writesCompletedSinceHeal = 0
        let deadline = now + options.livenessBoundMicros
        while violations.isEmpty, writesCompletedSinceHeal < options.clients, let (time, event) = queue.pop() {
            if time > deadline {
                violations.append("liveness: only \(writesCompletedSinceHeal) writes completed within \(options.livenessBoundMicros / 1000) ms after healing")
                break
            }
            now = time
            handle(event)
        }
    }

    private func finishClients() {
        for c in clients {
            guard let op = c.current else { continue }
            resolveAbandoned(c, op)
            c.current = nil
        }
    }

    // MARK: - Events

    private func handle(_ event: Event) {
        record(event)
        switch event {
        case .tick(let id, let incarnation):
            guard let n = node(id), n.isUp, n.incarnation == incarnation else { return }
            n.raft!.tick()
            pump(n)
            queue.push(.tick(id, incarnation: incarnation), at: now + n.tickIntervalMicros)
            check(n)
        case .deliver(let m):
            guard let n = node(m.to), n.isUp, !n.retired else {
                if m.kind == .snapshot { queue.push(.snapshotReport(from: m.from, to: m.to, succeeded: false), at: now) }
                return
            }
            if m.kind == .snapshot { queue.push(.snapshotReport(from: m.from, to: m.to, succeeded: true), at: now) }
            n.raft!.step(m)
            pump(n)
            check(n)
        case .persisted(let id, let incarnation):
            guard let n = node(id), n.isUp, n.incarnation == incarnation, let r = n.outstanding else { return }
            n.outstanding = nil
            finish(n, r, synced: true)
            pump(n)
            check(n)
        case .client(let c, let generation):
            guard clients[c].generation == generation else { return }
            clientStep(clients[c])
        case .nemesis:
            guard faultsActive else { return }
            nemesis()
            let interval = options.faults.nemesisIntervalMicros
            queue.push(.nemesis, at: now + interval / 2 + random.next(below: interval))
        case .restart(let id):
            guard faultsActive, let n = node(id), !n.isUp, !n.retired else { return }
            restart(n)
        case .crash(let id, let incarnation):
            guard faultsActive, let n = node(id), n.isUp, n.incarnation == incarnation, liveNodes.count > 1 else { return }
            crash(n)
        case .isolate(let id, let incarnation):
            guard faultsActive, let n = node(id), n.isUp, n.incarnation == incarnation else { return }
            partition(isolating: id)
        case .heal(let generation):
            if generation == partitionGeneration {
                blockedLinks = []
                note("heal")
            }
        case .snapshotReport(let from, let to, let succeeded):
            guard let n = node(from), n.isUp else { return }
            n.raft!.reportSnapshot(to: to, succeeded: succeeded)
            pump(n)
        }
    }

    private func node(_ id: RaftNodeID) -> SimNode? {
        // Ids are handed out in order and never reused, so the array is sorted by id.
        guard id >= 1, id <= RaftNodeID(nodes.count) else { return nil }
        return nodes[Int(id - 1)]
    }

    @discardableResult
    private func addNode(state: RaftPersistentState) -> SimNode {
        let drift = options.faults.clockDriftPerMillionMax
        let deviation = drift == 0 ? 0 : Int64(random.next(below: 2 * drift + 1)) - Int64(drift)
        let interval = UInt64(Int64(tickMicros) + Int64(tickMicros) * deviation / 1_000_000)
        let n = SimNode(id: nextNodeID, storage: SimStorage(state), keyCount: options.keys, tickIntervalMicros: interval)
        nextNodeID += 1
        nodes.append(n)
        nodeStartedAt[n.id] = now
        restart(n)
        return n
    }

    private func raftConfig(_ id: RaftNodeID) -> RaftConfig {
        var c = RaftConfig(id: id)
        c.electionTicks = 10
        c.heartbeatTicks = 2
        c.maxEntriesPerAppend = maxEntriesPerAppend
        c.maxInflightAppends = 16
        c.testingFaults = options.raftFaults
        c.leaseSafetyMarginTicks = options.leaseSafetyMarginTicks
        return c
    }

    private func restart(_ n: SimNode) {
        let state: RaftPersistentState
        do {
            state = try n.storage.recovered()
            if state != n.storage.durable { violate("storage: n\(n.id) recovered a different state than was made durable") }
        } catch {
            violate("storage: n\(n.id) cannot recover: \(error)")
            state = n.storage.durable
        }
        n.start(config: raftConfig(n.id), state: state, seed: random.next(), keyCount: options.keys)
        note("start n\(n.id) incarnation \(n.incarnation) term \(n.raft!.term) commit \(n.raft!.commitIndex) last \(n.raft!.lastIndex)")
        queue.push(.tick(n.id, incarnation: n.incarnation), at: now + random.next(below: n.tickIntervalMicros) + 1)
        check(n)
    }

    // MARK: - Driver: the Ready contract

    private func pump(_ n: SimNode) {
        while n.outstanding == nil, n.raft?.hasReady == true {
            let r = n.raft!.ready()
            checkPersistedEntries(n, r)
            if r.snapshot != nil || !r.entries.isEmpty || r.hardState != nil {
                n.storage.write(.ready(snapshot: r.snapshot, entries: r.entries, hardState: r.hardState))
            }
            if r.mustSync {
                n.outstanding = r
                queue.push(.persisted(n.id, incarnation: n.incarnation), at: now + delay(options.faults.diskSyncMicrosMin, options.faults.diskSyncMicrosMax))
                return
            }
            finish(n, r, synced: false)
        }
    }

    private func finish(_ n: SimNode, _ r: Ready, synced: Bool) {
        if synced { n.storage.sync() }
        for m in r.messages { send(m) }
        if let s = r.snapshot {
            n.kv = KVStore(decoding: s.data, keyCount: options.keys)
            n.appliedIndex = s.metadata.index
        }
        for e in r.committedEntries { apply(e, at: n) }
        for rs in r.readStates {
            if let req = n.readRequests.removeValue(forKey: rs.context) {
                n.readsAwaitingApply.append((rs.index, req.client, req.operationID))
            }
        }
        serveReads(n)
        n.raft!.advance(r)
        if n.appliedIndex >= n.raft!.snapshotIndex + compactionThresholdEntries,
           let snap = n.raft!.compact(through: n.appliedIndex, data: n.kv.encoded()) {
            n.storage.write(.compact(snap))
        }
    }

    private func apply(_ e: LogEntry, at n: SimNode) {
        var h = FNV64()
        h.combine(e.term)
        h.combine(byte: e.kind.rawValue)
        h.combine(e.data)
        if let prior = appliedDigest[e.index], prior != h.value {
            violate("state machine safety: n\(n.id) applied a different entry at index \(e.index) (term \(e.term))")
        }
        appliedDigest[e.index] = h.value
        if e.index != n.appliedIndex + 1 {
            violate("n\(n.id) applied index \(e.index) after \(n.appliedIndex)")
        }
        n.appliedIndex = e.index
        var result: UInt32 = 0
        let command = e.kind == .normal ? KVCommand(decoding: e.data) : nil
        if let command { result = n.kv.apply(command) }
        guard let proposal = n.proposals.removeValue(forKey: e.index) else { return }
        let client = clients[proposal.client]
        guard var op = client.current, op.operationID == proposal.operationID, op.submittedTo?.node == n.id else { return }
        if let command, Int(command.clientID) == proposal.client, command.operationID == proposal.operationID {
            complete(client, op, observed: result)
        } else {
            // Another entry took the slot: this attempt can never be applied, so retrying
            // cannot duplicate it.
            op.submittedTo = nil
            client.current = op
            wakeClient(client.id, after: 1_000)
        }
    }

    private func serveReads(_ n: SimNode) {
        var waiting: [(index: LogIndex, client: Int, operationID: UInt32)] = []
        for r in n.readsAwaitingApply {
            guard r.index <= n.appliedIndex else {
                waiting.append(r)
                continue
            }
            let client = clients[r.client]
            if let op = client.current, op.operationID == r.operationID, op.submittedTo?.node == n.id {
                complete(client, op, observed: n.kv.read(op.key))
            }
        }
        n.readsAwaitingApply = waiting
    }

    // MARK: - Network

    private func send(_ m: RaftMessage) {
        guard faultsActive else {
            queue.push(.deliver(m), at: now + 1 + options.faults.messageDelayMicrosMin)
            return
        }
        let f = options.faults
        let lost = blockedLinks.contains(link(m.from, m.to)) || random.chance(messageLossPerMillion, in: 1_000_000)
        if lost {
            if m.kind == .snapshot { queue.push(.snapshotReport(from: m.from, to: m.to, succeeded: false), at: now + f.messageDelayMicrosMax) }
            return
        }
        var latency = 1 + delay(f.messageDelayMicrosMin, f.messageDelayMicrosMax)
        if random.chance(f.messageClogPerMillion, in: 1_000_000) { latency += random.next(below: f.clogMicrosMax + 1) }
        queue.push(.deliver(m), at: now + latency)
        if random.chance(f.messageDuplicatePerMillion, in: 1_000_000) {
            queue.push(.deliver(m), at: now + 1 + delay(f.messageDelayMicrosMin, f.messageDelayMicrosMax))
        }
    }

    /// Half the time within a network round trip (before the new leader's no-op spreads),
    /// otherwise within a few heartbeats.
    private func soon() -> UInt64 {
        random.next(below: random.chance(1, in: 2) ? 3_000 : 30_000)
    }

    private func link(_ from: RaftNodeID, _ to: RaftNodeID) -> UInt64 { from << 32 | to }

    private func delay(_ lo: UInt64, _ hi: UInt64) -> UInt64 {
        hi > lo ? lo + random.next(below: hi - lo + 1) : lo
    }

    // MARK: - Nemesis

    private var liveNodes: [SimNode] { nodes.filter { $0.isUp && !$0.retired } }

    private var currentLeader: SimNode? {
        liveNodes.filter { $0.raft!.role == .leader }.max { $0.raft!.term < $1.raft!.term }
    }

    private func nemesis() {
        retireRemovedNodes()
        let f = options.faults
        switch random.next(below: 100) {
        case 0..<25 where f.crashes:
            let candidates = liveNodes
            guard candidates.count > 1 else { return }
            // Leaders are the interesting victims: half of all crashes hit the leader.
            if let leader = currentLeader, random.chance(1, in: 2) {
                crash(leader)
            } else {
                crash(candidates[Int(random.next(below: UInt64(candidates.count)))])
            }
        case 25..<45 where f.partitions:
            partition()
        case 45..<60 where f.membershipChanges:
            changeMembership()
        case 60..<72 where f.leadershipTransfers:
            guard let leader = currentLeader else { return }
            let voters = leader.raft!.confState.voters.filter { $0 != leader.id }
            guard !voters.isEmpty else { return }
            let target = voters[Int(random.next(below: UInt64(voters.count)))]
            let refusal = leader.raft!.transferLeadership(to: target)
            note("transfer leadership n\(leader.id) -> n\(target): \(refusal.map { "\($0)" } ?? "started")")
            pump(leader)
        default:
            break
        }
    }

    private func crash(_ victim: SimNode) {
        let kept = Int(random.next(below: UInt64(victim.storage.pending.count + 1)))
        note("crash n\(victim.id) keeping \(kept)/\(victim.storage.pending.count) unsynced writes")
        victim.crash(keepingPendingWrites: kept)
        crashes += 1
        queue.push(.restart(victim.id), at: now + 50_000 + random.next(below: 700_000))
    }

    private func partition(isolating isolated: RaftNodeID? = nil) {
        partitionGeneration += 1
        blockedLinks = []
        let members = nodes.filter { !$0.retired }.map(\.id)
        guard members.count > 1 else { return }
        let victim = isolated ?? members[Int(random.next(below: UInt64(members.count)))]
        let shape = isolated == nil ? random.next(below: 4) : 0
        switch shape {
        case 0:
            for other in members where other != victim {
                blockedLinks.insert(link(victim, other))
                blockedLinks.insert(link(other, victim))
            }
            note("partition: isolate n\(victim)")
        case 1:
            let side = members.filter { _ in random.chance(1, in: 2) }
            for a in side {
                for b in members where !side.contains(b) {
                    blockedLinks.insert(link(a, b))
                    blockedLinks.insert(link(b, a))
                }
            }
            note("partition: split \(side) from the rest")
        case 2:
            for other in members where other != victim { blockedLinks.insert(link(victim, other)) }
            note("partition: n\(victim) cannot send")
        default:
            for other in members where other != victim { blockedLinks.insert(link(other, victim)) }
            note("partition: n\(victim) cannot receive")
        }
        queue.push(.heal(generation: partitionGeneration), at: now + 100_000 + random.next(below: 900_000))
    }

    private func changeMembership() {
        guard let leader = currentLeader else { return }
        let conf = leader.raft!.confState
        let change: ConfChange
        if let learner = conf.learners.first, conf.voters.count < options.maxVoters {
            change = ConfChange(.addVoter, learner)
        } else if conf.voters.count > options.initialVoters || (conf.voters.count == options.maxVoters) {
            change = ConfChange(.removeNode, conf.voters[Int(random.next(below: UInt64(conf.voters.count)))])
        } else if nodes.filter({ !$0.retired }).count < options.maxVoters + 2 {
            change = ConfChange(.addLearner, nextNodeID)
        } else {
            return
        }
        let result = leader.raft!.proposeConfChange(change)
        note("membership n\(leader.id) \(change.operation) n\(change.nodeID): \(result)")
        pump(leader)
        guard case .success = result else { return }
        membershipChanges += 1
        if change.operation == .addLearner { addNode(state: .joining) }
    }

    /// Stops replicas whose removal is committed, and joiners whose addition never was.
    private func retireRemovedNodes() {
        // Only a replica that has seen the newest commit knows the newest committed membership.
        guard let reference = liveNodes.max(by: { $0.raft!.commitIndex < $1.raft!.commitIndex }),
              reference.raft!.commitIndex >= maxCommitted else { return }
        let committed = reference.raft!.configuration(through: reference.raft!.commitIndex)
        for id in committed.members { everMember.insert(id) }
        for n in nodes where !n.retired && !committed.isMember(n.id) {
            let abandonedJoiner = !everMember.contains(n.id) && now > (nodeStartedAt[n.id] ?? 0) + 5_000_000
            if everMember.contains(n.id) || abandonedJoiner {
                n.retired = true
                n.crash(keepingPendingWrites: 0)
                note("retire n\(n.id)")
            }
        }
    }

    // MARK: - Clients

    private func wakeClient(_ c: Int, after micros: UInt64) {
        clients[c].generation += 1
        queue.push(.client(c, generation: clients[c].generation), at: now + micros)
    }

    private func clientStep(_ c: SimClient) {
        if let op = c.current {
            if now >= op.deadline {
                resolveAbandoned(c, op)
                c.current = nil
                wakeClient(c.id, after: 1_000 + random.next(below: 10_000))
                return
            }
            if op.submittedTo == nil {
                submit(c)
            } else {
                wakeClient(c.id, after: op.deadline - now)
            }
            return
        }
        let id = c.nextOperationID
        c.nextOperationID += 1
        let key = UInt8(random.next(below: UInt64(options.keys)))
        let kind: SimClient.OperationKind
        switch random.next(below: 8) {
        case 0..<4: kind = .put(UInt32(c.id + 1) << 24 | id)
        case 4..<5: kind = .logGet
        case 5..<6: kind = .indexGet(.safe)
        default: kind = .indexGet(.leaseBased)
        }
        c.current = SimClient.Operation(operationID: id, kind: kind, key: key, invokedAt: now, deadline: now + operationTimeoutMicros)
        submit(c)
    }

    /// Sends the client's current operation to the replica it believes leads. The
    /// operation is recorded as submitted before the replica runs, because a lease read
    /// can complete inside the same step.
    private func submit(_ c: SimClient) {
        guard var op = c.current else { return }
        let up = liveNodes
        guard !up.isEmpty else {
            wakeClient(c.id, after: 20_000)
            return
        }
        let target = up.first { $0.id == c.leaderGuess } ?? up[Int(random.next(below: UInt64(up.count)))]
        var refusal: RaftRefusal?
        switch op.kind {
        case .put, .logGet:
            let value: UInt32 = if case .put(let v) = op.kind { v } else { 0 }
            let command = KVCommand(clientID: UInt16(c.id), operationID: op.operationID, kind: value == 0 ? .get : .put, key: op.key, value: value)
            switch target.raft!.propose(command.encoded()) {
            case .success(let position):
                target.proposals[position.index] = (c.id, op.operationID)
            case .failure(let r):
                refusal = r
            }
        case .indexGet(let mode):
            var context = KVCommand(clientID: UInt16(c.id), operationID: op.operationID, kind: .get, key: op.key, value: 0).encoded()
            context.append(contentsOf: [UInt8(truncatingIfNeeded: now), UInt8(truncatingIfNeeded: now >> 8), UInt8(truncatingIfNeeded: now >> 16)])
            refusal = target.raft!.readIndex(context: context, mode: mode)
            if refusal == nil { target.readRequests[context] = (c.id, op.operationID) }
        }
        if let refusal {
            if case .notLeader(let hint) = refusal { c.leaderGuess = hint ?? raftNoNode } else { c.leaderGuess = raftNoNode }
            wakeClient(c.id, after: 5_000 + random.next(below: 20_000))
        } else {
            c.leaderGuess = target.id
            op.submittedTo = (target.id, target.incarnation)
            c.current = op
            wakeClient(c.id, after: op.deadline - now)
        }
        pump(target)
        check(target)
    }

    private func complete(_ c: SimClient, _ op: SimClient.Operation, observed: UInt32) {
        switch op.kind {
        case .put(let v):
            history.append(KVOperation(clientID: c.id, kind: .put, key: op.key, value: v, invokedAt: op.invokedAt, returnedAt: now))
            completedWrites += 1
            writesCompletedSinceHeal += 1
        case .logGet, .indexGet:
            history.append(KVOperation(clientID: c.id, kind: .get, key: op.key, value: observed, invokedAt: op.invokedAt, returnedAt: now))
            completedReads += 1
        }
        c.current = nil
        wakeClient(c.id, after: 1_000 + random.next(below: 10_000))
    }

    /// A put that a replica accepted may still be applied later: its outcome is unknown.
    /// A read, or a put never accepted, has no effect and leaves the history.
    private func resolveAbandoned(_ c: SimClient, _ op: SimClient.Operation) {
        guard case .put(let v) = op.kind, op.submittedTo != nil else { return }
        history.append(KVOperation(clientID: c.id, kind: .put, key: op.key, value: v, invokedAt: op.invokedAt, returnedAt: nil))
        unknownWrites += 1
    }

    // MARK: - Invariants

    private func violate(_ message: String) {
        violations.append("t=\(now)us \(message)")
        note("VIOLATION \(message)")
    }

    /// Log matching (§5.3): an (index, term) pair names one entry, always preceded by the
    /// same term; by induction, logs that share an entry share the whole prefix.
    private func checkPersistedEntries(_ n: SimNode, _ r: Ready) {
        guard let raft = n.raft else { return }
        for e in r.entries {
            var h = FNV64()
            h.combine(byte: e.kind.rawValue)
            h.combine(e.data)
            let previousTerm = raft.term(at: e.index - 1) ?? 0
            let key = EntryKey(index: e.index, term: e.term)
            if let known = entryIdentity[key] {
                if known.digest != h.value || known.previousTerm != previousTerm {
                    violate("log matching: n\(n.id) holds a different entry \(e.index)/t\(e.term)")
                }
            } else {
                entryIdentity[key] = (h.value, previousTerm)
            }
        }
    }

    private func check(_ n: SimNode) {
        guard let raft = n.raft else { return }
        if let fault = raft.integrityFault {
            violate("n\(n.id) integrity: \(fault)")
        }
        if raft.role == .leader && n.wasLeaderInTerm != raft.term {
            n.wasLeaderInTerm = raft.term
            if let other = leaderOfTerm[raft.term], other != n.id {
                violate("election safety: n\(n.id) and n\(other) both leaders of term \(raft.term)")
            } else {
                leaderOfTerm[raft.term] = n.id
                elections += 1
                if faultsActive && options.faults.crashes && random.chance(options.faults.crashNewLeaderPerMillion, in: 1_000_000) {
                    // A leader dying moments after election leaves entries of several terms
                    // half-replicated: the ground Figure 8 of the Raft paper is built on.
                    queue.push(.crash(n.id, incarnation: n.incarnation), at: now + soon())
                } else if faultsActive && options.faults.partitions && random.chance(options.faults.isolateNewLeaderPerMillion, in: 1_000_000) {
                    queue.push(.isolate(n.id, incarnation: n.incarnation), at: now + soon())
                }
                if maxCommitted >= raft.snapshotIndex, let known = committedTerm[maxCommitted], raft.term(at: maxCommitted) != known {
                    violate("leader completeness: n\(n.id) leader of term \(raft.term) lacks committed entry \(maxCommitted) (has term \(raft.term(at: maxCommitted).map(String.init) ?? "none"), committed term \(committedTerm[maxCommitted].map(String.init) ?? "none"), snapshot \(raft.snapshotIndex), last \(raft.lastIndex))")
                }
            }
        }
        let commit = raft.commitIndex
        if commit < n.lastCommitSeen {
            violate("monotonic commit: n\(n.id) commit went from \(n.lastCommitSeen) to \(commit)")
        } else if commit > n.lastCommitSeen {
            // A snapshot's own index has a known term; entries below it are gone.
            var i = max(n.lastCommitSeen + 1, raft.snapshotIndex)
            while i <= commit {
                let t = raft.term(at: i) ?? 0
                if let known = committedTerm[i] {
                    if known != t { violate("committed entry changed: index \(i) term \(known) now \(t) at n\(n.id)") }
                } else {
                    committedTerm[i] = t
                }
                i += 1
            }
            maxCommitted = max(maxCommitted, commit)
            n.lastCommitSeen = commit
            if raft.role == .leader { checkCommitSurvivesElections(leader: n, index: commit) }
        }
    }

    /// Leader completeness at its source: when a leader commits `index`, no voter lacking
    /// that entry may be able to win an election, i.e. be at least as up-to-date (§5.4.1)
    /// as a quorum judged by their durable logs. Raft's proof says such a voter cannot
    /// exist; a Figure 8 bug creates one long before it actually overwrites anything.
    private func checkCommitSurvivesElections(leader: SimNode, index: LogIndex) {
        guard let raft = leader.raft, let term = raft.term(at: index), index > raft.snapshotIndex else { return }
        let voters = raft.confState.voters
        let quorum = voters.count / 2 + 1
        for rivalID in voters where rivalID != leader.id {
            guard let rival = node(rivalID), !rival.retired, !holds(rival, index: index, term: term) else { continue }
            let rivalLog = lastEntry(rival, durableOnly: false)
            var supporters = 1
            for voterID in voters where voterID != rivalID {
                guard let voter = node(voterID) else { continue }
                let voterLog = lastEntry(voter, durableOnly: true)
                if rivalLog.term > voterLog.term || (rivalLog.term == voterLog.term && rivalLog.index >= voterLog.index) {
                    supporters += 1
                }
            }
            if supporters >= quorum {
                violate("leader completeness: n\(leader.id) committed \(index)/t\(term) but n\(rivalID) lacks it and can still win an election (last \(rivalLog.index)/t\(rivalLog.term))")
            }
        }
    }

    private func holds(_ n: SimNode, index: LogIndex, term: RaftTerm) -> Bool {
        if let raft = n.raft {
            return index <= raft.snapshotIndex || raft.term(at: index) == term
        }
        let durable = n.storage.durable
        if index <= durable.snapshot.metadata.index { return true }
        return durable.entries.first { $0.index == index }?.term == term
    }

    /// A replica's last log position: in memory when running (unless `durableOnly`), on
    /// disk otherwise.
    private func lastEntry(_ n: SimNode, durableOnly: Bool) -> LogPosition {
        if !durableOnly, let raft = n.raft {
            return LogPosition(index: raft.lastIndex, term: raft.term(at: raft.lastIndex) ?? 0)
        }
        let durable = n.storage.durable
        if let last = durable.entries.last { return LogPosition(index: last.index, term: last.term) }
        return LogPosition(index: durable.snapshot.metadata.index, term: durable.snapshot.metadata.term)
    }

    // MARK: - Trace

    private func record(_ event: Event) {
        trace.combine(now)
        switch event {
        case .tick(let id, let inc):
            trace.combine(1); trace.combine(id); trace.combine(UInt64(inc))
        case .deliver(let m):
            trace.combine(2); trace.combine(byte: m.kind.rawValue); trace.combine(m.from); trace.combine(m.to)
            trace.combine(m.term); trace.combine(m.index); trace.combine(m.logTerm); trace.combine(m.commit)
            trace.combine(UInt64(m.entries.count)); trace.combine(m.reject ? 1 : 0)
            remember("\(now)us deliver \(m)")
        case .persisted(let id, let inc):
            trace.combine(3); trace.combine(id); trace.combine(UInt64(inc))
            remember("\(now)us n\(id) fsync done")
        case .client(let c, let g):
            trace.combine(4); trace.combine(UInt64(c)); trace.combine(UInt64(g))
        case .nemesis:
            trace.combine(5)
        case .restart(let id):
            trace.combine(6); trace.combine(id)
        case .crash(let id, let inc):
            trace.combine(9); trace.combine(id); trace.combine(UInt64(inc))
        case .isolate(let id, let inc):
            trace.combine(10); trace.combine(id); trace.combine(UInt64(inc))
        case .heal(let g):
            trace.combine(7); trace.combine(UInt64(g))
        case .snapshotReport(let from, let to, let ok):
            trace.combine(8); trace.combine(from); trace.combine(to); trace.combine(ok ? 1 : 0)
        }
    }

    private func note(_ text: String) {
        for b in text.utf8 { trace.combine(byte: b) }
        remember("\(now)us \(text)")
    }

    private func remember(_ line: String) {
        guard options.traceLinesKept > 0 else { return }
        if traceRing.count < options.traceLinesKept {
            traceRing.append(line)
        } else {
            traceRing[traceRingNext] = line
            traceRingNext = (traceRingNext + 1) % options.traceLinesKept
        }
    }
}
