import StalCore

/// What the handler must do next. Replies are written in order; the handler flushes once
/// an event's actions are done (RFC 2920: replies to a pipelined group go out together).
public enum SMTPAction: Hashable, Sendable {
    case send(SMTPReply)
    /// Insert TLS in front of the session now: the 220 before it is the last plaintext.
    case startTLS
    /// Resolve a recipient; answer with `recipientResolved(_:)`.
    case checkRecipient(EmailAddress)
    /// Submission only: may the authenticated `identity` send as `sender`? Answer with
    /// `senderChecked(allowed:)`.
    case checkSender(EmailAddress, identity: String)
    /// Check credentials; answer with `authenticationCompleted(_:)`.
    case authenticate(SMTPCredentials)
    /// Store the message durably; answer with `deliveryCompleted(_:)`, one outcome per
    /// recipient in `transaction.recipients` order.
    case deliver(SMTPTransaction)
    case close
}

/// One SMTP, submission or LMTP session (RFC 5321, RFC 6409, RFC 2033) as a pure state
/// machine: bytes and asynchronous results go in, actions come out. While an action that
/// needs an answer is outstanding, further input is buffered and not interpreted, so
/// pipelined commands are handled strictly in order.
public struct SMTPSessionStateMachine: Sendable {
    private enum State: Sendable {
        case readingCommands
        case awaitingRecipientVerdict(EmailAddress)
        case awaitingSenderVerdict(MailTransaction)
        case readingData(SMTPDataDecoder)
        case readingChunk(ChunkReading)
        case awaitingDelivery(SMTPTransaction)
        case awaitingSASLResponse(SASLStep)
        case awaitingAuthentication
        case closed
    }

    private enum SASLStep: Sendable {
        case plainResponse
        case loginUsername
        case loginPassword(username: String)
    }

    /// A BDAT chunk being read. Its bytes are always consumed, even when the command is
    /// refused, so they are never read as commands.
    private struct ChunkReading: Sendable {
        var remaining: Int
        var octets: Int
        var isLast: Bool
        /// nil: append to the transaction; otherwise the reply sent once the chunk is skipped.
        var refusal: SMTPReply?
    }

    private struct MailTransaction: Sendable {
        var reversePath: EmailAddress?
        var parameters: SMTPMailParameters
        var recipients: [SMTPAcceptedRecipient] = []
        var chunkedContent: [UInt8]?
    }

    private struct Hello: Sendable {
        var name: String
        var extended: Bool
    }

    public let configuration: SMTPSessionConfiguration
    public let peer: SMTPPeer
    private let sessionID: String
    private let parser: SMTPCommandParser
    private var state = State.readingCommands
    private var input = SMTPInputBuffer()
    private var hello: Hello?
    private var transaction: MailTransaction?
    private var errorCount = 0
    private var transactionCount = 0
    public private(set) var tlsActive = false
    public private(set) var authenticatedIdentity: String?

    /// `sessionID` names the session in Received headers and replies; the handler draws it
    /// from its injected random source.
    public init(configuration: SMTPSessionConfiguration, peer: SMTPPeer, sessionID: String) {
        self.configuration = configuration
        self.peer = peer
        self.sessionID = sessionID
        self.parser = SMTPCommandParser(postmasterDomain: configuration.hostname)
        self.tlsActive = configuration.implicitTLS
    }

    private var limits: Limits { configuration.limits }

    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Whether an action's answer is outstanding (the handler stops reading meanwhile).
    public var isAwaitingResult: Bool {
        switch state {
        case .awaitingRecipientVerdict, .awaitingSenderVerdict, .awaitingDelivery, .awaitingAuthentication: return true
        default: return false
        }
    }

    private var authAllowed: Bool {
        !configuration.requireTLSForAuth || tlsActive || peer.isLoopback
    }

    // MARK: Events

    public mutating func start() -> [SMTPAction] {
        [.send(.greeting(hostname: configuration.hostname, mode: configuration.mode))]
    }

    public mutating func receive(_ bytes: some Collection<UInt8>) -> [SMTPAction] {
        if isClosed { return [] }
        input.append(bytes)
        var actions: [SMTPAction] = []
        process(into: &actions)
        return actions
    }

    /// The client sent nothing for the listener's idle timeout (RFC 5321 §4.5.3.2); the handler
    /// never calls this while an action's answer is outstanding.
    public mutating func idleTimeoutElapsed() -> [SMTPAction] {
        guard !isClosed else { return [] }
        var actions: [SMTPAction] = [.send(.idleTimeout(hostname: configuration.hostname))]
        close(into: &actions)
        return actions
    }

