import StalCore
import StalDeterminism
import StalStorage

/// Wakes IMAP IDLE and JMAP push: after every committed command touching an account, each
/// subscriber of that account receives the account's highest modseq. Streams keep only the
/// newest value, so a slow reader never makes the writer buffer.
public final class ChangeNotifier: Sendable {
    private final class Subscribers: @unchecked Sendable {
        var next = 0
        var byAccount: [AccountID: [Int: AsyncStream<ModSeq>.Continuation]] = [:]
    }

    private let lock = Mutex()
    private let subscribers = Subscribers()
    private let engine: any KVEngine

    public init(engine: any KVEngine) {
        self.engine = engine
    }

    public func stream(for account: AccountID) -> AsyncStream<ModSeq> {
        let (stream, continuation) = AsyncStream<ModSeq>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = lock.withLock { () -> Int in
            subscribers.next += 1
            subscribers.byAccount[account, default: [:]][subscribers.next] = continuation
            return subscribers.next
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.lock.withLock {
                self.subscribers.byAccount[account]?[id] = nil
                if self.subscribers.byAccount[account]?.isEmpty == true { self.subscribers.byAccount[account] = nil }
            }
        }
        return stream
    }

    func accountChanged(_ account: AccountID) {
        let targets = lock.withLock { subscribers.byAccount[account].map { Array($0.values) } ?? [] }
        guard !targets.isEmpty,
              let bytes = try? engine.get(.state, Keys.account(account)),
              let record = try? AccountRecord(decoding: bytes)
        else { return }
        for t in targets { t.yield(record.modSeq) }
    }
}
