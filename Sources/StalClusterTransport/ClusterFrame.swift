import NIOCore
import StalCore
import StalRaft

/// One unit on a cluster connection. Every frame is `version:1 type:1 length:4` (big-endian)
/// followed by `length` bytes of payload; the decoder checks the version, the type and the
/// length against `ClusterFrameLimits` before it waits for (or buffers) the payload.
public enum ClusterFrame: Hashable, Sendable {
    /// First frame of every outbound connection: who is dialling.
    case hello(node: RaftNodeID)
    /// Raft messages in send order.
    case messages([RaftGroupMessage])
    /// Heartbeats and heartbeat responses of many groups between the same two nodes.
    case heartbeats(from: RaftNodeID, to: RaftNodeID, [CoalescedHeartbeat])
    /// A slice of one encoded snapshot message (see `SnapshotChunk`).
    case snapshotChunk(SnapshotChunk)
    /// The receiver reassembled (or gave up on) snapshot transfer `transfer`.
    case snapshotAck(transfer: UInt64, delivered: Bool)
    case request(id: UInt64, payload: [UInt8])
    case response(id: UInt64, RequestOutcome)

    public enum RequestOutcome: Hashable, Sendable {
        case success([UInt8])
        case failure(StalError)
    }

    enum FrameType: UInt8 {
        case hello = 1, messages = 2, heartbeats = 3, snapshotChunk = 4, snapshotAck = 5, request = 6, response = 7
    }
}

/// The fields a heartbeat or heartbeat response uses; the others are always at their
/// defaults (`isCoalescable` checks), so coalescing loses nothing.
public struct CoalescedHeartbeat: Hashable, Sendable {
    public var group: UInt64
    public var isResponse: Bool
    public var term: RaftTerm
    public var commit: LogIndex
    public var leaseTick: UInt64
    public var context: [UInt8]

    public init(group: UInt64, isResponse: Bool, term: RaftTerm, commit: LogIndex, leaseTick: UInt64, context: [UInt8]) {
        self.group = group
        self.isResponse = isResponse
        self.term = term
        self.commit = commit
        self.leaseTick = leaseTick
        self.context = context
    }

    public static func isCoalescable(_ m: RaftMessage) -> Bool {
        (m.kind == .heartbeat || m.kind == .heartbeatResponse) && m.logTerm == 0 && m.index == 0 && m.entries.isEmpty
            && !m.reject && m.rejectHint == 0 && m.snapshot == nil && !m.leaderTransfer
    }

    public init(_ m: RaftGroupMessage) {
        self.init(group: m.group, isResponse: m.message.kind == .heartbeatResponse, term: m.message.term,
                  commit: m.message.commit, leaseTick: m.message.leaseTick, context: m.message.context)
    }

    public func message(from: RaftNodeID, to: RaftNodeID) -> RaftGroupMessage {
        RaftGroupMessage(group: group, message: RaftMessage(
            kind: isResponse ? .heartbeatResponse : .heartbeat, from: from, to: to, term: term,
            commit: commit, context: context, leaseTick: leaseTick))
    }
}

/// A snapshot message is encoded once (with its data) and sent in slices; the receiver
/// appends slices in order and decodes the message when `offset + bytes.count == totalBytes`.
public struct SnapshotChunk: Hashable, Sendable {
    public var transfer: UInt64
    public var group: UInt64
    public var totalBytes: UInt64
    public var offset: UInt64
    public var bytes: [UInt8]

    public init(transfer: UInt64, group: UInt64, totalBytes: UInt64, offset: UInt64, bytes: [UInt8]) {
        self.transfer = transfer
        self.group = group
        self.totalBytes = totalBytes
        self.offset = offset
        self.bytes = bytes
    }
}

public struct ClusterFrameLimits: Sendable, Hashable {
    /// Largest payload accepted; checked against the header before the payload is read.
    public var frameBytesMax: Int
    /// Largest encoded snapshot message a receiver reassembles.
    public var snapshotBytesMax: UInt64

    public init(frameBytesMax: Int = 8 << 20, snapshotBytesMax: UInt64 = 1 << 30) {
        self.frameBytesMax = frameBytesMax
        self.snapshotBytesMax = snapshotBytesMax
    }
}

/// Why bytes from a peer were refused; the connection is closed.
public struct ClusterFrameError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "cluster frame: \(reason)" }
}

