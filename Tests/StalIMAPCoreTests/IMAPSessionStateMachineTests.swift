import Testing
@testable import StalIMAPCore

@Suite struct IMAPSessionStateMachineTests {
    func machine(tls: Bool = false, loopback: Bool = true, startTLS: Bool = true, badMax: Int = 50) -> IMAPSessionStateMachine {
        IMAPSessionStateMachine(configuration: .init(startTLSAvailable: startTLS, connectionIsTLS: tls, remoteIsLoopback: loopback,
                                                     badCommandsBeforeDisconnect: badMax))
    }

    func login(_ m: inout IMAPSessionStateMachine) {
        #expect(m.receive(IMAPFrame(text: "a LOGIN alice secret")) == .checkCredentials(tag: "a", username: "alice", password: "secret"))
        _ = m.authenticationFinished(.succeeded)
    }

    @Test func greetingAdvertisesCapabilities() {
        let m = machine(loopback: false)
        guard case .untagged(.condition(.ok, .capability(let caps), _)) = m.greeting() else {
            Issue.record("greeting is not OK with capabilities")
            return
        }
        #expect(caps.contains("STARTTLS"))
        #expect(caps.contains("LOGINDISABLED"))
        #expect(!caps.contains("AUTH=PLAIN"))
        #expect(machine(tls: true).capabilities.contains("AUTH=PLAIN"))
        #expect(!machine(tls: true).capabilities.contains("STARTTLS"))
    }

