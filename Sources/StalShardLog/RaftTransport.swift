import StalRaft

/// How a node's Raft driver reaches the other nodes of the cluster. Replica ids are node
/// ids: a node is the same `RaftNodeID` in every group it hosts. `StalClusterTransport`
/// implements it over TCP+TLS; `InProcessRaftTransport` (tests) over function calls.
public protocol RaftTransport: AnyObject, Sendable {
    /// Starts delivering inbound traffic to `receiver`. Called once, before any `send`.
    func start(_ receiver: any RaftTransportReceiver) throws
    /// Queues each message for the node `message.message.to`. Never blocks and never
    /// throws: a message that cannot be queued (unknown node, that peer's queue full) is
    /// dropped, because Raft retransmits, and the peer is reported through
    /// `RaftTransportReceiver.unreachable`. Messages to one peer keep their order.
    func send(_ messages: [RaftGroupMessage])
    /// One request/response exchange with a peer (a proposal forwarded to the leader, a
    /// read). Throws `StalError(.unavailable)` when the peer cannot be reached in `timeout`.
    func request(to node: RaftNodeID, _ payload: [UInt8], timeout: Duration) async throws -> [UInt8]
    /// Closes connections; after it returns nothing more reaches the receiver.
    func shutdown() async
}

public protocol RaftTransportReceiver: Sendable {
    /// Messages from one peer, in the order that peer sent them.
    func received(_ messages: [RaftGroupMessage])
    /// Messages to `node` were dropped or its connection failed.
    func unreachable(_ node: RaftNodeID)
    /// A snapshot message to `node` for `group` was fully delivered, or was abandoned.
    func snapshotStatus(group: UInt64, to node: RaftNodeID, delivered: Bool)
    /// Serves a peer's `request`; the returned bytes are its response.
    func handleRequest(_ payload: [UInt8], from node: RaftNodeID) async throws -> [UInt8]
}
