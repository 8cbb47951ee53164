import NIOCore
import StalCore
import StalDeterminism
import StalRaft
import Testing
@testable import StalClusterTransport

@Suite struct ClusterFrameCodecTests {
    static let everyField = RaftGroupMessage(group: 7, message: RaftMessage(
        kind: .append, from: 1, to: 2, term: 9, logTerm: 8, index: 100,
        entries: [LogEntry(index: 101, term: 9, data: [1, 2, 3]), LogEntry(index: 102, term: 9, kind: .confChange, data: ConfChange(.addVoter, 4).encoded())],
        commit: 99, reject: true, rejectHint: 55,
        snapshot: Snapshot(metadata: SnapshotMetadata(index: 90, term: 7, confState: ConfState(voters: [1, 2, 3], learners: [4])), data: [9, 9]),
        context: [0xAB, 0xCD], leaseTick: 12345, leaderTransfer: true))

    static let frames: [ClusterFrame] = [
        .hello(node: 3),
        .messages([everyField, RaftGroupMessage(group: 1, message: RaftMessage(kind: .requestVoteResponse, from: 1, to: 2, term: 3))]),
        .messages([]),
        .heartbeats(from: 1, to: 2, [
            CoalescedHeartbeat(group: 1, isResponse: false, term: 4, commit: 10, leaseTick: 77, context: []),
            CoalescedHeartbeat(group: 2, isResponse: true, term: 5, commit: 0, leaseTick: 78, context: [1, 2, 3, 4]),
        ]),
        .snapshotChunk(SnapshotChunk(transfer: 5, group: 7, totalBytes: 10, offset: 4, bytes: [1, 2, 3])),
        .snapshotAck(transfer: 5, delivered: true),
        .snapshotAck(transfer: 6, delivered: false),
        .request(id: 11, payload: Array("propose".utf8)),
        .response(id: 11, .success([4, 5])),
        .response(id: 12, .failure(StalError(.notLeader, "leader is 3"))),
    ]

    @Test(arguments: frames) func roundTrip(_ frame: ClusterFrame) throws {
        var buffer = ClusterFrameCodec.encode(frame)
        let decoded = try ClusterFrameCodec.decode(&buffer, limits: ClusterFrameLimits())
        #expect(decoded == frame)
        #expect(buffer.readableBytes == 0)
    }

    @Test func dripFedFramesDecodeOnlyWhenComplete() throws {
        var wire = ByteBuffer()
        for f in Self.frames { ClusterFrameCodec.encode(f, into: &wire) }
        let bytes = wire.readableBytesView
        var buffer = ByteBuffer()
        var decoded: [ClusterFrame] = []
        for byte in bytes {
            buffer.writeInteger(byte)
            let before = buffer.readerIndex
            if let f = try ClusterFrameCodec.decode(&buffer, limits: ClusterFrameLimits()) {
                decoded.append(f)
            } else {
                #expect(buffer.readerIndex == before)
            }
        }
        #expect(decoded == Self.frames)
    }

    @Test func heartbeatsCoalesceWithoutLosingFields() {
        let beat = RaftGroupMessage(group: 3, message: RaftMessage(kind: .heartbeat, from: 1, to: 2, term: 6, commit: 40,
                                                                     context: [7], leaseTick: 900))
        #expect(CoalescedHeartbeat.isCoalescable(beat.message))
        #expect(CoalescedHeartbeat(beat).message(from: 1, to: 2) == beat)
        var odd = beat
        odd.message.index = 1
        #expect(!CoalescedHeartbeat.isCoalescable(odd.message))
    }

