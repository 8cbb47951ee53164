import StalCore

/// How a blob's stored bytes are cut into stripes and cells. A full stripe holds
/// `stripeBytes` of data as k cells of `stripeBytes / k`; the last stripe is shorter, its
/// cells `ceil(rest / k)` long with zero padding. Shard i is the concatenation of cell i of
/// every stripe, so shard offsets follow from the stripe number alone.
public struct StripeLayout: Hashable, Sendable {
    public static let stripeBytesMin = 4096
    public static let stripeBytesMax = 64 << 20
    public static let defaultStripeBytes = 1 << 20

    public let scheme: ErasureScheme
    /// Data bytes in a full stripe; a multiple of 64·k so cells stay SIMD-aligned.
    public let stripeBytes: Int
    /// Length of the bytes being coded (after compression).
    public let contentLength: Int

    public init(scheme: ErasureScheme, stripeBytes: Int, contentLength: Int) throws(StalError) {
        guard (Self.stripeBytesMin...Self.stripeBytesMax).contains(stripeBytes) else {
            throw StalError(.invalidArgument, "stripe of \(stripeBytes) bytes outside \(Self.stripeBytesMin)...\(Self.stripeBytesMax)")
        }
        guard stripeBytes % (64 * scheme.dataShards) == 0 else {
            throw StalError(.invalidArgument, "stripe of \(stripeBytes) bytes is not a multiple of 64·k for \(scheme)")
        }
        guard contentLength >= 0 else { throw StalError(.invalidArgument, "negative content length") }
        self.scheme = scheme
        self.stripeBytes = stripeBytes
        self.contentLength = contentLength
    }

    /// Rounds a requested stripe size to the nearest allowed one for `scheme`.
    public static func alignedStripeBytes(_ requested: Int, scheme: ErasureScheme) -> Int {
        let unit = 64 * scheme.dataShards
        let rounded = max(unit, (requested + unit / 2) / unit * unit)
        let lowest = (stripeBytesMin + unit - 1) / unit * unit
        return min(max(rounded, lowest), stripeBytesMax / unit * unit)
    }

    public var fullCellBytes: Int { stripeBytes / scheme.dataShards }

    public var stripeCount: Int { (contentLength + stripeBytes - 1) / stripeBytes }

    /// Data bytes carried by stripe `s` (before padding).
    public func dataBytes(inStripe s: Int) -> Int {
        min(stripeBytes, contentLength - s * stripeBytes)
    }

    public func cellLength(stripe s: Int) -> Int {
        let data = dataBytes(inStripe: s)
        return data == stripeBytes ? fullCellBytes : (data + scheme.dataShards - 1) / scheme.dataShards
    }

    /// Where stripe `s`'s cell starts inside every shard's payload.
    public func cellOffset(stripe s: Int) -> Int { s * fullCellBytes }

    /// Payload bytes of every shard (all shards of a blob are the same length).
    public var shardPayloadBytes: Int {
        stripeCount == 0 ? 0 : cellOffset(stripe: stripeCount - 1) + cellLength(stripe: stripeCount - 1)
    }

    /// The content bytes held by data cell `dataIndex` of stripe `s`; shorter than the cell
    /// (possibly empty) at the end of the blob.
    public func contentRange(stripe s: Int, dataIndex: Int) -> Range<Int> {
        let start = s * stripeBytes + dataIndex * cellLength(stripe: s)
        let end = min(start + cellLength(stripe: s), s * stripeBytes + dataBytes(inStripe: s))
        return min(start, end)..<end
    }

    /// One piece of a content range: which data cell holds it and where inside that cell.
    public struct CellSlice: Hashable, Sendable {
        public var stripe: Int
        public var dataIndex: Int
        public var rangeInCell: Range<Int>
        public var rangeInContent: Range<Int>
    }

    /// The data cells that hold `range` of the content, in content order.
    public func slices(covering range: Range<Int>) -> [CellSlice] {
        let lower = min(max(0, range.lowerBound), contentLength)
        let clamped = lower..<min(contentLength, max(range.upperBound, lower))
        guard !clamped.isEmpty else { return [] }
        var result: [CellSlice] = []
        var position = clamped.lowerBound
        while position < clamped.upperBound {
            let s = position / stripeBytes
            let cell = cellLength(stripe: s)
            let within = position - s * stripeBytes
            let dataIndex = within / cell
            let cellStart = s * stripeBytes + dataIndex * cell
            let end = min(clamped.upperBound, cellStart + cell)
            result.append(CellSlice(stripe: s, dataIndex: dataIndex,
                                    rangeInCell: (position - cellStart)..<(end - cellStart),
                                    rangeInContent: position..<end))
            position = end
        }
        return result
    }
}
