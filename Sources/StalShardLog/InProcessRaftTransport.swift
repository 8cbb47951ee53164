import StalCore
import StalDeterminism
import StalRaft

/// A `RaftTransport` between drivers in one process, for tests: `send` hands each peer's
/// messages to its receiver at once (in order), `request` calls the peer's handler. The
/// shared `InProcessRaftNetwork` can cut a node off to model a crash or a partition.
public final class InProcessRaftTransport: RaftTransport, @unchecked Sendable {
    public let node: RaftNodeID
    private let network: InProcessRaftNetwork
    private let lock = Mutex()
    private var receiver: (any RaftTransportReceiver)?

    public init(node: RaftNodeID, network: InProcessRaftNetwork) {
        self.node = node
        self.network = network
    }

    public func start(_ receiver: any RaftTransportReceiver) throws {
        lock.withLock { self.receiver = receiver }
        network.attach(node, receiver)
    }

    public func send(_ messages: [RaftGroupMessage]) {
        guard let own = lock.withLock({ receiver }) else { return }
        var start = 0
        while start < messages.count {
            let peer = messages[start].message.to
            var end = start
            while end < messages.count && messages[end].message.to == peer { end += 1 }
            let run = Array(messages[start..<end])
            if let target = network.receiver(of: peer, from: node) {
                target.received(run)
                for m in run where m.message.kind == .snapshot { own.snapshotStatus(group: m.group, to: peer, delivered: true) }
            } else {
                own.unreachable(peer)
                for m in run where m.message.kind == .snapshot { own.snapshotStatus(group: m.group, to: peer, delivered: false) }
            }
            start = end
        }
    }

    public func request(to node: RaftNodeID, _ payload: [UInt8], timeout: Duration) async throws -> [UInt8] {
        guard let target = network.receiver(of: node, from: self.node) else {
            throw StalError(.unavailable, "node \(node) is unreachable")
        }
        // The handler is raced against the timeout rather than awaited in a task group, which
        // would wait for a handler that never returns.
        let answer = FirstResult<[UInt8]>()
        let me = self.node
        return try await withCheckedThrowingContinuation { continuation in
            answer.continuation = continuation
            Task {
                do {
                    answer.resume(.success(try await target.handleRequest(payload, from: me)))
                } catch {
                    answer.resume(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                answer.resume(.failure(StalError(.unavailable, "request to node \(node) timed out after \(timeout)")))
            }
        }
    }

    public func shutdown() async {
        lock.withLock { receiver = nil }
        network.detach(node)
    }
}

/// The nodes of an in-process cluster and which of them are cut off.
public final class InProcessRaftNetwork: @unchecked Sendable {
    private let lock = Mutex()
    private var receivers: [RaftNodeID: any RaftTransportReceiver] = [:]
    private var isolated: Set<RaftNodeID> = []

    public init() {}

    func attach(_ node: RaftNodeID, _ receiver: any RaftTransportReceiver) {
        lock.withLock { receivers[node] = receiver }
    }

    func detach(_ node: RaftNodeID) {
        lock.withLock { receivers[node] = nil }
    }

    /// Drops all traffic to and from `node` until `heal`.
    public func isolate(_ node: RaftNodeID) {
        lock.withLock { _ = isolated.insert(node) }
    }

    public func heal(_ node: RaftNodeID) {
        lock.withLock { _ = isolated.remove(node) }
    }

    func receiver(of node: RaftNodeID, from sender: RaftNodeID) -> (any RaftTransportReceiver)? {
        lock.withLock {
            guard !isolated.contains(node), !isolated.contains(sender) else { return nil }
            return receivers[node]
        }
    }
}

/// Resumes its continuation with whichever result comes first; later ones are dropped.
private final class FirstResult<Value: Sendable>: @unchecked Sendable {
    private let lock = Mutex()
    private var pending: CheckedContinuation<Value, any Error>?

    var continuation: CheckedContinuation<Value, any Error>? {
        get { lock.withLock { pending } }
        set { lock.withLock { pending = newValue } }
    }

    func resume(_ result: Result<Value, any Error>) {
        let waiting = lock.withLock { () -> CheckedContinuation<Value, any Error>? in
            defer { pending = nil }
            return pending
        }
        waiting?.resume(with: result)
    }
}
