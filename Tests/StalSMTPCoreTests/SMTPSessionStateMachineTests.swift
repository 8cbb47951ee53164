import StalCore
import Testing
@testable import StalSMTPCore

/// Drives a session the way the handler does, answering every request with canned results.
struct SessionHarness {
    var machine: SMTPSessionStateMachine
    var verdicts: [String: SMTPRecipientVerdict] = [:]
    var authOutcome = SMTPAuthenticationOutcome.success(identity: "user@example.com")
    var deliveryOutcome = SMTPDeliveryOutcome.delivered
    var transcript: [String] = []
    var delivered: [SMTPTransaction] = []
    var credentials: [SMTPCredentials] = []
    var tlsStarted = 0
    var closed = false

    init(mode: SMTPMode = .mx, tls: Bool = true, loopback: Bool = false, limits: Limits = .default) {
        let configuration = SMTPSessionConfiguration(hostname: "mx.example", mode: mode, limits: limits, tlsAvailable: tls)
        machine = SMTPSessionStateMachine(configuration: configuration,
                                          peer: SMTPPeer(address: loopback ? "127.0.0.1" : "192.0.2.9", isLoopback: loopback),
                                          sessionID: "s1")
        let local = SMTPRecipientVerdict.local(tenant: TenantID(rawValue: 1), account: AccountID(rawValue: 10))
        verdicts = ["user@example.com": local, "other@example.com": .local(tenant: TenantID(rawValue: 1), account: AccountID(rawValue: 11)),
                    "nobody@example.com": .unknownUser, "x@elsewhere.example": .notLocal]
        perform(machine.start())
    }

    mutating func send(_ text: String) {
        perform(machine.receive(Array(text.utf8)))
    }

    mutating func send(bytes: [UInt8]) {
        perform(machine.receive(bytes))
    }

    mutating func perform(_ actions: [SMTPAction]) {
        var pending = actions[...]
        while let action = pending.popFirst() {
            switch action {
            case .send(let reply):
                transcript.append(contentsOf: reply.description.split(separator: "\r\n").map(String.init))
            case .startTLS:
                tlsStarted += 1
            case .checkRecipient(let address):
                pending.append(contentsOf: machine.recipientResolved(verdicts[address.canonical] ?? .notLocal))
            case .checkSender(let sender, let identity):
                pending.append(contentsOf: machine.senderChecked(allowed: sender.canonical == identity))
            case .authenticate(let creds):
                credentials.append(creds)
                pending.append(contentsOf: machine.authenticationCompleted(authOutcome))
            case .deliver(let transaction):
                delivered.append(transaction)
                let outcomes = Array(repeating: deliveryOutcome, count: transaction.recipients.count)
                pending.append(contentsOf: machine.deliveryCompleted(outcomes))
            case .close:
                closed = true
            }
        }
    }

    /// Reply lines since the last call.
    mutating func take() -> [String] {
        defer { transcript.removeAll() }
        return transcript
    }

    mutating func codes() -> [String] { take().map { String($0.prefix(3)) } }
}

