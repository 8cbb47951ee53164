import StalCore

/// A Reed–Solomon layout: `dataShards` (k) carry the bytes, `parityShards` (m) let any m of
/// the k+m shards be lost. k=1, m=0 is a plain single copy.
public struct ErasureScheme: Hashable, Sendable, CustomStringConvertible {
    public static let dataShardsMax = 16
    public static let parityShardsMax = 8

    public let dataShards: Int
    public let parityShards: Int

    public init(dataShards: Int, parityShards: Int) throws(StalError) {
        guard (1...Self.dataShardsMax).contains(dataShards) else {
            throw StalError(.invalidArgument, "erasure scheme: k=\(dataShards) outside 1...\(Self.dataShardsMax)")
        }
        guard (0...Self.parityShardsMax).contains(parityShards) else {
            throw StalError(.invalidArgument, "erasure scheme: m=\(parityShards) outside 0...\(Self.parityShardsMax)")
        }
        self.dataShards = dataShards
        self.parityShards = parityShards
    }

    /// One copy, no parity: the embedded single-location default.
    public static let single = try! ErasureScheme(dataShards: 1, parityShards: 0)

    public var totalShards: Int { dataShards + parityShards }

    public var description: String { "\(dataShards)+\(parityShards)" }
}
