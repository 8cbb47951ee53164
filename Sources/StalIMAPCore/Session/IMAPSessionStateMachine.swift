/// The IMAP session (RFC 3501 §3): not authenticated → authenticated → selected → logout.
/// Pure: the driver feeds it frames and the results of the actions it performed, and
/// performs whatever `Action` comes back. Commands that need the store are handed out as
/// `.perform`; everything decidable from the session alone is answered here.
public struct IMAPSessionStateMachine: Sendable {
    public struct Configuration: Hashable, Sendable {
        public var startTLSAvailable: Bool
        public var connectionIsTLS: Bool
        public var remoteIsLoopback: Bool
        public var badCommandsBeforeDisconnect: Int
        public var serverName: String

        public init(startTLSAvailable: Bool, connectionIsTLS: Bool, remoteIsLoopback: Bool,
                    badCommandsBeforeDisconnect: Int = 50, serverName: String = "Stal") {
            self.startTLSAvailable = startTLSAvailable
            self.connectionIsTLS = connectionIsTLS
            self.remoteIsLoopback = remoteIsLoopback
            self.badCommandsBeforeDisconnect = badCommandsBeforeDisconnect
            self.serverName = serverName
        }
    }

    /// The RFC state as the driver needs to see it.
    public enum Mode: Hashable, Sendable {
        case notAuthenticated
        case authenticated
        case selected(readOnly: Bool)
        case loggedOut
    }

    private enum State: Hashable, Sendable {
        case notAuthenticated
        case awaitingSASLResponse(tag: String)
        case checkingCredentials(tag: String)
        case startingTLS
        case authenticated
        case selected(readOnly: Bool)
        case idling(tag: String, selectedReadOnly: Bool?)
        case loggedOut
    }

    public enum Action: Hashable, Sendable {
        case send([IMAPResponse])
        /// A command that needs the store; answer it, then report mode changes back.
        case perform(TaggedCommand)
        /// Verify the credentials, then call `authenticationFinished`.
        case checkCredentials(tag: String, username: String, password: String)
        /// Send the tagged OK, install TLS, then call `tlsEstablished`.
        case startTLS(tag: String, [IMAPResponse])
        /// Send the continuation, then report changes until DONE.
        case startIdle(tag: String, [IMAPResponse])
        /// Stop reporting, synchronise once more, then send these responses.
        case finishIdle([IMAPResponse])
        /// Send these responses, then close the connection.
        case close([IMAPResponse])
    }

    public enum AuthenticationOutcome: Hashable, Sendable {
        case succeeded
        case failed
        case rateLimited
    }

    public private(set) var configuration: Configuration
    private var state: State = .notAuthenticated
    private var badCommands = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public var mode: Mode {
        switch state {
        case .notAuthenticated, .awaitingSASLResponse, .checkingCredentials, .startingTLS: return .notAuthenticated
        case .authenticated: return .authenticated
        case .selected(let readOnly): return .selected(readOnly: readOnly)
        case .idling(_, let readOnly): return readOnly.map { .selected(readOnly: $0) } ?? .authenticated
        case .loggedOut: return .loggedOut
        }
    }

    /// The next line is not a command (IDLE's DONE, a SASL response): the framer must not
    /// look for literals in it.
    public var expectsRawLine: Bool {
        switch state {
        case .awaitingSASLResponse, .idling: return true
        default: return false
        }
    }

    public var isIdling: Bool {
        if case .idling = state { return true }
        return false
    }

    private var plaintextAllowed: Bool { configuration.connectionIsTLS || configuration.remoteIsLoopback }