@Suite struct SMTPSessionStateMachineTests {
    @Test func greetingAndEhloAdvertiseExtensions() {
        var session = SessionHarness()
        #expect(session.take() == ["220 mx.example ESMTP Stal ready"])
        session.send("EHLO client.example\r\n")
        #expect(session.take() == ["250-mx.example greets client.example", "250-PIPELINING", "250-SIZE 52428800",
                                   "250-8BITMIME", "250-SMTPUTF8", "250-ENHANCEDSTATUSCODES", "250-CHUNKING",
                                   "250 STARTTLS"])
    }

    @Test func mxTransactionWithSeveralRecipients() throws {
        var session = SessionHarness()
        session.send("EHLO c\r\nMAIL FROM:<s@sender.example>\r\nRCPT TO:<user@example.com>\r\n")
        session.send("RCPT TO:<other@example.com>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<x@elsewhere.example>\r\nDATA\r\n")
        _ = session.take()
        session.send("Subject: t\r\n\r\nhello\r\n.\r\n")
        #expect(session.take() == ["250 2.0.0 Ok: stored as s1.1"])
        let transaction = try #require(session.delivered.first)
        #expect(transaction.recipients.map(\.account.rawValue) == [10, 11])
        #expect(transaction.content == Array("Subject: t\r\n\r\nhello\r\n".utf8))
        #expect(transaction.reversePath == EmailAddress("s@sender.example"))
    }

    @Test func pipelinedBatchIsAnsweredInOrder() {
        var session = SessionHarness()
        _ = session.take()
        session.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<x@elsewhere.example>\r\nRCPT TO:<user@example.com>\r\nDATA\r\n")
        let lines = session.take()
        #expect(Array(lines.suffix(5)) == [
            "250 2.1.0 Sender ok",
            "550 5.1.1 <nobody@example.com> Recipient address rejected: User unknown",
            "554 5.7.1 <x@elsewhere.example> Relay access denied",
            "250 2.1.5 <user@example.com> Recipient ok",
            "354 End data with <CR><LF>.<CR><LF>",
        ])
    }

    @Test func dataWithoutValidRecipientsIsRefused() {
        var session = SessionHarness()
        session.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@example.com>\r\n")
        _ = session.take()
        session.send("DATA\r\n")
        #expect(session.take() == ["554 5.5.1 No valid recipients"])
    }

    @Test func tenThousandCharacterLineGets500AndSessionContinues() {
        var session = SessionHarness()
        session.send("EHLO c\r\n")
        _ = session.take()
        session.send(String(repeating: "A", count: 10_000) + "\r\nNOOP\r\n")
        #expect(session.take() == ["500 5.5.2 Line too long", "250 2.0.0 Ok"])
        #expect(!session.closed)
    }

    @Test func smugglingAttemptStaysInsideTheMessageAndIsRejected() {
        var session = SessionHarness()
        session.send("EHLO c\r\nMAIL FROM:<s@sender.example>\r\nRCPT TO:<user@example.com>\r\nDATA\r\n")
        _ = session.take()
        session.send("Subject: a\r\n\r\nbody\n.\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<other@example.com>\r\nDATA\r\nforged\r\n.\r\nNOOP\r\n")
        #expect(session.take() == [
            "550 5.5.2 Message contains a bare CR or LF; lines must end with CRLF (RFC 5321 section 2.3.8)",
            "250 2.0.0 Ok",
        ])
        #expect(session.delivered.isEmpty)
    }

    @Test func oversizedMessageIsRefusedAtTheEnd() {
        var limits = Limits()
        limits.smtpMessageOctetsMax = 64
        var session = SessionHarness(limits: limits)
        session.send("EHLO c\r\nMAIL FROM:<> SIZE=65\r\n")
        #expect(session.take().last == "552 5.3.4 Message size exceeds fixed maximum message size")
        session.send("MAIL FROM:<>\r\nRCPT TO:<user@example.com>\r\nDATA\r\n")
        _ = session.take()
        session.send(String(repeating: "x", count: 100) + "\r\n.\r\n")
        #expect(session.take() == ["552 5.3.4 Message size exceeds fixed maximum message size"])
        #expect(session.delivered.isEmpty)
        session.send("MAIL FROM:<>\r\n")
        #expect(session.codes() == ["250"])
    }

    @Test func chunkingDeliversAfterLastChunk() throws {
        var session = SessionHarness()
        session.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<user@example.com>\r\n")
        _ = session.take()
        session.send("BDAT 5\r\nab\ncdBDAT 3 LAST\r\nxyz")
        #expect(session.take() == ["250 2.0.0 5 octets received", "250 2.0.0 Ok: stored as s1.1"])
        #expect(try #require(session.delivered.first).content == Array("ab\ncdxyz".utf8))
    }

    @Test func refusedChunkIsStillSkipped() {
        var session = SessionHarness()
        session.send("EHLO c\r\n")
        _ = session.take()
        session.send("BDAT 12\r\nQUIT\r\nQUIT\r\nNOOP\r\n")
        #expect(session.take() == ["503 5.5.1 Need MAIL command first", "250 2.0.0 Ok"])
        #expect(!session.closed)
    }

    @Test func unreadableChunkSizeClosesTheConnection() {
        var session = SessionHarness()
        session.send("EHLO c\r\nBDAT many\r\nNOOP\r\n")
        #expect(session.take().last == "500 5.5.2 Syntax: BDAT <size> [LAST]; closing connection")
        #expect(session.closed)
    }

    @Test func startTLSDropsPipelinedPlaintextAndResetsSession() {
        var session = SessionHarness()
        session.send("EHLO c\r\n")
        _ = session.take()
        session.send("STARTTLS\r\nMAIL FROM:<injected@x.example>\r\n")
        #expect(session.take() == ["220 2.0.0 Ready to start TLS"])
        #expect(session.tlsStarted == 1)
        session.send("MAIL FROM:<>\r\nEHLO c\r\n")
        let lines = session.take()
        #expect(lines.first == "503 5.5.1 Send EHLO or HELO first")
        #expect(!lines.contains("250-STARTTLS") && !lines.contains("250 STARTTLS"))
    }

    @Test func submissionRequiresAuthAndTLSForAuth() {
        var session = SessionHarness(mode: .submission)
        session.send("EHLO c\r\n")
        #expect(!session.take().contains { $0.contains("AUTH") })
        session.send("MAIL FROM:<user@example.com>\r\nAUTH PLAIN AHVzZXJAZXhhbXBsZS5jb20Ac2VjcmV0\r\n")
        #expect(session.take() == ["530 5.7.0 Authentication required",
                                   "538 5.7.11 Encryption required for requested authentication mechanism"])
        #expect(session.credentials.isEmpty)
    }

    @Test func authPlainAfterStartTLS() throws {
        var session = SessionHarness(mode: .submission)
        session.send("EHLO c\r\nSTARTTLS\r\n")
        session.send("EHLO c\r\n")
        #expect(session.take().contains("250 AUTH PLAIN LOGIN"))
        session.send("AUTH PLAIN AHVzZXJAZXhhbXBsZS5jb20Ac2VjcmV0\r\n")
        #expect(session.take() == ["235 2.7.0 Authentication successful"])
        #expect(session.credentials == [SMTPCredentials(username: "user@example.com", password: "secret")])
        #expect(session.machine.authenticatedIdentity == "user@example.com")
        session.send("MAIL FROM:<boss@example.com>\r\nMAIL FROM:<user@example.com>\r\nRCPT TO:<x@elsewhere.example>\r\n")
        #expect(session.transcript.first == "553 5.7.1 <boss@example.com> Sender address rejected: not owned by user user@example.com")
        #expect(session.take().last == "550 5.7.1 <x@elsewhere.example> Sending to other domains is not available: this server has no outbound queue yet")
        session.send("RCPT TO:<other@example.com>\r\nDATA\r\nhi\r\n.\r\n")
        #expect(session.take().last == "250 2.0.0 Ok: stored as s1.1")
        let trace = try #require(session.delivered.first).trace
        #expect(trace.protocolKeyword(smtpUTF8: false) == "ESMTPSA")
    }

    @Test func authLoginFromLoopbackWithoutTLS() {
        var session = SessionHarness(mode: .submission, tls: false, loopback: true)
        session.send("EHLO c\r\nAUTH LOGIN\r\n")
        #expect(session.take().suffix(2) == ["250 AUTH PLAIN LOGIN", "334 VXNlcm5hbWU6"])
        session.send("dXNlckBleGFtcGxlLmNvbQ==\r\n")
        #expect(session.take() == ["334 UGFzc3dvcmQ6"])
        session.authOutcome = .failure
        session.send("c2VjcmV0\r\n")
        #expect(session.take() == ["535 5.7.8 Authentication credentials invalid"])
        #expect(session.credentials == [SMTPCredentials(username: "user@example.com", password: "secret")])
        session.send("AUTH LOGIN\r\n*\r\n")
        #expect(session.take() == ["334 VXNlcm5hbWU6", "501 5.0.0 Authentication cancelled"])
    }

    @Test func credentialsNeverAppearInDescriptions() {
        let credentials = SMTPCredentials(username: "u", password: "hunter2")
        #expect(!"\(SMTPAction.authenticate(credentials))".contains("hunter2"))
    }

    @Test func lmtpRepliesOncePerRecipient() {
        var session = SessionHarness(mode: .lmtp)
        #expect(session.take() == ["220 mx.example LMTP Stal ready"])
        session.send("EHLO c\r\nLHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<user@example.com>\r\nRCPT TO:<other@example.com>\r\nDATA\r\n")
        #expect(session.take().first == "500 5.5.1 This is an LMTP server: use LHLO")
        session.deliveryOutcome = .mailboxFull
        session.send("x\r\n.\r\n")
        #expect(session.take() == ["552 5.2.2 Mailbox full", "552 5.2.2 Mailbox full"])
        session.deliveryOutcome = .delivered
        session.send("MAIL FROM:<>\r\nRCPT TO:<user@example.com>\r\nRCPT TO:<other@example.com>\r\nDATA\r\nx\r\n.\r\n")
        #expect(session.take().suffix(2) == ["250 2.1.5 <user@example.com> Delivered as s1.2",
                                             "250 2.1.5 <other@example.com> Delivered as s1.2"])
    }

    @Test func tooManyErrorsCloseTheSession() {
        var limits = Limits()
        limits.smtpErrorsBeforeDisconnect = 3
        var session = SessionHarness(limits: limits)
        session.send("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n")
        #expect(session.codes() == ["220", "500", "500", "500", "421"])
        #expect(session.closed)
        #expect(session.machine.receive(Array("NOOP\r\n".utf8)).isEmpty)
    }

    @Test func tooManyRecipients() {
        var limits = Limits()
        limits.smtpRecipientsMax = 1
        var session = SessionHarness(limits: limits)
        session.send("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<user@example.com>\r\nRCPT TO:<other@example.com>\r\n")
        #expect(session.take().suffix(3) == ["250 2.1.0 Sender ok", "250 2.1.5 <user@example.com> Recipient ok", "452 4.5.3 Too many recipients"])
    }

    @Test func nonASCIIAddressNeedsSMTPUTF8() {
        var session = SessionHarness()
        session.send("EHLO c\r\nMAIL FROM:<jöran@example.org>\r\nMAIL FROM:<jöran@example.org> SMTPUTF8\r\n")
        #expect(session.take().suffix(2) == ["553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter", "250 2.1.0 Sender ok"])
    }

    @Test func implicitTLSOffersAuthButNotStartTLS() {
        let configuration = SMTPSessionConfiguration(hostname: "h", mode: .submission, tlsAvailable: false, implicitTLS: true)
        var machine = SMTPSessionStateMachine(configuration: configuration, peer: SMTPPeer(address: "192.0.2.1", isLoopback: false),
                                              sessionID: "i")
        _ = machine.start()
        let actions = machine.receive(Array("EHLO c\r\n".utf8))
        guard case .send(let reply)? = actions.first else {
            Issue.record("no EHLO reply")
            return
        }
        #expect(reply.lines.last == "AUTH PLAIN LOGIN")
        #expect(!reply.lines.contains("STARTTLS"))
        #expect(machine.tlsActive)
    }

    @Test func idleTimeoutSends421AndCloses() {
        var session = SessionHarness()
        _ = session.take()
        session.perform(session.machine.idleTimeoutElapsed())
        #expect(session.take() == ["421 4.4.2 mx.example Timeout waiting for client input, closing connection"])
        #expect(session.closed)
        #expect(session.machine.idleTimeoutElapsed().isEmpty)
    }

    static let mxScript: String = {
        var text = "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<user@example.com>\r\nRCPT TO:<nobody@example.com>\r\n"
        text += "DATA\r\nSubject: x\r\n\r\n..dots\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<other@example.com>\r\nBDAT 4\r\nab\r\n"
        text += "BDAT 2 LAST\r\nyz"
        text += String(repeating: "L", count: 5000)
        text += "\r\nQUIT\r\n"
        return text
    }()
    static let lmtpScript = "LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<user@example.com>\r\nRCPT TO:<other@example.com>\r\nDATA\r\nx\n.\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<user@example.com>\r\nDATA\r\nok\r\n.\r\nQUIT\r\n"
    static let submissionScript = "EHLO c\r\nAUTH LOGIN\r\ndXNlckBleGFtcGxlLmNvbQ==\r\nc2VjcmV0\r\nMAIL FROM:<user@example.com>\r\nRCPT TO:<user+t@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"
    static let scripts: [(SMTPMode, String)] = [(.mx, mxScript), (.lmtp, lmtpScript), (.submission, submissionScript)]

    @Test(arguments: scripts)
    func dripFedSessionMatchesWholeInput(mode: SMTPMode, script: String) {
        var whole = SessionHarness(mode: mode, loopback: true)
        whole.verdicts["user+t@example.com"] = whole.verdicts["user@example.com"]
        var drip = whole
        whole.send(script)
        for byte in script.utf8 { drip.send(bytes: [byte]) }
        #expect(drip.transcript == whole.transcript)
        #expect(drip.delivered == whole.delivered)
        #expect(drip.closed && whole.closed)
        #expect(!whole.delivered.isEmpty)
    }

    @Test func pausesWhileAwaitingAnswers() {
        let configuration = SMTPSessionConfiguration(hostname: "h", mode: .mx, tlsAvailable: false)
        var machine = SMTPSessionStateMachine(configuration: configuration, peer: SMTPPeer(address: "", isLoopback: false), sessionID: "p")
        _ = machine.start()
        let first = machine.receive(Array("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@h>\r\nRCPT TO:<b@h>\r\n".utf8))
        #expect(first.last == .checkRecipient(EmailAddress(localPart: "a", domain: "h")))
        #expect(machine.isAwaitingResult)
        #expect(machine.receive(Array("NOOP\r\n".utf8)).isEmpty)
        let second = machine.recipientResolved(.unknownUser)
        #expect(second.last == .checkRecipient(EmailAddress(localPart: "b", domain: "h")))
    }
}
