import StalFuzzSupport
import StalCore
import StalIMAPCore

// One fuzz input through the IMAP framing decoder, the grammar parser and the session
// state machine (in every RFC state). Built by tools/fuzz/run-imap with -sanitize=fuzzer
// (STAL_FUZZ defined, libFuzzer supplies main); a plain build replays the files given.
func exercise(_ bytes: [UInt8]) {
    var limits = Limits()
    limits.imapCommandLineOctetsMax = 4096
    limits.imapLiteralOctetsMax = 4096
    limits.imapAppendOctetsMax = 16384
    for stage in 0..<3 {
        var decoder = IMAPFrameDecoder(configuration: .init(limits: limits))
        var machine = IMAPSessionStateMachine(configuration: .init(startTLSAvailable: true, connectionIsTLS: false,
                                                                    remoteIsLoopback: true, badCommandsBeforeDisconnect: 1000))
        if stage >= 1 {
            _ = machine.receive(IMAPFrame(text: "a LOGIN u p"))
            _ = machine.authenticationFinished(.succeeded)
        }
        if stage == 2 { machine.selected(readOnly: false) }
        decoder.append(bytes)
        var events = 0
        while let event = decoder.next(), events < 10_000 {
            events += 1
            switch event {
            case .frame(let frame):
                _ = IMAPCommandParser.parse(frame)
                _ = machine.receive(frame)
            case .rejected(let tag, let error):
                _ = machine.frameRejected(tag: tag, error)
            case .continuationRequested:
                break
            }
            decoder.expectsRawLine = machine.expectsRawLine
        }
    }
}

#if STAL_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMAP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    exercise(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("fuzz_imap_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzIMAP(data, size) }
}
#else
@main
struct ReplayFuzzInputs {
    static func main() {
        FuzzDriver.replayFuzzInputs(tool: "fuzz-imap", exercise)
    }
}
#endif