    public mutating func recipientResolved(_ verdict: SMTPRecipientVerdict) -> [SMTPAction] {
        guard case .awaitingRecipientVerdict(let address) = state, transaction != nil else {
            preconditionFailure("recipientResolved without a pending RCPT")
        }
        state = .readingCommands
        var actions: [SMTPAction] = []
        switch verdict {
        case .local(let tenant, let account):
            transaction?.recipients.append(SMTPAcceptedRecipient(address: address, tenant: tenant, account: account))
            reply(.recipientOK(address), into: &actions)
        case .unknownUser:
            reply(.unknownUser(address), into: &actions)
        case .notLocal:
            reply(configuration.mode == .submission ? .outboundUnavailable(address) : .relayDenied(address), into: &actions)
        case .temporaryFailure:
            reply(.directoryUnavailable(address), into: &actions)
        }
        process(into: &actions)
        return actions
    }

    public mutating func senderChecked(allowed: Bool) -> [SMTPAction] {
        guard case .awaitingSenderVerdict(let pending) = state, let sender = pending.reversePath else {
            preconditionFailure("senderChecked without a pending MAIL")
        }
        state = .readingCommands
        var actions: [SMTPAction] = []
        if allowed {
            transaction = pending
            reply(.senderOK, into: &actions)
        } else {
            reply(.senderNotOwned(sender, identity: authenticatedIdentity ?? ""), into: &actions)
        }
        process(into: &actions)
        return actions
    }

    public mutating func authenticationCompleted(_ outcome: SMTPAuthenticationOutcome) -> [SMTPAction] {
        guard case .awaitingAuthentication = state else {
            preconditionFailure("authenticationCompleted without a pending AUTH")
        }
        state = .readingCommands
        var actions: [SMTPAction] = []
        switch outcome {
        case .success(let identity):
            authenticatedIdentity = identity
            reply(.authenticationSucceeded, into: &actions)
        case .failure:
            reply(.authenticationFailed, into: &actions)
        case .rateLimited(let seconds):
            reply(.authenticationRateLimited(retryAfterSeconds: seconds), into: &actions)
        case .temporaryFailure:
            reply(.temporaryAuthenticationFailure, into: &actions)
        }
        process(into: &actions)
        return actions
    }

    public mutating func deliveryCompleted(_ outcomes: [SMTPDeliveryOutcome]) -> [SMTPAction] {
        guard case .awaitingDelivery(let delivered) = state else {
            preconditionFailure("deliveryCompleted without a pending delivery")
        }
        precondition(outcomes.count == delivered.recipients.count, "one delivery outcome per recipient")
        state = .readingCommands
        transaction = nil
        var actions: [SMTPAction] = []
        if configuration.mode == .lmtp {
            for (recipient, outcome) in zip(delivered.recipients, outcomes) {
                reply(.delivery(outcome, id: delivered.id, recipient: recipient.address), into: &actions)
            }
        } else {
            let firstFailure = outcomes.first(where: { $0 != .delivered }) ?? .delivered
            reply(.delivery(firstFailure, id: delivered.id, recipient: nil), into: &actions)
        }
        process(into: &actions)
        return actions
    }

    // MARK: Input processing

    private mutating func process(into actions: inout [SMTPAction]) {
        while true {
            switch state {
            case .readingCommands:
                switch input.nextLine(octetsMax: limits.smtpCommandLineOctetsMax) {
                case .needMoreBytes: return
                case .tooLong: reply(.lineTooLong, into: &actions)
                case .line(let line): handle(line: line, into: &actions)
                }
            case .awaitingSASLResponse(let step):
                switch input.nextLine(octetsMax: limits.smtpCommandLineOctetsMax) {
                case .needMoreBytes: return
                case .tooLong:
                    state = .readingCommands
                    reply(.lineTooLong, into: &actions)
                case .line(let line): handleSASL(line, step: step, into: &actions)
                }
            case .readingData(var decoder):
                guard input.unreadCount > 0 else { return }
                // Drop the state's copy so the decoder's buffer grows in place, not copied per read.
                state = .readingCommands
                let (consumed, progress) = decoder.decode(input.unread)
                input.skip(consumed)
                guard progress == .finished else {
                    state = .readingData(decoder)
                    return
                }
                finishData(decoder, into: &actions)
            case .readingChunk(var chunk):
                if chunk.remaining > 0 {
                    guard input.unreadCount > 0 else { return }
                    let slice = input.unread.prefix(chunk.remaining)
                    if chunk.refusal == nil { transaction?.chunkedContent?.append(contentsOf: slice) }
                    input.skip(slice.count)
                    chunk.remaining -= slice.count
                    guard chunk.remaining == 0 else {
                        state = .readingChunk(chunk)
                        return
                    }
                }
                finishChunk(chunk, into: &actions)
            case .awaitingRecipientVerdict, .awaitingSenderVerdict, .awaitingDelivery, .awaitingAuthentication, .closed:
                return
            }
        }
    }
}

