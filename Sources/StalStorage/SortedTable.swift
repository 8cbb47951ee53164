/// A sorted array of key/value pairs with binary search: the in-memory engine's table.
/// Value semantics make a snapshot a constant-time copy.
struct SortedTable: Sendable {
    private(set) var keys: [[UInt8]] = []
    private(set) var values: [[UInt8]] = []

    /// Index of the first key not less than `key`.
    func lowerBound(_ key: [UInt8]) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid].lexicographicallyPrecedes(key) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func get(_ key: [UInt8]) -> [UInt8]? {
        let i = lowerBound(key)
        return i < keys.count && keys[i] == key ? values[i] : nil
    }

    mutating func put(_ key: [UInt8], _ value: [UInt8]) {
        let i = lowerBound(key)
        if i < keys.count && keys[i] == key {
            values[i] = value
        } else {
            keys.insert(key, at: i)
            values.insert(value, at: i)
        }
    }

    mutating func delete(_ key: [UInt8]) {
        let i = lowerBound(key)
        if i < keys.count && keys[i] == key {
            keys.remove(at: i)
            values.remove(at: i)
        }
    }

    mutating func deleteRange(from: [UInt8], to: [UInt8]) {
        let a = lowerBound(from), b = max(a, lowerBound(to))
        keys.removeSubrange(a..<b)
        values.removeSubrange(a..<b)
    }

    func scan(_ range: KeyRange, reverse: Bool, limit: Int?,
              _ body: ([UInt8], [UInt8]) throws -> Bool) rethrows {
        let a = lowerBound(range.lower)
        let b = range.upper.map { max(a, lowerBound($0)) } ?? keys.count
        var n = 0
        if reverse {
            var i = b - 1
            while i >= a {
                if let limit, n >= limit { return }
                guard try body(keys[i], values[i]) else { return }
                n += 1
                i -= 1
            }
        } else {
            for i in a..<b {
                if let limit, n >= limit { return }
                guard try body(keys[i], values[i]) else { return }
                n += 1
            }
        }
    }
}
