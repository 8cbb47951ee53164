/// FoundationDB-style fault injection points. Disabled (and free) unless a simulator or a
/// test enables it with its own seeded generator; production never enables it.
public struct Buggify: Sendable {
    public var enabled: Bool
    private var random: SeededRandom
    /// Probability in parts per million that an enabled point fires.
    public var firePerMillion: UInt64

    public init(enabled: Bool = false, seed: UInt64 = 0, firePerMillion: UInt64 = 50_000) {
        self.enabled = enabled
        self.random = SeededRandom(seed: seed)
        self.firePerMillion = firePerMillion
    }

    public mutating func fires() -> Bool {
        guard enabled else { return false }
        return random.chance(firePerMillion, in: 1_000_000)
    }

    public static let disabled = Buggify()
}
