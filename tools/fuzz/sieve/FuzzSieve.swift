import StalFuzzSupport
import StalCore
import StalSieve

// One fuzz input as compiled-script bytes (decoder must reject garbage) and as a Sieve
// script: compile it (lexer, parser, validator), round-trip the binary form, and run it against a small multipart message with tight limits. Built by
// tools/fuzz/run-sieve with -sanitize=fuzzer (STAL_FUZZ defined, libFuzzer supplies main);
// a plain build is a replay driver that runs the files given as arguments.
let fuzzMessage = SieveMIMEMessage("""
From: "Fuzz" <fuzz+tag@example.org>\r
To: a@example.com, b@example.net\r
Subject: =?utf-8?q?fuzz_=E2=9C=93?=\r
Date: Tue, 14 Nov 2023 22:13:20 +0100\r
Message-ID: <f@example.org>\r
Content-Type: multipart/mixed; boundary=b\r
\r
--b\r
Content-Type: text/plain; charset=iso-8859-1\r
Content-Transfer-Encoding: quoted-printable\r
\r
caf=E9\r
--b\r
Content-Type: text/html\r
\r
<p>hi</p>\r
--b--\r

""")

struct FuzzHost: SieveHost {
    mutating func includeScript(name: String, location: SieveIncludeLocation) -> String? {
        name == "self" ? "require \"include\"; include \"self\";" : nil
    }
    mutating func mailboxExists(_ name: String) -> Bool { name.count % 2 == 0 }
}

func execute(_ script: SieveScript) {
    var options = SieveRuntimeOptions(now: Timestamp(secondsSinceEpoch: 1_700_000_000))
    options.limits.maxInstructions = 10_000
    options.limits.maxVariableBytes = 1024
    var interpreter = SieveInterpreter(host: FuzzHost(), options: options)
    let outcome = interpreter.run(script, context: SieveExecutionContext(message: fuzzMessage, envelope: SieveEnvelope(from: "fuzz@example.org", to: "a@example.com")))
    let executor = SieveResultExecutor(policy: SieveDeliveryPolicy(), now: options.now, messageIDSeed: "fuzz")
    _ = executor.execute(outcome.actions, message: outcome.context.message, envelope: outcome.context.envelope)
}

func exercise(_ bytes: [UInt8]) {
    if let decoded = try? SieveBinary.decode(bytes) { execute(decoded) }
    let text = String(decoding: bytes, as: UTF8.self)
    guard let compiled = try? SieveCompiler.compile(text) else { return }
    guard let script = try? SieveBinary.decode(SieveBinary.encode(compiled)), script.commands == compiled.commands else {
        fatalError("binary round trip changed the program")
    }
    execute(script)
}

#if STAL_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSieve(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    exercise(FuzzDriver.bytes(data, size))
    return 0
}

@_cdecl("fuzz_sieve_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzSieve(data, size) }
}
#else
@main
struct ReplayFuzzInputs {
    static func main() {
        FuzzDriver.replayFuzzInputs(tool: "fuzz-sieve", exercise)
    }
}
#endif