// MARK: Commands

extension SMTPSessionStateMachine {
    private mutating func handle(line: [UInt8], into actions: inout [SMTPAction]) {
        let command: SMTPCommand
        switch parser.parse(line) {
        case .success(let parsed):
            command = parsed
        case .failure(let error):
            reply(.syntaxError(error), into: &actions)
            if error.kind == .unframeableChunk && !isClosed { close(into: &actions) }
            return
        }
        switch command {
        case .helo(let name): handleHello(name: name, verb: .helo, into: &actions)
        case .ehlo(let name): handleHello(name: name, verb: .ehlo, into: &actions)
        case .lhlo(let name): handleHello(name: name, verb: .lhlo, into: &actions)
        case .mail(let reversePath, let parameters): handleMail(reversePath, parameters, into: &actions)
        case .rcpt(let address): handleRcpt(address, into: &actions)
        case .data: handleData(into: &actions)
        case .bdat(let octets, let isLast): handleBdat(octets: octets, isLast: isLast, into: &actions)
        case .rset:
            transaction = nil
            reply(.ok, into: &actions)
        case .noop: reply(.ok, into: &actions)
        case .quit:
            reply(.bye, into: &actions)
            close(into: &actions)
        case .vrfy: reply(.cannotVerify, into: &actions)
        case .expn: reply(.expnDisabled, into: &actions)
        case .help: reply(.help, into: &actions)
        case .startTLS: handleStartTLS(into: &actions)
        case .auth(let mechanism, let initialResponse): handleAuth(mechanism, initialResponse, into: &actions)
        }
    }

    private enum HelloVerb { case helo, ehlo, lhlo }

    private mutating func handleHello(name: String, verb: HelloVerb, into actions: inout [SMTPAction]) {
        switch (configuration.mode, verb) {
        case (.lmtp, .helo), (.lmtp, .ehlo):
            reply(.useLHLO, into: &actions)
            return
        case (.mx, .lhlo), (.submission, .lhlo):
            reply(.notLMTP, into: &actions)
            return
        default:
            break
        }
        transaction = nil
        hello = Hello(name: name, extended: verb != .helo)
        let greeting = "\(configuration.hostname) greets \(name)"
        guard verb != .helo else {
            reply(SMTPReply(250, nil, configuration.hostname), into: &actions)
            return
        }
        var lines = [greeting, "PIPELINING", "SIZE \(limits.smtpMessageOctetsMax)", "8BITMIME", "SMTPUTF8",
                     "ENHANCEDSTATUSCODES", "CHUNKING"]
        if configuration.tlsAvailable && !tlsActive { lines.append("STARTTLS") }
        if configuration.mode == .submission && authAllowed && authenticatedIdentity == nil {
            lines.append("AUTH " + SASLMechanism.allCases.map(\.rawValue).joined(separator: " "))
        }
        reply(SMTPReply(250, nil, lines), into: &actions)
    }

    private mutating func handleMail(_ reversePath: EmailAddress?, _ parameters: SMTPMailParameters,
                                     into actions: inout [SMTPAction]) {
        guard hello != nil else { return reply(.helloFirst, into: &actions) }
        guard transaction == nil else { return reply(.nestedMail, into: &actions) }
        if configuration.mode == .submission && authenticatedIdentity == nil {
            return reply(.authenticationRequired, into: &actions)
        }
        if let size = parameters.declaredSize, size > limits.smtpMessageOctetsMax {
            return reply(.messageTooBig, into: &actions)
        }
        if let reversePath, !parameters.smtpUTF8, !Self.isASCII(reversePath) {
            return reply(.nonASCIIAddressNeedsSMTPUTF8, into: &actions)
        }
        let pending = MailTransaction(reversePath: reversePath, parameters: parameters)
        // RFC 6409 §6.1: a submission server may refuse envelope senders the authenticated
        // user does not own. The null sender stays allowed for MDNs and bounces.
        if configuration.mode == .submission, let reversePath, let identity = authenticatedIdentity {
            state = .awaitingSenderVerdict(pending)
            actions.append(.checkSender(reversePath, identity: identity))
            return
        }
        transaction = pending
        reply(.senderOK, into: &actions)
    }

