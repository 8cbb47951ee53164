import Foundation
import StalCore
import StalSieve
import Testing

/// Inputs the fuzzer once crashed on (tools/fuzz/sieve-regressions), replayed through the
/// compiler, the binary form and the interpreter.
@Suite("Fuzz regressions")
struct SieveFuzzRegressionTests {
    static var directory: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/", !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("tools/fuzz/sieve-regressions")
    }

    @Test("every saved crash input is handled")
    func replay() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { !$0.hasPrefix(".") }
        #expect(!names.isEmpty)
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent(name)))
            _ = try? SieveBinary.decode(bytes)
            guard let script = try? SieveCompiler.compile(String(decoding: bytes, as: UTF8.self)) else { continue }
            var interpreter = SieveInterpreter(host: SieveNullHost(), options: SieveRuntimeOptions(now: testNow))
            let outcome = interpreter.run(script, context: SieveExecutionContext(message: SieveMIMEMessage(sampleMessage),
                                                                                 envelope: SieveEnvelope(from: "a@example.org", to: "b@example.com")))
            #expect(!outcome.actions.isEmpty, "\(name)")
        }
    }

    @Test("a very long identifier at the start of the script is a diagnostic")
    func longIdentifierAtStart() {
        #expect(throws: SieveCompileError.self) { try SieveCompiler.compile(String(repeating: "a", count: 40) + ";") }
    }
}
