/// The last index of each append message sent to one follower and not yet acknowledged,
/// bounded so a slow follower cannot make the leader buffer without limit.
public struct Inflights: Hashable, Sendable {
    public let capacity: Int
    private var buffer: [LogIndex]
    private var start = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.buffer = []
    }

    public var isFull: Bool { count == capacity }

    public mutating func add(_ lastIndex: LogIndex) {
        precondition(!isFull, "inflights: add while full")
        if buffer.isEmpty {
            // Allocated on first use: most followers of an idle group never need it.
            buffer = Array(repeating: 0, count: capacity)
        }
        buffer[(start + count) % capacity] = lastIndex
        count += 1
    }

    /// Frees every in-flight message whose last index is at most `index`.
    public mutating func freeLE(_ index: LogIndex) {
        while count > 0 && buffer[start] <= index {
            start = (start + 1) % capacity
            count -= 1
        }
        if count == 0 { start = 0 }
    }

    public mutating func freeFirst() {
        guard count > 0 else { return }
        freeLE(buffer[start])
    }

    public mutating func reset() {
        start = 0
        count = 0
    }
}