    private mutating func handleRcpt(_ address: EmailAddress, into actions: inout [SMTPAction]) {
        guard let transaction else { return reply(.mailFirst, into: &actions) }
        guard transaction.chunkedContent == nil else { return reply(.rcptAfterChunks, into: &actions) }
        guard transaction.recipients.count < limits.smtpRecipientsMax else {
            return reply(.tooManyRecipients, into: &actions)
        }
        if !transaction.parameters.smtpUTF8 && !Self.isASCII(address) {
            return reply(.nonASCIIAddressNeedsSMTPUTF8, into: &actions)
        }
        state = .awaitingRecipientVerdict(address)
        actions.append(.checkRecipient(address))
    }

    private mutating func handleData(into actions: inout [SMTPAction]) {
        guard let transaction else { return reply(.mailFirst, into: &actions) }
        guard transaction.chunkedContent == nil else { return reply(.mixedDataAndChunks, into: &actions) }
        guard !transaction.recipients.isEmpty else { return reply(.noValidRecipients, into: &actions) }
        actions.append(.send(.startData))
        state = .readingData(SMTPDataDecoder(octetsMax: limits.smtpMessageOctetsMax,
                                             lineOctetsMax: limits.smtpDataLineOctetsMax))
    }

    private mutating func handleBdat(octets: Int, isLast: Bool, into actions: inout [SMTPAction]) {
        var refusal: SMTPReply?
        if let transaction {
            let received = transaction.chunkedContent?.count ?? 0
            if transaction.recipients.isEmpty {
                refusal = .noValidRecipients
            } else if octets > limits.smtpMessageOctetsMax - received {
                refusal = .messageTooBig
            } else if transaction.chunkedContent == nil {
                self.transaction?.chunkedContent = []
            }
        } else {
            refusal = .mailFirst
        }
        state = .readingChunk(ChunkReading(remaining: octets, octets: octets, isLast: isLast, refusal: refusal))
    }

    private mutating func finishChunk(_ chunk: ChunkReading, into actions: inout [SMTPAction]) {
        state = .readingCommands
        if let refusal = chunk.refusal {
            // RFC 3030 §2: after a failed BDAT the transaction is over; the client starts again.
            transaction = nil
            return replyFinal(refusal, into: &actions)
        }
        guard chunk.isLast else { return reply(.chunkReceived(chunk.octets), into: &actions) }
        guard let content = transaction?.chunkedContent else {
            preconditionFailure("BDAT accepted without a transaction")
        }
        startDelivery(content: content, into: &actions)
    }

    private mutating func finishData(_ decoder: SMTPDataDecoder, into actions: inout [SMTPAction]) {
        state = .readingCommands
        if decoder.sawBareLineEnding {
            replyFinal(.bareLineEnding, into: &actions)
        } else if decoder.exceededSize {
            replyFinal(.messageTooBig, into: &actions)
        } else if decoder.sawOverlongLine {
            replyFinal(.messageLineTooLong, into: &actions)
        } else {
            return startDelivery(content: decoder.content, into: &actions)
        }
        transaction = nil
    }

    private mutating func startDelivery(content: [UInt8], into actions: inout [SMTPAction]) {
        guard let transaction, let hello else { preconditionFailure("delivery without a transaction") }
        transactionCount += 1
        let trace = SMTPSessionTrace(
            heloName: hello.name, peer: peer, usedExtendedHello: hello.extended, tlsActive: tlsActive,
            authenticated: authenticatedIdentity != nil, mode: configuration.mode,
            serverHostname: configuration.hostname)
        let delivery = SMTPTransaction(
            id: "\(sessionID).\(transactionCount)", reversePath: transaction.reversePath,
            parameters: transaction.parameters, recipients: transaction.recipients, content: content, trace: trace)
        state = .awaitingDelivery(delivery)
        actions.append(.deliver(delivery))
    }

