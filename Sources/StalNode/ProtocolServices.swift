import Logging
import NIOCore
import NIOSSL
import StalDeterminism
import StalDirectory
import StalIMAP
import StalMailStore
import StalSMTP
import StalSMTPCore

/// Builds the per-connection initializer each listener runs: the protocol handlers with their
/// configuration and the services (directory, mail store) they call.
struct ProtocolServices: Sendable {
    let configuration: NodeConfiguration
    let directory: Directory
    let mailStore: MailStore
    let tlsContext: NIOSSLContext
    let clock: any WallClock
    let logger: Logger
    /// One ENVELOPE/BODYSTRUCTURE cache for every IMAP listener of the node.
    let imapStructureCache = IMAPStructureCache()

    func initializer(for kind: NodeConfiguration.ListenerKind) -> @Sendable (Channel) -> EventLoopFuture<Void> {
        switch kind {
        case .smtp: return smtp(.mx)
        case .submission: return smtp(.submission)
        case .lmtp: return smtp(.lmtp)
        case .imap: return imap(implicitTLS: false)
        case .imaps: return imap(implicitTLS: true)
        case .http: preconditionFailure("the HTTP listener is served by Hummingbird")
        }
    }

    private func smtp(_ mode: SMTPMode) -> @Sendable (Channel) -> EventLoopFuture<Void> {
        let config = SMTPServerConfiguration(hostname: configuration.hostname, mode: mode, limits: configuration.limits,
                                             tlsContext: mode == .lmtp ? nil : tlsContext)
        let backend = MailStoreSMTPBackend(store: mailStore, directory: directory)
        let clock = self.clock
        return { channel in
            channel.eventLoop.makeCompletedFuture {
                var random = SystemRandom()
                try SMTPChannelInitializer.configure(
                    channel: channel, configuration: config, backend: backend, clock: clock,
                    sessionID: SMTPChannelInitializer.makeSessionID(using: &random))
            }
        }
    }

    private func imap(implicitTLS: Bool) -> @Sendable (Channel) -> EventLoopFuture<Void> {
        let config = IMAPServerConfiguration(limits: configuration.limits, serverName: "Stal",
                                             startTLSContext: implicitTLS ? nil : tlsContext, implicitTLS: implicitTLS)
        let services = IMAPServices(mailStore: mailStore, directory: directory, structureCache: imapStructureCache)
        return { channel in IMAPChannelInitializer.configure(channel: channel, configuration: config, services: services) }
    }
}
