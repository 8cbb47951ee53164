import StalCore
import StalStorage

public struct UIDPair: Hashable, Sendable {
    public var source: UInt32
    public var destination: UInt32
    public init(source: UInt32, destination: UInt32) {
        self.source = source
        self.destination = destination
    }
}

/// Where one delivered copy landed.
public struct AppendedEmail: Hashable, Sendable {
    public var account: AccountID
    public var mailbox: MailboxID
    public var emailID: EmailID
    public var uid: UInt32
    public var uidValidity: UInt32
    public var modSeq: ModSeq

    public init(account: AccountID, mailbox: MailboxID, emailID: EmailID, uid: UInt32, uidValidity: UInt32, modSeq: ModSeq) {
        self.account = account
        self.mailbox = mailbox
        self.emailID = emailID
        self.uid = uid
        self.uidValidity = uidValidity
        self.modSeq = modSeq
    }
}

/// What applying a command produced. Results are returned to the proposer only; they are
/// not persisted (a replica that replays the log recomputes them).
public enum CommandResult: Hashable, Sendable {
    case done
    /// Apply rejected the command; it is still in the log and had no effect.
    case failed(StalError)
    case mailboxCreated(MailboxID)
    /// Per delivery entry, in order.
    case delivered([Result<AppendedEmail, StalError>])
    case keywordsStored(changed: [UInt32], failed: [UInt32], modSeq: ModSeq)
    case copied(uidValidity: UInt32, mapping: [UIDPair], modSeq: ModSeq)
    case expunged(uids: [UInt32], modSeq: ModSeq)
    case blobsCollected([BlobID])
}

/// The one write path: a command returns only after it is durable and applied.
public protocol ShardLog: Sendable {
    func propose(_ command: ShardCommand) async throws -> CommandResult
    /// Returns once the local state includes every write acknowledged before the call.
    func linearizableRead() async throws
}

/// Deterministic apply logic plugged into a shard log. `apply` reads and writes only
/// through `state` (which already holds the effects of earlier commands of the same
/// group) and must not read clocks, randomness or anything outside the command and state.
public protocol ShardStateMachine: Sendable {
    func apply(_ command: ShardCommand, index: UInt64, state: StagedWrites) throws -> CommandResult
    /// Called in log order for each applied command after the whole group is applied and
    /// before its batch is written, i.e. before any reader can see the effects. For side
    /// effects that must precede visibility (deleting collected blob files); runs on the
    /// log's writer thread.
    func willCommit(_ command: ShardCommand, result: CommandResult)
    /// Called in log order after the entry and its effects are durable.
    func committed(_ command: ShardCommand, result: CommandResult)
    /// The column families this shard owns wholly on its node: its replicated state, which
    /// a snapshot image captures and an installed snapshot replaces (docs/raft.md).
    var stateFamilies: [ColumnFamily] { get }
}

extension ShardStateMachine {
    public func willCommit(_ command: ShardCommand, result: CommandResult) {}
}
