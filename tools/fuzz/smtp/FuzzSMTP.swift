import StalFuzzSupport
import StalCore
import StalSMTPCore

// One fuzz input through a whole SMTP session: the first byte picks the mode, TLS/loopback
// and the read size; the rest is fed as client bytes, every requested lookup, login and
// delivery is answered, and invariants are checked on every action. Built by
// tools/fuzz/run-smtp with -sanitize=fuzzer (STAL_FUZZ defined); a plain build replays the
// files given as arguments, e.g. saved crash inputs.
func exercise(_ bytes: [UInt8]) {
    guard let control = bytes.first else { return }
    let modes: [SMTPMode] = [.mx, .submission, .lmtp]
    var limits = Limits()
    limits.smtpCommandLineOctetsMax = 64
    limits.smtpMessageOctetsMax = 256
    limits.smtpRecipientsMax = 4
    let configuration = SMTPSessionConfiguration(hostname: "mx.example", mode: modes[Int(control % 3)], limits: limits,
                                                 tlsAvailable: control & 4 != 0)
    var machine = SMTPSessionStateMachine(configuration: configuration,
                                          peer: SMTPPeer(address: "192.0.2.1", isLoopback: control & 8 != 0),
                                          sessionID: "f")
    let chunk = Int(control >> 4) + 1
    var verdictIndex = 0
    var closed = false

    func handle(_ actions: [SMTPAction]) {
        var pending = actions[...]
        while let action = pending.popFirst() {
            precondition(!closed, "action after close")
            switch action {
            case .send(let reply):
                let wire = reply.encode()
                precondition(wire.filter { $0 == 10 }.count == reply.lines.count, "reply line count")
                precondition(wire.filter { $0 == 13 }.count == reply.lines.count, "bare CR in reply")
            case .startTLS:
                break
            case .checkRecipient:
                let verdicts: [SMTPRecipientVerdict] = [.local(tenant: TenantID(rawValue: 1), account: AccountID(rawValue: 1)),
                                                        .unknownUser, .notLocal, .temporaryFailure]
                verdictIndex += 1
                pending.append(contentsOf: machine.recipientResolved(verdicts[verdictIndex % verdicts.count]))
            case .checkSender:
                verdictIndex += 1
                pending.append(contentsOf: machine.senderChecked(allowed: verdictIndex % 2 == 0))
            case .authenticate:
                pending.append(contentsOf: machine.authenticationCompleted(.success(identity: "u@mx.example")))
            case .deliver(let transaction):
                precondition(!transaction.recipients.isEmpty, "delivery without recipients")
                precondition(transaction.content.count <= limits.smtpMessageOctetsMax, "message over the limit")
                _ = transaction.traceHeaders(receivedAt: Timestamp(secondsSinceEpoch: 0))
                pending.append(contentsOf: machine.deliveryCompleted(transaction.recipients.map { _ in .delivered }))
            case .close:
                closed = true
            }
        }
    }

    handle(machine.start())
    var index = 1
    while index < bytes.count {
        let end = min(bytes.count, index + chunk)
        handle(machine.receive(bytes[index..<end]))
        index = end
    }
}

#if STAL_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    exercise(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("fuzz_smtp_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzSMTP(data, size) }
}
#else
@main
struct ReplayFuzzInputs {
    static func main() {
        FuzzDriver.replayFuzzInputs(tool: "fuzz-smtp", exercise)
    }
}
#endif