    @Test func plaintextLoginNeedsTLSOrLoopback() {
        var remote = machine(loopback: false)
        #expect(remote.receive(IMAPFrame(text: "a LOGIN alice secret")) ==
                .send([.tagged(tag: "a", .no, .privacyRequired, "Plaintext authentication requires TLS")]))
        #expect(remote.receive(IMAPFrame(text: "b AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==")) ==
                .send([.tagged(tag: "b", .no, .privacyRequired, "Plaintext authentication requires TLS")]))
        #expect(remote.receive(IMAPFrame(text: "c STARTTLS")) == .startTLS(tag: "c", [.tagged(tag: "c", .ok, nil, "Begin TLS negotiation now")]))
        remote.tlsEstablished()
        #expect(remote.receive(IMAPFrame(text: "d LOGIN alice secret")) == .checkCredentials(tag: "d", username: "alice", password: "secret"))
    }

    @Test func wrongPasswordGetsAuthenticationFailed() {
        var m = machine()
        _ = m.receive(IMAPFrame(text: "a LOGIN alice wrong"))
        #expect(m.authenticationFinished(.failed) == .send([.tagged(tag: "a", .no, .authenticationFailed, "Authentication failed")]))
        #expect(m.mode == .notAuthenticated)
    }

    @Test func authenticatePlainWithAndWithoutInitialResponse() {
        var m = machine()
        #expect(m.receive(IMAPFrame(text: "a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==")) ==
                .checkCredentials(tag: "a", username: "alice", password: "secret"))
        _ = m.authenticationFinished(.failed)
        #expect(m.receive(IMAPFrame(text: "b AUTHENTICATE PLAIN")) == .send([.continuation("")]))
        #expect(m.expectsRawLine)
        #expect(m.receive(IMAPFrame(text: SASLPlainCredentials.encode(username: "bob", password: "pw"))) ==
                .checkCredentials(tag: "b", username: "bob", password: "pw"))
        _ = m.authenticationFinished(.failed)
        _ = m.receive(IMAPFrame(text: "c AUTHENTICATE PLAIN"))
        #expect(m.receive(IMAPFrame(text: "*")) == .send([.tagged(tag: "c", .bad, nil, "Authentication cancelled")]))
        #expect(m.receive(IMAPFrame(text: "d AUTHENTICATE CRAM-MD5")) == .send([.tagged(tag: "d", .no, .cannot, "Unsupported authentication mechanism")]))
    }

    @Test func stateTransitions() {
        var m = machine()
        #expect(m.receive(IMAPFrame(text: "a SELECT INBOX")) == .send([.tagged(tag: "a", .bad, nil, "Command not valid in this state")]))
        login(&m)
        #expect(m.mode == .authenticated)
        #expect(m.receive(IMAPFrame(text: "b LOGIN x y")) == .send([.tagged(tag: "b", .bad, nil, "Command not valid in this state")]))
        #expect(m.receive(IMAPFrame(text: "c FETCH 1 FLAGS")) == .send([.tagged(tag: "c", .bad, nil, "No mailbox selected")]))
        #expect(m.receive(IMAPFrame(text: "d SELECT INBOX")) == .perform(TaggedCommand(tag: "d", command: .select("INBOX", readOnly: false))))
        m.selected(readOnly: true)
        #expect(m.mode == .selected(readOnly: true))
        #expect(m.receive(IMAPFrame(text: "e STORE 1 +FLAGS (\\Seen)")) == .send([.tagged(tag: "e", .no, .readOnly, "Mailbox is read-only")]))
        #expect(m.receive(IMAPFrame(text: "f FETCH 1 FLAGS")) == .perform(TaggedCommand(tag: "f", command: .fetch(SequenceSet(numbers: [1]), [.flags], uid: false))))
        m.deselected()
        #expect(m.mode == .authenticated)
        #expect(m.receive(IMAPFrame(text: "g LOGOUT")) == .close([.untagged(.condition(.bye, nil, "Logging out")), .tagged(tag: "g", .ok, nil, "completed")]))
        #expect(m.mode == .loggedOut)
    }

    @Test func idleEndsWithDone() {
        var m = machine()
        login(&m)
        m.selected(readOnly: false)
        #expect(m.receive(IMAPFrame(text: "i IDLE")) == .startIdle(tag: "i", [.continuation("idling")]))
        #expect(m.isIdling && m.expectsRawLine)
        #expect(m.mode == .selected(readOnly: false))
        #expect(m.receive(IMAPFrame(text: "done")) == .finishIdle([.tagged(tag: "i", .ok, nil, "IDLE terminated")]))
        #expect(!m.isIdling)
        #expect(m.mode == .selected(readOnly: false))
    }

    @Test func randomBytesGetBadAndTheSessionContinues() {
        var m = machine()
        let action = m.receive(IMAPFrame(lines: [[0x16, 0x03, 0x01, 0xFF, 0x00, 0x20]]))
        guard case .send(let responses) = action, case .untagged(.condition(.bad, _, _)) = responses.first else {
            Issue.record("expected untagged BAD, got \(action)")
            return
        }
        #expect(m.receive(IMAPFrame(text: "x1 ((((")) == .send([.tagged(tag: "x1", .bad, nil, "Invalid command: expected atom")]))
        #expect(m.receive(IMAPFrame(text: "x2 NOOP")) == .send([.tagged(tag: "x2", .ok, nil, "completed")]))
    }

    @Test func tooManyBadCommandsDisconnect() {
        var m = machine(badMax: 3)
        _ = m.receive(IMAPFrame(text: "a BOGUS"))
        _ = m.receive(IMAPFrame(text: "b BOGUS"))
        guard case .close(let responses) = m.receive(IMAPFrame(text: "c BOGUS")) else {
            Issue.record("expected close")
            return
        }
        #expect(responses.last == .untagged(.condition(.bye, nil, "Too many invalid commands")))
        #expect(m.mode == .loggedOut)
    }

    @Test func oversizeLiteralGetsTooBig() {
        var m = machine()
        #expect(m.frameRejected(tag: "a", .literalTooLarge(announced: 10, limit: 5)) ==
                .send([.tagged(tag: "a", .no, .tooBig, "Literal too large (limit 5 octets)")]))
    }

    @Test func searchCharsetIsChecked() {
        var m = machine()
        login(&m)
        m.selected(readOnly: false)
        #expect(m.receive(IMAPFrame(text: "s SEARCH CHARSET KOI8-R ALL")) ==
                .send([.tagged(tag: "s", .no, .badCharset(["UTF-8", "US-ASCII"]), "Unsupported charset")]))
        #expect(m.receive(IMAPFrame(text: "t SEARCH CHARSET utf-8 ALL")) ==
                .perform(TaggedCommand(tag: "t", command: .search(charset: "UTF-8", key: .all, uid: false))))
    }

    @Test func saslPlainDecoding() {
        let c = SASLPlainCredentials(base64: "YWRtaW4AYWxpY2UAc2VjcmV0")
        #expect(c?.authorizationID == "admin")
        #expect(c?.username == "alice")
        #expect(c?.password == "secret")
        #expect(SASLPlainCredentials(base64: "!!!") == nil)
        #expect(SASLPlainCredentials(base64: Base64.encode(Array("nonul".utf8))) == nil)
    }
}
