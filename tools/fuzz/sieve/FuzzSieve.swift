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
    exercise(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

// SwiftPM links every executable with `main` aliased to `<module>_main`; this entry point
// hands control to libFuzzer's driver instead.
@_cdecl("fuzz_sieve_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzSieve(data, size) }
}
#else
import Foundation

@main
struct ReplayFuzzInputs {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("fuzz-sieve: cannot read \(path)\n".utf8))
                exit(1)
            }
            exercise([UInt8](data))
            print("ok \(path)")
        }
    }
}
#endif
