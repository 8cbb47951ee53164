import Testing
import StalCore
@testable import StalDeterminism

@Suite struct RandomTests {
    @Test func sameSeedSameSequence() {
        var a = SeededRandom(seed: 42)
        var b = SeededRandom(seed: 42)
        var c = SeededRandom(seed: 43)
        let sa = (0..<16).map { _ in a.next() }
        #expect(sa == (0..<16).map { _ in b.next() })
        #expect(sa != (0..<16).map { _ in c.next() })
    }

    @Test func boundedValuesStayInRange() {
        var r = SeededRandom(seed: 7)
        var seen = Set<UInt64>()
        for _ in 0..<1000 {
            let v = r.next(below: 10)
            #expect(v < 10)
            seen.insert(v)
        }
        #expect(seen.count == 10)
    }

    @Test func buggifyDisabledNeverFires() {
        var b = Buggify.disabled
        #expect((0..<1000).allSatisfy { _ in !b.fires() })
    }
}

@Suite struct ClockTests {
    @Test func manualClockMovesOnlyWhenTold() {
        let c = ManualClock(Timestamp(millisecondsSinceEpoch: 1000))
        #expect(c.now().millisecondsSinceEpoch == 1000)
        c.advance(milliseconds: 250)
        #expect(c.now().millisecondsSinceEpoch == 1250)
        #expect(c.monotonicNanoseconds() == 250_000_000)
    }
}
