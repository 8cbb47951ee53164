import StalCore
import StalDeterminism
import StalIMAPCore

/// ENVELOPE, BODY and BODYSTRUCTURE of recently fetched messages, keyed by blob (blobs are
/// immutable, so entries never go stale). Shared by all sessions of a node; bounded by
/// octets, evicting the oldest entries first. Saves reading, decompressing and parsing a
/// message when a client lists a mailbox again.
public final class IMAPStructureCache: Sendable {
    private final class Storage: @unchecked Sendable {
        var entries: [BlobID: IMAPMessageStructure] = [:]
        var order: [BlobID] = []
        var orderStart = 0
        var octets = 0
    }

    public let octetsMax: Int
    private let lock = Mutex()
    private let storage = Storage()

    public init(octetsMax: Int = 64 * 1024 * 1024) {
        self.octetsMax = octetsMax
    }

    public func structure(for blob: BlobID) -> IMAPMessageStructure? {
        lock.withLock { storage.entries[blob] }
    }

    public func insert(_ structure: IMAPMessageStructure, for blob: BlobID) {
        let size = structure.octets + 64
        guard size <= octetsMax else { return }
        lock.withLock {
            let s = storage
            guard s.entries[blob] == nil else { return }
            s.entries[blob] = structure
            s.order.append(blob)
            s.octets += size
            while s.octets > octetsMax, s.orderStart < s.order.count {
                let victim = s.order[s.orderStart]
                s.orderStart += 1
                if let removed = s.entries.removeValue(forKey: victim) { s.octets -= removed.octets + 64 }
            }
            if s.orderStart > 1024 && s.orderStart * 2 > s.order.count {
                s.order.removeFirst(s.orderStart)
                s.orderStart = 0
            }
        }
    }

    public var count: Int { lock.withLock { storage.entries.count } }
}
