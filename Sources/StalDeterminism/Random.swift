/// Randomness is injected everywhere: `SeededRandom` makes simulator runs reproducible,
/// `SystemRandom` reads the kernel's generator for production secrets and timeouts.
public protocol RandomSource: Sendable {
    mutating func next() -> UInt64
}

extension RandomSource {
    /// A uniform value in `0..<bound` without modulo bias (Lemire's method).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        var x = next()
        var m = x.multipliedFullWidth(by: bound)
        if m.low < bound {
            let t = (0 &- bound) % bound
            while m.low < t {
                x = next()
                m = x.multipliedFullWidth(by: bound)
            }
        }
        return m.high
    }

    public mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next(below: UInt64(range.upperBound - range.lowerBound + 1)))
    }

    /// True with probability `numerator / denominator`.
    public mutating func chance(_ numerator: UInt64, in denominator: UInt64) -> Bool {
        next(below: denominator) < numerator
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count {
            var v = next()
            for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: v)); v >>= 8 }
        }
        out.removeLast(out.count - count)
        return out
    }
}

/// xoshiro256** seeded through SplitMix64: fast, small state, good statistical quality.
public struct SeededRandom: RandomSource, Hashable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }
}

/// The kernel's CSPRNG, through the standard library's generator (getrandom(2) on Linux).
public struct SystemRandom: RandomSource {
    public init() {}

    public mutating func next() -> UInt64 {
        var g = SystemRandomNumberGenerator()
        return g.next()
    }
}
