// Elections, replication and reads: the role-specific halves of `step`.
extension RaftStateMachine {
    // MARK: - Elections

    mutating func startElection(transfer: Bool) {
        guard role != .leader, isPromotable else { return }
        if config.preVote && !transfer {
            becomePreCandidate()
        } else {
            becomeCandidate()
        }
        let kind: RaftMessage.Kind = role == .preCandidate ? .requestPreVote : .requestVote
        let electionTerm = role == .preCandidate ? term + 1 : term
        tracker.recordVote(id, granted: true)
        if tallyVotes() { return }
        for peer in tracker.confState.voters where peer != id {
            send(RaftMessage(kind: kind, from: id, to: peer, term: electionTerm, logTerm: log.lastTerm,
                             index: log.lastIndex, leaderTransfer: transfer))
        }
    }

    mutating func becomePreCandidate() {
        // Pre-vote does not touch term or vote: a partitioned node cannot disrupt the
        // cluster by inflating its term (thesis §9.6).
        tracker.resetVotes()
        leader = raftNoNode
        role = .preCandidate
    }

    mutating func becomeCandidate() {
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    mutating func becomeLeader() {
        reset(term: term)
        leader = id
        role = .leader
        tracker.progress[id]?.becomeReplicate()
        pendingConfIndex = latestConfIndex
        // A no-op entry of the new term: committing it commits every earlier entry (§5.4.2)
        // and enables reads and membership changes.
        appendAsLeader([LogEntry(index: 0, term: 0)])
    }

    /// Returns true when the election ended (won or lost).
    mutating func tallyVotes() -> Bool {
        switch tracker.voteResult() {
        case .won:
            if role == .preCandidate {
                startElectionAfterPreVote()
            } else {
                becomeLeader()
                broadcastAppend()
            }
            return true
        case .lost:
            becomeFollower(term: term, leader: raftNoNode)
            return true
        case .pending:
            return false
        }
    }

    private mutating func startElectionAfterPreVote() {
        becomeCandidate()
        tracker.recordVote(id, granted: true)
        if tallyVotes() { return }
        for peer in tracker.confState.voters where peer != id {
            send(RaftMessage(kind: .requestVote, from: id, to: peer, term: term, logTerm: log.lastTerm, index: log.lastIndex))
        }
    }

    mutating func handleVoteRequest(_ m: RaftMessage) {
        let isPreVote = m.kind == .requestPreVote
        var canVote = vote == m.from || (vote == raftNoNode && leader == raftNoNode) || (isPreVote && m.term > term)
        if config.testingFaults.contains(.grantMultipleVotesPerTerm) { canVote = true }
        let responseKind: RaftMessage.Kind = isPreVote ? .requestPreVoteResponse : .requestVoteResponse
        if canVote && log.isUpToDate(lastIndex: m.index, term: m.logTerm) {
            send(RaftMessage(kind: responseKind, from: id, to: m.from, term: m.term))
            if !isPreVote {
                electionElapsed = 0
                vote = m.from
            }
        } else {
            send(RaftMessage(kind: responseKind, from: id, to: m.from, term: term, reject: true))
        }
    }

    mutating func stepCandidate(_ m: RaftMessage) {
        switch m.kind {
        case .append:
            becomeFollower(term: m.term, leader: m.from)
            handleAppend(m)
        case .heartbeat:
            becomeFollower(term: m.term, leader: m.from)
            handleHeartbeat(m)
        case .snapshot:
            becomeFollower(term: m.term, leader: m.from)
            handleSnapshot(m)
        case .requestVoteResponse where role == .candidate, .requestPreVoteResponse where role == .preCandidate:
            tracker.recordVote(m.from, granted: !m.reject)
            _ = tallyVotes()
        default:
            break
        }
    }

    mutating func stepFollower(_ m: RaftMessage) {
        switch m.kind {
        case .append:
            electionElapsed = 0
            leader = m.from
            handleAppend(m)
        case .heartbeat:
            electionElapsed = 0
            leader = m.from
            handleHeartbeat(m)
        case .snapshot:
            electionElapsed = 0
            leader = m.from
            handleSnapshot(m)
        case .timeoutNow:
            startElection(transfer: true)
        case .readIndexResponse:
            readStates.append(ReadState(index: m.index, context: m.context))
        default:
            break
        }
    }

    // MARK: - Follower side of replication

    mutating func handleAppend(_ m: RaftMessage) {
        // Entries must continue the log at m.index + 1, with terms that never decrease and
        // never exceed the sender's term; anything else is refused before it is looked at.
        var expectedIndex = m.index + 1
        var previousTerm = m.logTerm
        for e in m.entries {
            guard e.index == expectedIndex, e.term >= previousTerm, e.term <= m.term else {
                integrityFault = "malformed append from \(m.from): entry \(e.index)/t\(e.term) after \(expectedIndex - 1)/t\(previousTerm)"
                return
            }
            expectedIndex += 1
            previousTerm = e.term
        }
        if m.index < log.committed {
            send(RaftMessage(kind: .appendResponse, from: id, to: m.from, index: log.committed))
            return
        }
        guard log.matchTerm(m.index, m.logTerm) else {
            // Fast back-off: tell the leader the last index that can still match, so one
            // round trip skips a whole conflicting term (etcd's findConflictByTerm).
            let (hintIndex, hintTerm) = log.findConflictByTerm(index: min(m.index, log.lastIndex), term: m.logTerm)
            send(RaftMessage(kind: .appendResponse, from: id, to: m.from, logTerm: hintTerm, index: m.index,
                             reject: true, rejectHint: hintIndex))
            return
        }
        let lastNew = m.index + LogIndex(m.entries.count)
        if let conflict = log.findConflict(m.entries) {
            guard conflict > log.committed else {
                integrityFault = "leader \(m.from) term \(m.term) would overwrite committed entry \(conflict)"
                return
            }
            let suffix = Array(m.entries[Int(conflict - m.index - 1)...])
            let truncates = conflict <= log.lastIndex
            guard log.append(suffix) else { return }
            if truncates || suffix.contains(where: { $0.kind == .confChange }) { refreshConfiguration() }
        }
        commitFromLeader(min(m.commit, lastNew))
        send(RaftMessage(kind: .appendResponse, from: id, to: m.from, index: lastNew))
    }

    mutating func handleHeartbeat(_ m: RaftMessage) {
        commitFromLeader(m.commit)
        send(RaftMessage(kind: .heartbeatResponse, from: id, to: m.from, context: m.context, leaseTick: m.leaseTick))
    }

    private mutating func commitFromLeader(_ index: LogIndex) {
        if index > log.lastIndex {
            integrityFault = "leader asked to commit \(index) beyond last index \(log.lastIndex)"
        }
        log.commit(to: index)
    }

    mutating func handleSnapshot(_ m: RaftMessage) {
        guard let snapshot = m.snapshot else { return }
        let meta = snapshot.metadata
        if meta.index <= log.committed {
            send(RaftMessage(kind: .appendResponse, from: id, to: m.from, index: log.committed))
            return
        }
        if log.matchTerm(meta.index, meta.term) {
            // We already hold the snapshot's last entry, hence (log matching) everything
            // before it: just learn that it is committed.
            log.commit(to: meta.index)
            send(RaftMessage(kind: .appendResponse, from: id, to: m.from, index: log.committed))
            return
        }
        log.restore(snapshot)
        refreshConfiguration()
        send(RaftMessage(kind: .appendResponse, from: id, to: m.from, index: log.lastIndex))
    }

    // MARK: - Leader

    mutating func tickLeader() {
        electionElapsed += 1
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if config.checkQuorum && !tracker.checkQuorumActive(selfID: id) {
                becomeFollower(term: term, leader: raftNoNode)
                return
            }
            if leadTransferee != raftNoNode { leadTransferee = raftNoNode }
        }
        heartbeatElapsed += 1
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat(context: readQueue.lastContext)
        }
    }

    mutating func appendAsLeader(_ newEntries: [LogEntry]) {
        var last = log.lastIndex
        let stamped = newEntries.map { e -> LogEntry in
            last += 1
            return LogEntry(index: last, term: term, kind: e.kind, data: e.data)
        }
        _ = log.append(stamped)
        if stamped.contains(where: { $0.kind == .confChange }) { refreshConfiguration() }
        _ = tracker.progress[id]?.maybeUpdate(log.lastIndex)
        _ = maybeCommit()
    }

    /// Advances the commit index to what a quorum stores, but only by counting replicas of
    /// an entry from the current term (§5.4.2, Figure 8). Returns true if it moved.
    mutating func maybeCommit() -> Bool {
        let quorumIndex = tracker.committedIndex()
        guard quorumIndex > log.committed else { return false }
        let countsOlderTerms = config.testingFaults.contains(.commitPreviousTermEntriesByCounting)
        guard countsOlderTerms || log.term(at: quorumIndex) == term else { return false }
        log.commit(to: quorumIndex)
        if !tracker.isVoter(id) && log.committed >= latestConfIndex {
            // A leader that removed itself steps down once the change is committed (§4.2.2).
            becomeFollower(term: term, leader: raftNoNode)
        }
        return true
    }

    mutating func broadcastAppend() {
        guard role == .leader else { return }
        for peer in tracker.members where peer != id {
            sendAppend(to: peer)
        }
    }

    mutating func broadcastHeartbeat(context: [UInt8]) {
        for peer in tracker.members where peer != id {
            let match = tracker.progress[peer]?.match ?? 0
            send(RaftMessage(kind: .heartbeat, from: id, to: peer, commit: min(match, log.committed),
                             context: context, leaseTick: localTicks))
        }
    }

    /// Sends the next append (or a snapshot) to `peer`; false when nothing was sent.
    @discardableResult
    mutating func sendAppend(to peer: RaftNodeID, sendIfEmpty: Bool = true) -> Bool {
        // Read what is needed, then mutate in place: a local copy of the progress would
        // make the in-flight ring buffer copy itself on every send.
        guard let next = tracker.progress[peer].flatMap({ $0.isPaused ? nil : $0.next }) else { return false }
        let prevIndex = next - 1
        guard let prevTerm = log.term(at: prevIndex),
              let entries = log.slice(from: next, maxCount: config.maxEntriesPerAppend, maxBytes: config.maxBytesPerAppend) else {
            return sendSnapshot(to: peer)
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        send(RaftMessage(kind: .append, from: id, to: peer, logTerm: prevTerm, index: prevIndex, entries: entries, commit: log.committed))
        tracker.progress[peer]?.sentAppend(lastIndex: entries.last?.index ?? prevIndex, count: entries.count)
        return true
    }

    private mutating func sendSnapshot(to peer: RaftNodeID) -> Bool {
        guard var pr = tracker.progress[peer], pr.recentActive, let snapshot = log.latestSnapshot else { return false }
        pr.becomeSnapshot(snapshot.metadata.index)
        tracker.progress[peer] = pr
        send(RaftMessage(kind: .snapshot, from: id, to: peer, snapshot: snapshot))
        return true
    }

    mutating func sendTimeoutNow(to peer: RaftNodeID) {
        leaseUsable = false
        send(RaftMessage(kind: .timeoutNow, from: id, to: peer))
    }

    mutating func stepLeader(_ m: RaftMessage) {
        switch m.kind {
        case .appendResponse:
            handleAppendResponse(m)
        case .heartbeatResponse:
            handleHeartbeatResponse(m)
        case .readIndex:
            _ = handleReadIndex(context: m.context, requester: m.from, mode: .safe)
        default:
            break
        }
    }

    private mutating func handleAppendResponse(_ m: RaftMessage) {
        guard var pr = tracker.progress[m.from] else { return }
        pr.recentActive = true
        if m.reject {
            var hint = m.rejectHint
            if m.logTerm > 0 {
                hint = log.findConflictByTerm(index: m.rejectHint, term: m.logTerm).0
            }
            if pr.maybeDecrease(rejected: m.index, matchHint: hint) {
                if pr.state == .replicate { pr.becomeProbe() }
                tracker.progress[m.from] = pr
                sendAppend(to: m.from)
            } else {
                tracker.progress[m.from] = pr
            }
            return
        }
        let wasPaused = pr.isPaused
        guard pr.maybeUpdate(m.index) || (pr.match == m.index && pr.state == .probe) else {
            tracker.progress[m.from] = pr
            return
        }
        switch pr.state {
        case .probe:
            pr.becomeReplicate()
        case .snapshot where pr.match + 1 >= log.firstIndex:
            pr.becomeProbe()
            pr.becomeReplicate()
        case .replicate:
            pr.inflights.freeLE(m.index)
        case .snapshot:
            break
        }
        tracker.progress[m.from] = pr
        if maybeCommit() {
            broadcastAppend()
        } else if wasPaused {
            sendAppend(to: m.from)
        }
        while role == .leader && sendAppend(to: m.from, sendIfEmpty: false) {}
        if m.from == leadTransferee && tracker.progress[m.from]?.match == log.lastIndex {
            sendTimeoutNow(to: m.from)
        }
    }

    private mutating func handleHeartbeatResponse(_ m: RaftMessage) {
        guard var pr = tracker.progress[m.from] else { return }
        pr.recentActive = true
        pr.probeSent = false
        pr.leaseAckTick = max(pr.leaseAckTick ?? 0, m.leaseTick)
        if pr.state == .replicate && pr.inflights.isFull { pr.inflights.freeFirst() }
        tracker.progress[m.from] = pr
        if pr.match < log.lastIndex { sendAppend(to: m.from) }
        for read in readQueue.acknowledge(context: m.context, from: m.from, quorum: tracker.majority) {
            answerRead(index: read.index, context: read.context, requester: read.requester)
        }
    }

    // MARK: - Reads

    /// The lease holds while fewer than (electionTicks - margin) local ticks have passed
    /// since the send time of a heartbeat that a quorum acknowledged: each acknowledging
    /// voter refuses votes for electionTicks after receiving it.
    var leaseIsValid: Bool {
        guard config.checkQuorum, leaseUsable,
              let start = tracker.leaseStartTick(selfID: id, now: localTicks) else { return false }
        return localTicks < start + UInt64(config.electionTicks - config.leaseSafetyMarginTicks)
    }

    mutating func handleReadIndex(context: [UInt8], requester: RaftNodeID, mode: ReadMode) -> RaftRefusal? {
        if tracker.confState.voters == [id] {
            answerRead(index: log.committed, context: context, requester: requester)
            return nil
        }
        // Until an entry of this term commits, the leader's commit index may lag behind
        // entries committed by earlier leaders (thesis §6.4 step 1).
        guard committedEntryInCurrentTerm else { return .noCommittedEntryInCurrentTerm }
        if mode == .leaseBased && leaseIsValid {
            answerRead(index: log.committed, context: context, requester: requester)
            return nil
        }
        guard !readQueue.contains(context) else { return nil }
        guard readQueue.count < config.maxPendingReads else { return .tooManyPendingReads }
        readQueue.add(context: context, index: log.committed, requester: requester, selfID: id)
        broadcastHeartbeat(context: context)
        return nil
    }

    private mutating func answerRead(index: LogIndex, context: [UInt8], requester: RaftNodeID) {
        if requester == id {
            readStates.append(ReadState(index: index, context: context))
        } else {
            send(RaftMessage(kind: .readIndexResponse, from: id, to: requester, index: index, context: context))
        }
    }
}
