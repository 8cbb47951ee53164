import Testing
@testable import StalSimulator

@Suite struct LinearizabilityCheckerTests {
    let checker = LinearizabilityChecker()

    func put(_ client: Int, _ value: UInt32, _ start: UInt64, _ end: UInt64?, key: UInt8 = 0) -> KVOperation {
        KVOperation(clientID: client, kind: .put, key: key, value: value, invokedAt: start, returnedAt: end)
    }

    func get(_ client: Int, _ value: UInt32, _ start: UInt64, _ end: UInt64, key: UInt8 = 0) -> KVOperation {
        KVOperation(clientID: client, kind: .get, key: key, value: value, invokedAt: start, returnedAt: end)
    }

    @Test func sequentialHistoryIsLinearizable() {
        #expect(checker.check([put(0, 1, 0, 10), get(1, 1, 11, 20), put(0, 2, 21, 30), get(1, 2, 31, 40)]) == .linearizable)
        #expect(checker.check([get(0, 0, 0, 5)]) == .linearizable)
        #expect(checker.check([]) == .linearizable)
    }

    @Test func concurrentOperationsMayTakeEffectInEitherOrder() {
        // The get overlaps both puts and sees the first one: order put 2, put 1, get.
        #expect(checker.check([put(0, 1, 0, 100), put(1, 2, 10, 20), get(2, 1, 50, 150)]) == .linearizable)
    }

    @Test func staleReadAfterACompletedWriteIsNotLinearizable() {
        let h = [put(0, 1, 0, 10), put(0, 2, 20, 30), get(1, 1, 40, 50)]
        #expect(checker.check(h) == .violation(key: 0, operations: h))
    }

    @Test func readingAValueNeverWrittenIsNotLinearizable() {
        #expect(checker.check([put(0, 1, 0, 10), get(1, 7, 20, 30)]) != .linearizable)
    }

    @Test func readsMustNotGoBackInTime() {
        // Two sequential reads during a long write: new value then old value is impossible.
        let h = [put(0, 1, 0, 5), put(1, 2, 10, 100), get(2, 2, 20, 30), get(2, 1, 40, 50)]
        #expect(checker.check(h) != .linearizable)
        let ok = [put(0, 1, 0, 5), put(1, 2, 10, 100), get(2, 1, 20, 30), get(2, 2, 40, 50)]
        #expect(checker.check(ok) == .linearizable)
    }

    @Test func unknownOutcomeWriteMayOrMayNotHaveHappened() {
        // A timed-out put that was applied after its client gave up.
        #expect(checker.check([put(0, 5, 0, nil), get(1, 0, 10, 20), get(1, 5, 30, 40)]) == .linearizable)
        // A timed-out put that never took effect.
        #expect(checker.check([put(0, 5, 0, nil), get(1, 0, 10, 20), get(1, 0, 30, 40)]) == .linearizable)
        // But it cannot be observed before it was invoked.
        #expect(checker.check([get(1, 5, 0, 5), put(0, 5, 10, nil)]) != .linearizable)
        // Nor un-happen once observed.
        #expect(checker.check([put(0, 5, 0, nil), get(1, 5, 10, 20), get(1, 0, 30, 40)]) != .linearizable)
    }

    @Test func keysAreCheckedIndependently() {
        let h = [put(0, 1, 0, 10, key: 1), get(1, 0, 20, 30, key: 2), put(0, 2, 20, 30, key: 2), get(1, 1, 40, 50, key: 1)]
        #expect(checker.check(h) == .linearizable)
        let bad = h + [get(2, 0, 60, 70, key: 1)]
        guard case .violation(let key, _) = checker.check(bad) else {
            Issue.record("expected a violation")
            return
        }
        #expect(key == 1)
    }

    @Test func searchBudgetIsReportedNotGuessed() {
        var h: [KVOperation] = []
        for i in 0..<12 { h.append(put(i, UInt32(i + 1), 0, 1000)) }
        h.append(get(99, 77, 2000, 2001))
        #expect(LinearizabilityChecker(maxSearchSteps: 10).check(h) == .inconclusive(key: 0))
        #expect(checker.check(h) != .linearizable)
    }

    @Test func simulatorHistoryWithATamperedReadIsRejected() async {
        let report = await simulate(SimulationOptions(seed: 5, steps: 8_000))
        #expect(checker.check(report.history) == .linearizable)
        // Replace one read's value by a value of the same key written strictly later.
        var h = report.history
        var tampered = false
        for (i, op) in h.enumerated() where op.kind == .get && !tampered {
            guard let ret = op.returnedAt,
                  let later = h.first(where: { $0.kind == .put && $0.key == op.key && $0.invokedAt > ret && $0.value != op.value }) else { continue }
            h[i].value = later.value
            tampered = true
        }
        #expect(tampered)
        #expect(checker.check(h) != .linearizable)
    }
}