    public var capabilities: [String] {
        var caps = ["IMAP4rev1", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE", "NAMESPACE", "UNSELECT", "UIDPLUS",
                    "MOVE", "SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "CHILDREN"]
        if case .notAuthenticated = mode {
            if configuration.startTLSAvailable && !configuration.connectionIsTLS { caps.append("STARTTLS") }
            caps.append(plaintextAllowed ? "AUTH=PLAIN" : "LOGINDISABLED")
        }
        return caps
    }

    public func greeting() -> IMAPResponse {
        .untagged(.condition(.ok, .capability(capabilities), "\(configuration.serverName) ready"))
    }

    /// The framing stage refused a command (too long, oversize literal).
    public mutating func frameRejected(tag: String?, _ error: IMAPFrameError) -> Action {
        let response: IMAPResponse
        switch error {
        case .lineTooLong(let limit):
            response = reply(tag, .bad, nil, "Command line too long (limit \(limit) octets)")
        case .literalTooLarge(_, let limit):
            response = reply(tag, .no, .tooBig, "Literal too large (limit \(limit) octets)")
        case .tooManyLiterals(let limit):
            response = reply(tag, .bad, .limit, "Too many literals (limit \(limit))")
        }
        return countBad([response])
    }

    public mutating func receive(_ frame: IMAPFrame) -> Action {
        switch state {
        case .idling(let tag, let readOnly):
            state = readOnly.map { .selected(readOnly: $0) } ?? .authenticated
            if frame.firstLineText.uppercased() == "DONE" {
                return .finishIdle([.tagged(tag: tag, .ok, nil, "IDLE terminated")])
            }
            return .finishIdle([.tagged(tag: tag, .bad, nil, "Expected DONE")])
        case .awaitingSASLResponse(let tag):
            let line = frame.firstLineText
            if line == "*" {
                state = .notAuthenticated
                return .send([.tagged(tag: tag, .bad, nil, "Authentication cancelled")])
            }
            return plainCredentials(tag: tag, line)
        case .checkingCredentials, .startingTLS, .loggedOut:
            return .send([])
        case .notAuthenticated, .authenticated, .selected:
            switch IMAPCommandParser.parse(frame) {
            case .failure(let error):
                return countBad([reply(error.tag, .bad, nil, "Invalid command: \(error.message)")])
            case .success(let tagged):
                return dispatch(tagged)
            }
        }
    }

    private func reply(_ tag: String?, _ status: ResponseStatus, _ code: ResponseCode?, _ text: String) -> IMAPResponse {
        if let tag { return .tagged(tag: tag, status, code, text) }
        return .untagged(.condition(status, code, text))
    }

    private mutating func countBad(_ responses: [IMAPResponse]) -> Action {
        badCommands += 1
        guard badCommands < configuration.badCommandsBeforeDisconnect else {
            state = .loggedOut
            return .close(responses + [.untagged(.condition(.bye, nil, "Too many invalid commands"))])
        }
        return .send(responses)
    }

    private mutating func dispatch(_ tagged: TaggedCommand) -> Action {
        let tag = tagged.tag
        let mode = self.mode
        let isAuthenticated = mode == .authenticated || { if case .selected = mode { return true } else { return false } }()
        func ok(_ text: String = "completed") -> IMAPResponse { .tagged(tag: tag, .ok, nil, text) }

        switch tagged.command {
        case .capability:
            return .send([.untagged(.capability(capabilities)), ok()])
        case .logout:
            state = .loggedOut
            return .close([.untagged(.condition(.bye, nil, "Logging out")), ok()])
        case .id:
            return .send([.untagged(.id([IDParameter(key: "name", value: configuration.serverName)])), ok()])
        case .noop where !isAuthenticated:
            return .send([ok()])
        case .startTLS:
            guard mode == .notAuthenticated else { return wrongState(tag) }
            guard configuration.startTLSAvailable, !configuration.connectionIsTLS else {
                return countBad([.tagged(tag: tag, .bad, nil, "STARTTLS not available")])
            }
            state = .startingTLS
            return .startTLS(tag: tag, [ok("Begin TLS negotiation now")])
        case .login(let username, let password):
            guard mode == .notAuthenticated else { return wrongState(tag) }
            guard plaintextAllowed else {
                return .send([.tagged(tag: tag, .no, .privacyRequired, "Plaintext authentication requires TLS")])
            }
            state = .checkingCredentials(tag: tag)
            return .checkCredentials(tag: tag, username: username, password: password)
        case .authenticate(let mechanism, let initialResponse):
            guard mode == .notAuthenticated else { return wrongState(tag) }
            guard mechanism == "PLAIN" else {
                return .send([.tagged(tag: tag, .no, .cannot, "Unsupported authentication mechanism")])
            }
            guard plaintextAllowed else {
                return .send([.tagged(tag: tag, .no, .privacyRequired, "Plaintext authentication requires TLS")])
            }
            guard let initialResponse else {
                state = .awaitingSASLResponse(tag: tag)
                return .send([.continuation("")])
            }
            return plainCredentials(tag: tag, initialResponse)
        default:
            break
        }

        guard isAuthenticated else { return wrongState(tag) }
        switch tagged.command {
        case .enable:
            return .send([.untagged(.enabled([])), ok()])
        case .namespace:
            return .send([.untagged(.namespace(prefix: "", delimiter: "/")), ok()])
        case .idle:
            if case .selected(let readOnly) = mode {
                state = .idling(tag: tag, selectedReadOnly: readOnly)
            } else {
                state = .idling(tag: tag, selectedReadOnly: nil)
            }
            return .startIdle(tag: tag, [.continuation("idling")])
        case .noop, .list, .lsub, .create, .delete, .rename, .subscribe, .unsubscribe, .select, .status, .append:
            return .perform(tagged)
        default:
            break
        }

        guard case .selected(let readOnly) = mode else {
            return countBad([.tagged(tag: tag, .bad, nil, "No mailbox selected")])
        }
        switch tagged.command {
        case .search(let charset, _, _):
            if let charset, charset != "UTF-8", charset != "US-ASCII" {
                return .send([.tagged(tag: tag, .no, .badCharset(["UTF-8", "US-ASCII"]), "Unsupported charset")])
            }
            return .perform(tagged)
        case .expunge, .uidExpunge, .store, .move:
            if readOnly { return .send([.tagged(tag: tag, .no, .readOnly, "Mailbox is read-only")]) }
            return .perform(tagged)
        default:
            return .perform(tagged)
        }
    }

    private mutating func wrongState(_ tag: String) -> Action {
        countBad([.tagged(tag: tag, .bad, nil, "Command not valid in this state")])
    }

    private mutating func plainCredentials(tag: String, _ base64: String) -> Action {
        guard let credentials = SASLPlainCredentials(base64: base64) else {
            state = .notAuthenticated
            return countBad([.tagged(tag: tag, .bad, nil, "Invalid SASL PLAIN response")])
        }
        guard credentials.authorizationID.isEmpty || credentials.authorizationID == credentials.username else {
            state = .notAuthenticated
            return .send([.tagged(tag: tag, .no, .authorizationFailed, "Authorization identity not permitted")])
        }
        state = .checkingCredentials(tag: tag)
        return .checkCredentials(tag: tag, username: credentials.username, password: credentials.password)
    }

    public mutating func authenticationFinished(_ outcome: AuthenticationOutcome) -> Action {
        guard case .checkingCredentials(let tag) = state else { return .send([]) }
        switch outcome {
        case .succeeded:
            state = .authenticated
            return .send([.tagged(tag: tag, .ok, .capability(capabilities), "Logged in")])
        case .failed:
            state = .notAuthenticated
            return .send([.tagged(tag: tag, .no, .authenticationFailed, "Authentication failed")])
        case .rateLimited:
            state = .notAuthenticated
            return .send([.tagged(tag: tag, .no, .unavailable, "Too many failed attempts; try again later")])
        }
    }

    public mutating func tlsEstablished() {
        configuration.connectionIsTLS = true
        if case .startingTLS = state { state = .notAuthenticated }
    }

    /// SELECT/EXAMINE succeeded.
    public mutating func selected(readOnly: Bool) {
        if mode != .loggedOut && mode != .notAuthenticated { state = .selected(readOnly: readOnly) }
    }

    /// CLOSE, UNSELECT or a failed SELECT left no mailbox selected.
    public mutating func deselected() {
        if case .selected = state { state = .authenticated }
    }
}