public enum ClusterFrameCodec {
    public static let version: UInt8 = 1
    public static let headerBytes = 6

    // MARK: encoding

    public static func encode(_ frame: ClusterFrame, into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(version)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(0))
        let type: ClusterFrame.FrameType
        switch frame {
        case .hello(let node):
            type = .hello
            buffer.writeInteger(node)
        case .messages(let messages):
            type = .messages
            buffer.writeInteger(UInt32(messages.count))
            for m in messages { writeMessage(m, into: &buffer) }
        case .heartbeats(let from, let to, let beats):
            type = .heartbeats
            buffer.writeInteger(from)
            buffer.writeInteger(to)
            buffer.writeInteger(UInt32(beats.count))
            for b in beats {
                buffer.writeInteger(b.group)
                buffer.writeInteger(UInt8(b.isResponse ? 1 : 0))
                buffer.writeInteger(b.term)
                buffer.writeInteger(b.commit)
                buffer.writeInteger(b.leaseTick)
                writeBytes(b.context, into: &buffer)
            }
        case .snapshotChunk(let c):
            type = .snapshotChunk
            buffer.writeInteger(c.transfer)
            buffer.writeInteger(c.group)
            buffer.writeInteger(c.totalBytes)
            buffer.writeInteger(c.offset)
            writeBytes(c.bytes, into: &buffer)
        case .snapshotAck(let transfer, let delivered):
            type = .snapshotAck
            buffer.writeInteger(transfer)
            buffer.writeInteger(UInt8(delivered ? 1 : 0))
        case .request(let id, let payload):
            type = .request
            buffer.writeInteger(id)
            writeBytes(payload, into: &buffer)
        case .response(let id, let outcome):
            type = .response
            buffer.writeInteger(id)
            switch outcome {
            case .success(let payload):
                buffer.writeInteger(UInt8(0))
                writeBytes(payload, into: &buffer)
            case .failure(let error):
                buffer.writeInteger(UInt8(1))
                writeBytes(Array(error.kind.rawValue.utf8), into: &buffer)
                writeBytes(Array(error.context.utf8), into: &buffer)
            }
        }
        buffer.setInteger(type.rawValue, at: start + 1)
        buffer.setInteger(UInt32(buffer.writerIndex - start - headerBytes), at: start + 2)
    }

    public static func encode(_ frame: ClusterFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        encode(frame, into: &buffer)
        return buffer
    }

    /// A snapshot-carrying message in the form `SnapshotChunk`s slice.
    public static func encodeSnapshotMessage(_ m: RaftGroupMessage) -> [UInt8] {
        var buffer = ByteBuffer()
        writeMessage(m, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    public static func decodeSnapshotMessage(_ bytes: [UInt8]) throws(ClusterFrameError) -> RaftGroupMessage {
        var buffer = ByteBuffer(bytes: bytes)
        let m = try readMessage(&buffer)
        guard buffer.readableBytes == 0 else { throw ClusterFrameError("\(buffer.readableBytes) bytes after the snapshot message") }
        return m
    }

    static func writeBytes(_ bytes: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
    }

    static func writeMessage(_ g: RaftGroupMessage, into buffer: inout ByteBuffer) {
        let m = g.message
        buffer.writeInteger(g.group)
        buffer.writeInteger(m.kind.rawValue)
        var flags: UInt8 = 0
        if m.reject { flags |= 1 }
        if m.leaderTransfer { flags |= 2 }
        if m.snapshot != nil { flags |= 4 }
        buffer.writeInteger(flags)
        for v in [m.from, m.to, m.term, m.logTerm, m.index, m.commit, m.rejectHint, m.leaseTick] {
            buffer.writeInteger(v)
        }
        writeBytes(m.context, into: &buffer)
        buffer.writeInteger(UInt32(m.entries.count))
        for e in m.entries {
            buffer.writeInteger(e.index)
            buffer.writeInteger(e.term)
            buffer.writeInteger(e.kind.rawValue)
            writeBytes(e.data, into: &buffer)
        }
        if let s = m.snapshot {
            buffer.writeInteger(s.metadata.index)
            buffer.writeInteger(s.metadata.term)
            writeIDs(s.metadata.confState.voters, into: &buffer)
            writeIDs(s.metadata.confState.learners, into: &buffer)
            writeBytes(s.data, into: &buffer)
        }
    }

    static func writeIDs(_ ids: [RaftNodeID], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(ids.count))
        for id in ids { buffer.writeInteger(id) }
    }

    // MARK: decoding

    /// The next complete frame, nil when more bytes are needed (the buffer is then left
    /// untouched), or an error for a frame that can never be valid.
    public static func decode(_ buffer: inout ByteBuffer, limits: ClusterFrameLimits) throws(ClusterFrameError) -> ClusterFrame? {
        guard buffer.readableBytes >= headerBytes else { return nil }
        let start = buffer.readerIndex
        let v: UInt8 = buffer.getInteger(at: start)!
        let rawType: UInt8 = buffer.getInteger(at: start + 1)!
        let length: UInt32 = buffer.getInteger(at: start + 2)!
        guard v == version else { throw ClusterFrameError("unsupported version \(v)") }
        guard let type = ClusterFrame.FrameType(rawValue: rawType) else { throw ClusterFrameError("unknown frame type \(rawType)") }
        guard Int(length) <= limits.frameBytesMax else {
            throw ClusterFrameError("frame of \(length) bytes exceeds the limit of \(limits.frameBytesMax)")
        }
        guard buffer.readableBytes >= headerBytes + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: headerBytes)
        var payload = buffer.readSlice(length: Int(length))!
        let frame = try decodePayload(type, &payload, limits: limits)
        guard payload.readableBytes == 0 else { throw ClusterFrameError("\(payload.readableBytes) trailing bytes in a \(type) frame") }
        return frame
    }

    static func decodePayload(_ type: ClusterFrame.FrameType, _ p: inout ByteBuffer, limits: ClusterFrameLimits)
        throws(ClusterFrameError) -> ClusterFrame {
        switch type {
        case .hello:
            return .hello(node: try u64(&p))
        case .messages:
            // Smallest message: group, kind, flags, eight u64 fields, context length, entry count.
            let count = try count(&p, minimumElementBytes: 8 + 1 + 1 + 64 + 4 + 4)
            var messages: [RaftGroupMessage] = []
            messages.reserveCapacity(count)
            for _ in 0..<count { messages.append(try readMessage(&p)) }
            return .messages(messages)
        case .heartbeats:
            let from = try u64(&p), to = try u64(&p)
            let count = try count(&p, minimumElementBytes: 8 + 1 + 24 + 4)
            var beats: [CoalescedHeartbeat] = []
            beats.reserveCapacity(count)
            for _ in 0..<count {
                let group = try u64(&p)
                let kind = try u8(&p)
                guard kind <= 1 else { throw ClusterFrameError("heartbeat kind \(kind)") }
                let term = try u64(&p), commit = try u64(&p), lease = try u64(&p)
                beats.append(CoalescedHeartbeat(group: group, isResponse: kind == 1, term: term, commit: commit,
                                                leaseTick: lease, context: try bytes(&p)))
            }
            return .heartbeats(from: from, to: to, beats)
        case .snapshotChunk:
            let transfer = try u64(&p), group = try u64(&p), total = try u64(&p), offset = try u64(&p)
            let data = try bytes(&p)
            guard total <= limits.snapshotBytesMax else {
                throw ClusterFrameError("snapshot of \(total) bytes exceeds the limit of \(limits.snapshotBytesMax)")
            }
            guard offset <= total, UInt64(data.count) <= total - offset else {
                throw ClusterFrameError("snapshot chunk \(offset)+\(data.count) beyond its total \(total)")
            }
            return .snapshotChunk(SnapshotChunk(transfer: transfer, group: group, totalBytes: total, offset: offset, bytes: data))
        case .snapshotAck:
            let transfer = try u64(&p)
            let flag = try u8(&p)
            guard flag <= 1 else { throw ClusterFrameError("snapshot ack flag \(flag)") }
            return .snapshotAck(transfer: transfer, delivered: flag == 1)
        case .request:
            return .request(id: try u64(&p), payload: try bytes(&p))
        case .response:
            let id = try u64(&p)
            switch try u8(&p) {
            case 0:
                return .response(id: id, .success(try bytes(&p)))
            case 1:
                let kindText = String(decoding: try bytes(&p), as: UTF8.self)
                let context = String(decoding: try bytes(&p), as: UTF8.self)
                guard let kind = StalError.Kind(rawValue: kindText) else { throw ClusterFrameError("unknown error kind") }
                return .response(id: id, .failure(StalError(kind, context)))
            case let s:
                throw ClusterFrameError("response status \(s)")
            }
        }
    }

    static func readMessage(_ p: inout ByteBuffer) throws(ClusterFrameError) -> RaftGroupMessage {
        let group = try u64(&p)
        let rawKind = try u8(&p)
        guard let kind = RaftMessage.Kind(rawValue: rawKind) else { throw ClusterFrameError("unknown message kind \(rawKind)") }
        let flags = try u8(&p)
        guard flags & ~7 == 0 else { throw ClusterFrameError("unknown message flags \(flags)") }
        let from = try u64(&p), to = try u64(&p), term = try u64(&p), logTerm = try u64(&p)
        let index = try u64(&p), commit = try u64(&p), rejectHint = try u64(&p), leaseTick = try u64(&p)
        let context = try bytes(&p)
        let entryCount = try count(&p, minimumElementBytes: 8 + 8 + 1 + 4)
        var entries: [LogEntry] = []
        entries.reserveCapacity(entryCount)
        for _ in 0..<entryCount {
            let i = try u64(&p), t = try u64(&p)
            let rawEntryKind = try u8(&p)
            guard let entryKind = LogEntry.Kind(rawValue: rawEntryKind) else { throw ClusterFrameError("unknown entry kind \(rawEntryKind)") }
            entries.append(LogEntry(index: i, term: t, kind: entryKind, data: try bytes(&p)))
        }
        var snapshot: Snapshot?
        if flags & 4 != 0 {
            let i = try u64(&p), t = try u64(&p)
            let voters = try ids(&p), learners = try ids(&p)
            snapshot = Snapshot(metadata: SnapshotMetadata(index: i, term: t, confState: ConfState(voters: voters, learners: learners)),
                                data: try bytes(&p))
        }
        return RaftGroupMessage(group: group, message: RaftMessage(
            kind: kind, from: from, to: to, term: term, logTerm: logTerm, index: index, entries: entries, commit: commit,
            reject: flags & 1 != 0, rejectHint: rejectHint, snapshot: snapshot, context: context, leaseTick: leaseTick,
            leaderTransfer: flags & 2 != 0))
    }

    static func u8(_ p: inout ByteBuffer) throws(ClusterFrameError) -> UInt8 {
        guard let v: UInt8 = p.readInteger() else { throw ClusterFrameError("truncated") }
        return v
    }

    static func u64(_ p: inout ByteBuffer) throws(ClusterFrameError) -> UInt64 {
        guard let v: UInt64 = p.readInteger() else { throw ClusterFrameError("truncated") }
        return v
    }

    /// A length-prefixed byte string; the length is checked against what is left before
    /// anything is allocated.
    static func bytes(_ p: inout ByteBuffer) throws(ClusterFrameError) -> [UInt8] {
        guard let n: UInt32 = p.readInteger() else { throw ClusterFrameError("truncated") }
        guard Int(n) <= p.readableBytes else { throw ClusterFrameError("byte string of \(n) bytes with \(p.readableBytes) left") }
        return p.readBytes(length: Int(n))!
    }

    /// An element count, refused when the remaining bytes cannot hold that many elements.
    static func count(_ p: inout ByteBuffer, minimumElementBytes: Int) throws(ClusterFrameError) -> Int {
        guard let n: UInt32 = p.readInteger() else { throw ClusterFrameError("truncated") }
        guard Int(n) <= p.readableBytes / minimumElementBytes else {
            throw ClusterFrameError("count \(n) cannot fit in \(p.readableBytes) bytes")
        }
        return Int(n)
    }

    static func ids(_ p: inout ByteBuffer) throws(ClusterFrameError) -> [RaftNodeID] {
        let n = try count(&p, minimumElementBytes: 8)
        var out: [RaftNodeID] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try u64(&p)) }
        return out
    }
}

/// The codec as a NIO decoder: a bad frame fails the channel, which closes the connection.
struct ClusterFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ClusterFrame
    let limits: ClusterFrameLimits

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try ClusterFrameCodec.decode(&buffer, limits: limits) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