    private mutating func handleStartTLS(into actions: inout [SMTPAction]) {
        guard configuration.tlsAvailable else { return reply(.startTLSUnavailable, into: &actions) }
        guard !tlsActive else { return reply(.tlsAlreadyActive, into: &actions) }
        // RFC 3207 §4.2: the session starts over, and plaintext pipelined after STARTTLS is
        // dropped so it cannot be injected into the protected session (CVE-2011-0411).
        input.discardAll()
        tlsActive = true
        hello = nil
        transaction = nil
        authenticatedIdentity = nil
        actions.append(.send(.readyForTLS))
        actions.append(.startTLS)
    }

    private mutating func handleAuth(_ mechanism: SASLMechanism, _ initialResponse: String?,
                                     into actions: inout [SMTPAction]) {
        guard configuration.mode == .submission else { return reply(.authUnavailable, into: &actions) }
        guard hello?.extended == true else { return reply(.extendedHelloFirst, into: &actions) }
        guard authenticatedIdentity == nil else { return reply(.alreadyAuthenticated, into: &actions) }
        guard transaction == nil else { return reply(.authDuringTransaction, into: &actions) }
        guard authAllowed else { return reply(.encryptionRequiredForAuth, into: &actions) }
        switch (mechanism, initialResponse) {
        case (.plain, nil):
            state = .awaitingSASLResponse(.plainResponse)
            actions.append(.send(.saslEmptyChallenge))
        case (.plain, let response?):
            handleSASL(Array(response.utf8), step: .plainResponse, into: &actions)
        case (.login, nil):
            state = .awaitingSASLResponse(.loginUsername)
            actions.append(.send(.saslUsernameChallenge))
        case (.login, let response?):
            handleSASL(Array(response.utf8), step: .loginUsername, into: &actions)
        }
    }

    private mutating func handleSASL(_ line: [UInt8], step: SASLStep, into actions: inout [SMTPAction]) {
        state = .readingCommands
        if line == [UInt8(ascii: "*")] { return reply(.authenticationCancelled, into: &actions) }
        // RFC 4954 §4: "=" is an empty initial response.
        let decoded = line == [UInt8(ascii: "=")] ? [] : Base64.decode(String(decoding: line, as: UTF8.self))
        guard let decoded, let text = String(validating: decoded, as: UTF8.self) else {
            return reply(.undecodableSASLResponse, into: &actions)
        }
        switch step {
        case .plainResponse:
            // RFC 4616 §2: authzid NUL authcid NUL passwd; Stal has no proxy authorisation.
            let parts = decoded.split(separator: 0, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[1].isEmpty,
                  let authzid = String(validating: parts[0], as: UTF8.self),
                  let username = String(validating: parts[1], as: UTF8.self),
                  let password = String(validating: parts[2], as: UTF8.self) else {
                return reply(.undecodableSASLResponse, into: &actions)
            }
            guard authzid.isEmpty || authzid == username else {
                return reply(.authenticationFailed, into: &actions)
            }
            state = .awaitingAuthentication
            actions.append(.authenticate(SMTPCredentials(username: username, password: password)))
        case .loginUsername:
            state = .awaitingSASLResponse(.loginPassword(username: text))
            actions.append(.send(.saslPasswordChallenge))
        case .loginPassword(let username):
            state = .awaitingAuthentication
            actions.append(.authenticate(SMTPCredentials(username: username, password: text)))
        }
    }

    // MARK: Replies

    /// Sends a reply, counting permanent failures; too many of them end the session.
    private mutating func reply(_ reply: SMTPReply, into actions: inout [SMTPAction]) {
        guard !isClosed else { return }
        actions.append(.send(reply))
        guard reply.isPermanentFailure else { return }
        errorCount += 1
        if errorCount >= limits.smtpErrorsBeforeDisconnect {
            actions.append(.send(.tooManyErrors))
            close(into: &actions)
        }
    }

    /// The reply that ends a message: LMTP owes one per accepted recipient (RFC 2033 §4.2).
    private mutating func replyFinal(_ final: SMTPReply, into actions: inout [SMTPAction]) {
        let count = configuration.mode == .lmtp ? max(transaction?.recipients.count ?? 0, 1) : 1
        for _ in 0..<count { reply(final, into: &actions) }
    }

    private mutating func close(into actions: inout [SMTPAction]) {
        state = .closed
        input.discardAll()
        actions.append(.close)
    }

    private static func isASCII(_ address: EmailAddress) -> Bool {
        address.localPart.utf8.allSatisfy { $0 < 0x80 } && address.domain.utf8.allSatisfy { $0 < 0x80 }
    }
}
