import StalCore
import StalRaft
import StalStorage

/// One shard's log: a Raft group on the node's `RaftNodeDriver`. A proposal made on a
/// follower is forwarded to the leader, which proposes it and returns the result.
public final class RaftShardLog: ShardLog, Sendable {
    public let shard: UInt64
    let driver: RaftNodeDriver

    init(shard: UInt64, driver: RaftNodeDriver) {
        self.shard = shard
        self.driver = driver
    }

    public var status: RaftGroupStatus {
        driver.status(of: shard) ?? RaftGroupStatus(shard: shard, role: .follower, leader: raftNoNode, term: 0, commit: 0, applied: 0)
    }

    public func propose(_ command: ShardCommand) async throws -> CommandResult {
        let data = command.encode()
        let deadline = ContinuousClock.now + driver.options.leaderWait
        while true {
            do {
                return try await driver.proposeLocally(group: shard, data: data)
            } catch let notLeader as NotLeader {
                if let leader = notLeader.leader, leader != driver.nodeID, let transport = driver.transport {
                    let response = try await transport.request(to: leader, ForwardedRequest.propose(group: shard, command: data).encode(),
                                                               timeout: driver.options.forwardTimeout)
                    return try ForwardedRequest.decodeResponse(response)
                }
                try await waitForLeader(until: deadline)
            }
        }
    }

    /// Returns once this replica's applied state includes every write acknowledged before
    /// the call (ReadIndex, Raft thesis §6.4; a follower asks the leader for the index).
    public func linearizableRead() async throws {
        let deadline = ContinuousClock.now + driver.options.leaderWait
        while true {
            do {
                return try await driver.readLocally(group: shard)
            } catch is NotLeader {
                try await waitForLeader(until: deadline)
            }
        }
    }

    private func waitForLeader(until deadline: ContinuousClock.Instant) async throws {
        guard ContinuousClock.now < deadline else { throw StalError(.unavailable, "shard \(shard) has no leader") }
        try await Task.sleep(for: driver.options.tickInterval)
    }
}

/// A request one driver sends another through `RaftTransport.request`.
enum ForwardedRequest {
    case propose(group: UInt64, command: [UInt8])

    static let version: UInt8 = 1
    private static let proposeTag: UInt8 = 1

    func encode() -> [UInt8] {
        switch self {
        case let .propose(group, command):
            var w = ByteWriter(capacity: command.count + 16)
            w.u8(Self.version); w.u8(Self.proposeTag); w.u64(group); w.lengthPrefixed(command)
            return w.bytes
        }
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard try r.u8() == Self.version, try r.u8() == Self.proposeTag else {
            throw StalError(.invalidArgument, "unknown forwarded request")
        }
        let group = try r.u64()
        self = .propose(group: group, command: try r.lengthPrefixed(max: 1 << 24))
        try r.expectEnd()
    }

    /// The leader's answer: 0 and the encoded result, or 1 and the error.
    static func response(_ outcome: Result<CommandResult, StalError>) -> [UInt8] {
        switch outcome {
        case let .success(result):
            return [0] + result.encode()
        case let .failure(error):
            var w = ByteWriter()
            w.u8(1)
            CommandResult.encode(error, &w)
            return w.bytes
        }
    }

    static func decodeResponse(_ bytes: [UInt8]) throws -> CommandResult {
        guard let first = bytes.first else { throw StalError(.corrupted, "empty forwarded response") }
        if first == 0 { return try CommandResult(decoding: Array(bytes.dropFirst())) }
        var r = ByteReader(bytes, offset: 1)
        throw try CommandResult.decodeError(&r)
    }
}
