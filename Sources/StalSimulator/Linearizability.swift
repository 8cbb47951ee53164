/// One completed (or possibly completed) client operation on a register.
public struct KVOperation: Hashable, Sendable {
    public enum Kind: UInt8, Hashable, Sendable { case put, get }

    public var clientID: Int
    public var kind: Kind
    public var key: UInt8
    /// put: the value written; get: the value observed (0: never written).
    public var value: UInt32
    public var invokedAt: UInt64
    /// nil when the outcome is unknown (a put that timed out may or may not take effect).
    public var returnedAt: UInt64?

    public init(clientID: Int, kind: Kind, key: UInt8, value: UInt32, invokedAt: UInt64, returnedAt: UInt64?) {
        self.clientID = clientID
        self.kind = kind
        self.key = key
        self.value = value
        self.invokedAt = invokedAt
        self.returnedAt = returnedAt
    }
}

public enum LinearizabilityResult: Hashable, Sendable {
    case linearizable
    /// No linearization exists for the operations on `key`.
    case violation(key: UInt8, operations: [KVOperation])
    /// The search budget ran out before an answer was found.
    case inconclusive(key: UInt8)
}

/// Wing & Gong's search with Lowe's memoisation, as in Porcupine: linearize one operation
/// at a time in an order consistent with real time, remember every (set of linearized
/// operations, state) pair already explored, backtrack on a return whose call could not be
/// placed. Registers are independent, so each key is checked alone (P-compositionality).
public struct LinearizabilityChecker: Sendable {
    public var maxSearchSteps: Int

    public init(maxSearchSteps: Int = 5_000_000) {
        self.maxSearchSteps = maxSearchSteps
    }

    public func check(_ history: [KVOperation]) -> LinearizabilityResult {
        let keys = Array(Set(history.map(\.key))).sorted()
        for key in keys {
            let ops = history.filter { $0.key == key }
            switch checkRegister(ops) {
            case true?: continue
            case false?: return .violation(key: key, operations: ops)
            case nil: return .inconclusive(key: key)
            }
        }
        return .linearizable
    }

    private struct Event {
        var time: UInt64
        var isCall: Bool
        var op: Int
    }

    private struct CacheKey: Hashable {
        var linearized: [UInt64]
        var state: UInt32
    }

    /// true: linearizable; false: not; nil: budget exhausted.
    private func checkRegister(_ ops: [KVOperation]) -> Bool? {
        var events: [Event] = []
        for (i, op) in ops.enumerated() {
            events.append(Event(time: op.invokedAt, isCall: true, op: i))
            events.append(Event(time: op.returnedAt ?? UInt64.max, isCall: false, op: i))
        }
        // Calls sort before returns at the same instant: touching operations are concurrent.
        events.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isCall != b.isCall { return a.isCall }
            return a.op < b.op
        }
        let n = events.count
        let head = n
        var next = Array(repeating: -1, count: n + 1)
        var prev = Array(repeating: -1, count: n + 1)
        var returnPosition = Array(repeating: 0, count: ops.count)
        var order: [Int] = [head] + Array(0..<n)
        order.append(-1)
        for k in 0..<(n + 1) {
            next[order[k]] = order[k + 1]
            if order[k + 1] >= 0 { prev[order[k + 1]] = order[k] }
        }
        for (pos, e) in events.enumerated() where !e.isCall { returnPosition[e.op] = pos }

        func unlink(_ x: Int) {
            next[prev[x]] = next[x]
            if next[x] >= 0 { prev[next[x]] = prev[x] }
        }
        func relink(_ x: Int) {
            next[prev[x]] = x
            if next[x] >= 0 { prev[next[x]] = x }
        }

        var linearized = Array(repeating: UInt64(0), count: (ops.count + 63) / 64)
        var cache = Set<CacheKey>()
        var stack: [(position: Int, state: UInt32)] = []
        var state: UInt32 = 0
        var entry = next[head]
        var steps = 0
        while next[head] >= 0 {
            steps += 1
            if steps > maxSearchSteps { return nil }
            guard entry >= 0 else { return false }
            let e = events[entry]
            if e.isCall {
                let op = ops[e.op]
                let allowed = op.kind == .put || op.value == state
                let newState = op.kind == .put ? op.value : state
                if allowed {
                    linearized[e.op / 64] |= 1 << UInt64(e.op % 64)
                    if cache.insert(CacheKey(linearized: linearized, state: newState)).inserted {
                        stack.append((entry, state))
                        state = newState
                        unlink(entry)
                        unlink(returnPosition[e.op])
                        entry = next[head]
                        continue
                    }
                    linearized[e.op / 64] &= ~(1 << UInt64(e.op % 64))
                }
                entry = next[entry]
            } else {
                guard let top = stack.popLast() else { return false }
                let op = events[top.position].op
                state = top.state
                linearized[op / 64] &= ~(1 << UInt64(op % 64))
                relink(returnPosition[op])
                relink(top.position)
                entry = next[top.position]
            }
        }
        return true
    }
}
