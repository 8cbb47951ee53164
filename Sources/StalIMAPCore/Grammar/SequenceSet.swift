/// One end of a sequence range: a number or `*` (the largest number in use).
public enum SequenceBound: Hashable, Sendable {
    case number(UInt32)
    case last

    func resolved(largest: UInt32) -> UInt32 {
        switch self {
        case .number(let n): return n
        case .last: return largest
        }
    }
}

/// A sequence-set (RFC 3501 §9): comma-separated numbers and ranges, of message sequence
/// numbers or UIDs depending on the command.
public struct SequenceSet: Hashable, Sendable {
    public struct Range: Hashable, Sendable {
        public var first: SequenceBound
        public var last: SequenceBound

        public init(_ first: SequenceBound, _ last: SequenceBound) {
            self.first = first
            self.last = last
        }

        /// The range as closed bounds given the largest number in use; `a:b` equals `b:a`.
        public func bounds(largest: UInt32) -> ClosedRange<UInt32> {
            let a = first.resolved(largest: largest)
            let b = last.resolved(largest: largest)
            return min(a, b)...max(a, b)
        }
    }

    public var ranges: [Range]

    public init(_ ranges: [Range]) {
        self.ranges = ranges
    }

    public init(numbers: [UInt32]) {
        self.ranges = numbers.map { Range(.number($0), .number($0)) }
    }

    public static let all = SequenceSet([Range(.number(1), .last)])

    public func contains(_ value: UInt32, largest: UInt32) -> Bool {
        ranges.contains { $0.bounds(largest: largest).contains(value) }
    }

    /// Compact wire form of a sorted list of numbers, e.g. `1:3,7` (used by COPYUID).
    public static func compactText(_ numbers: [UInt32]) -> String {
        var parts: [String] = []
        var i = 0
        while i < numbers.count {
            var j = i
            while j + 1 < numbers.count && numbers[j + 1] == numbers[j] &+ 1 { j += 1 }
            parts.append(i == j ? "\(numbers[i])" : "\(numbers[i]):\(numbers[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    public var text: String {
        ranges.map { r in
            func t(_ b: SequenceBound) -> String {
                switch b {
                case .number(let n): return String(n)
                case .last: return "*"
                }
            }
            return r.first == r.last ? t(r.first) : "\(t(r.first)):\(t(r.last))"
        }.joined(separator: ",")
    }
}
