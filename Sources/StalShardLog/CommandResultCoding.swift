import StalCore
import StalStorage

/// The binary form of a `CommandResult`, for proposals forwarded to the leader: the leader
/// applies the command and returns this to the replica that received it.
extension CommandResult {
    static let encodingVersion: UInt8 = 1

    private enum Tag: UInt8 {
        case done = 1, failed, mailboxCreated, delivered, keywordsStored, copied, expunged, blobsCollected
    }

    public func encode() -> [UInt8] {
        var w = ByteWriter(capacity: 32)
        w.u8(Self.encodingVersion)
        switch self {
        case .done:
            w.u8(Tag.done.rawValue)
        case let .failed(error):
            w.u8(Tag.failed.rawValue)
            Self.encode(error, &w)
        case let .mailboxCreated(id):
            w.u8(Tag.mailboxCreated.rawValue); w.u64(id.rawValue)
        case let .delivered(results):
            w.u8(Tag.delivered.rawValue)
            w.u32(UInt32(results.count))
            for r in results {
                switch r {
                case let .success(a):
                    w.u8(1)
                    w.u64(a.account.rawValue); w.u64(a.mailbox.rawValue); w.u64(a.emailID.rawValue)
                    w.u32(a.uid); w.u32(a.uidValidity); w.u64(a.modSeq.rawValue)
                case let .failure(error):
                    w.u8(0)
                    Self.encode(error, &w)
                }
            }
        case let .keywordsStored(changed, failed, modSeq):
            w.u8(Tag.keywordsStored.rawValue)
            ShardCommand.encode(uids: changed, &w); ShardCommand.encode(uids: failed, &w); w.u64(modSeq.rawValue)
        case let .copied(uidValidity, mapping, modSeq):
            w.u8(Tag.copied.rawValue)
            w.u32(uidValidity)
            w.u32(UInt32(mapping.count))
            for m in mapping { w.u32(m.source); w.u32(m.destination) }
            w.u64(modSeq.rawValue)
        case let .expunged(uids, modSeq):
            w.u8(Tag.expunged.rawValue)
            ShardCommand.encode(uids: uids, &w); w.u64(modSeq.rawValue)
        case let .blobsCollected(blobs):
            w.u8(Tag.blobsCollected.rawValue)
            w.u32(UInt32(blobs.count))
            for b in blobs { w.raw(b.digest) }
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        let version = try r.u8()
        guard version == Self.encodingVersion else { throw StalError(.corrupted, "command result version \(version)") }
        guard let tag = Tag(rawValue: try r.u8()) else { throw StalError(.corrupted, "command result tag") }
        switch tag {
        case .done:
            self = .done
        case .failed:
            self = .failed(try Self.decodeError(&r))
        case .mailboxCreated:
            self = .mailboxCreated(MailboxID(rawValue: try r.u64()))
        case .delivered:
            let n = try r.count(minElementBytes: 1)
            var results: [Result<AppendedEmail, StalError>] = []
            for _ in 0..<n {
                if try r.bool() {
                    let account = AccountID(rawValue: try r.u64()), mailbox = MailboxID(rawValue: try r.u64())
                    let email = EmailID(rawValue: try r.u64())
                    let uid = try r.u32(), validity = try r.u32()
                    results.append(.success(AppendedEmail(account: account, mailbox: mailbox, emailID: email, uid: uid,
                                                          uidValidity: validity, modSeq: ModSeq(rawValue: try r.u64()))))
                } else {
                    results.append(.failure(try Self.decodeError(&r)))
                }
            }
            self = .delivered(results)
        case .keywordsStored:
            let changed = try ShardCommand.decodeUIDs(&r), failed = try ShardCommand.decodeUIDs(&r)
            self = .keywordsStored(changed: changed, failed: failed, modSeq: ModSeq(rawValue: try r.u64()))
        case .copied:
            let validity = try r.u32()
            let n = try r.count(minElementBytes: 8)
            var mapping: [UIDPair] = []
            for _ in 0..<n { mapping.append(UIDPair(source: try r.u32(), destination: try r.u32())) }
            self = .copied(uidValidity: validity, mapping: mapping, modSeq: ModSeq(rawValue: try r.u64()))
        case .expunged:
            let uids = try ShardCommand.decodeUIDs(&r)
            self = .expunged(uids: uids, modSeq: ModSeq(rawValue: try r.u64()))
        case .blobsCollected:
            let n = try r.count(minElementBytes: 32)
            var blobs: [BlobID] = []
            for _ in 0..<n {
                guard let id = BlobID(digest: try r.raw(32)) else { throw StalError(.corrupted, "blob id") }
                blobs.append(id)
            }
            self = .blobsCollected(blobs)
        }
        try r.expectEnd()
    }

    static func encode(_ error: StalError, _ w: inout ByteWriter) {
        w.string(error.kind.rawValue)
        w.string(error.context)
    }

    static func decodeError(_ r: inout ByteReader) throws -> StalError {
        let name = try r.string(max: 64)
        guard let kind = StalError.Kind(rawValue: name) else { throw StalError(.corrupted, "error kind \(name)") }
        return StalError(kind, try r.string())
    }
}