    @Test func snapshotMessageRoundTripsThroughItsSliceEncoding() throws {
        let m = Self.everyField
        #expect(try ClusterFrameCodec.decodeSnapshotMessage(ClusterFrameCodec.encodeSnapshotMessage(m)) == m)
        #expect(throws: ClusterFrameError.self) {
            try ClusterFrameCodec.decodeSnapshotMessage(ClusterFrameCodec.encodeSnapshotMessage(m) + [0])
        }
    }

    @Test func oversizedFrameIsRefusedFromItsHeaderAlone() {
        var buffer = ByteBuffer(bytes: [ClusterFrameCodec.version, 2, 0x10, 0, 0, 0])
        #expect(throws: ClusterFrameError.self) {
            try ClusterFrameCodec.decode(&buffer, limits: ClusterFrameLimits(frameBytesMax: 1 << 20))
        }
    }

    @Test func truncatedPayloadIsRefused() throws {
        // A messages frame whose header covers only part of its one message.
        var full = ClusterFrameCodec.encode(.messages([Self.everyField]))
        let bytes = full.readBytes(length: full.readableBytes)!
        var cut = Array(bytes.prefix(40))
        let length = UInt32(cut.count - ClusterFrameCodec.headerBytes)
        cut[2] = UInt8(length >> 24); cut[3] = UInt8(length >> 16 & 0xFF); cut[4] = UInt8(length >> 8 & 0xFF); cut[5] = UInt8(length & 0xFF)
        var buffer = ByteBuffer(bytes: cut)
        #expect(throws: ClusterFrameError.self) { try ClusterFrameCodec.decode(&buffer, limits: ClusterFrameLimits()) }
    }

    @Test func trailingBytesAreRefused() {
        var frame = Array(ClusterFrameCodec.encode(.hello(node: 1)).readableBytesView)
        frame.append(0)
        frame[5] += 1
        var buffer = ByteBuffer(bytes: frame)
        #expect(throws: ClusterFrameError.self) { try ClusterFrameCodec.decode(&buffer, limits: ClusterFrameLimits()) }
    }

    @Test func hugeCountsAreRefusedBeforeAllocating() {
        // messages frame: count 0xFFFFFFFF with 4 bytes of payload.
        var buffer = ByteBuffer(bytes: [ClusterFrameCodec.version, 2, 0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: ClusterFrameError.self) { try ClusterFrameCodec.decode(&buffer, limits: ClusterFrameLimits()) }
        // request frame: a 4 GiB byte string announced in a 12-byte payload.
        var request = ByteBuffer(bytes: [ClusterFrameCodec.version, 6, 0, 0, 0, 12] + [UInt8](repeating: 0, count: 8) + [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: ClusterFrameError.self) { try ClusterFrameCodec.decode(&request, limits: ClusterFrameLimits()) }
    }

    @Test func snapshotBeyondTheLimitIsRefused() {
        var buffer = ClusterFrameCodec.encode(.snapshotChunk(SnapshotChunk(transfer: 1, group: 1, totalBytes: 1 << 40, offset: 0, bytes: [1])))
        #expect(throws: ClusterFrameError.self) { try ClusterFrameCodec.decode(&buffer, limits: ClusterFrameLimits()) }
        var beyond = ClusterFrameCodec.encode(.snapshotChunk(SnapshotChunk(transfer: 1, group: 1, totalBytes: 4, offset: 3, bytes: [1, 2])))
        #expect(throws: ClusterFrameError.self) { try ClusterFrameCodec.decode(&beyond, limits: ClusterFrameLimits()) }
    }

    @Test func garbageIsRefused() {
        var random = SeededRandom(seed: 42)
        var refused = 0
        for _ in 0..<2000 {
            var buffer = ByteBuffer(bytes: random.bytes(random.next(in: 6...64)))
            buffer.setInteger(UInt8(random.next(in: 2...255)), at: 0)
            do {
                _ = try ClusterFrameCodec.decode(&buffer, limits: ClusterFrameLimits())
            } catch {
                refused += 1
            }
        }
        // Every frame has a wrong version byte.
        #expect(refused == 2000)
        var unknownType = ByteBuffer(bytes: [ClusterFrameCodec.version, 99, 0, 0, 0, 0])
        #expect(throws: ClusterFrameError.self) { try ClusterFrameCodec.decode(&unknownType, limits: ClusterFrameLimits()) }
        var badKind = ClusterFrameCodec.encode(.messages([Self.everyField]))
        badKind.setInteger(UInt8(200), at: ClusterFrameCodec.headerBytes + 4 + 8)
        #expect(throws: ClusterFrameError.self) { try ClusterFrameCodec.decode(&badKind, limits: ClusterFrameLimits()) }
    }
}
