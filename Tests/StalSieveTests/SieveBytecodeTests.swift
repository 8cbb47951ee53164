import Foundation
import StalCore
@testable import StalSieve
import Testing

@Suite("Bytecode: linear instructions, serialised and checked on load")
struct SieveBytecodeTests {
    @Test("every RFC example round-trips through the binary form to the same bytecode")
    func rfcExamplesRoundTrip() throws {
        let files = RFCExampleTests.files
        #expect(files.count >= 20)
        for name in files {
            let text = try String(contentsOf: RFCExampleTests.directory.appendingPathComponent(name), encoding: .utf8)
            let script = try SieveCompiler.compile(text)
            let bytes = SieveBinary.encode(script)
            let decoded = try SieveBinary.decode(bytes)
            #expect(decoded.bytecode == script.bytecode, "\(name)")
            #expect(!decoded.bytecode.instructions.isEmpty, "\(name)")
            #expect(SieveBinary.encode(decoded) == bytes, "\(name)")
        }
    }

    @Test("tests compile to short-circuit jumps")
    func shortCircuit() throws {
        let script = try SieveCompiler.compile("""
            if anyof (header :is "a" "1", not exists "b") { keep; } elsif allof (true, size :over 1) { discard; } else { stop; }
            """)
        let ops = script.bytecode.instructions.map(\.opcode)
        #expect(ops == [.test, .jumpIfTrue, .test, .jumpIfTrue, .command, .jump,
                        .test, .jumpIfFalse, .command, .jump, .stop])
        let targets = script.bytecode.instructions.map(\.target)
        // anyof: the first true jumps into the body (4); `not exists` true means "b" is absent.
        #expect(targets[1] == 4 && targets[3] == 6)
        #expect(targets[5] == 11 && targets[7] == 10 && targets[9] == 11)
    }

    @Test("truncated, corrupted or inconsistent bytecode is refused, never run")
    func corruptRefused() throws {
        let script = try SieveCompiler.compile("""
            require ["fileinto", "foreverypart"];
            foreverypart { if header :is "a" "b" { fileinto "x"; break; } }
            if anyof (size :over 1K, header :contains "subject" "y") { discard; stop; }
            """)
        let bytes = SieveBinary.encode(script)
        for cut in 0..<bytes.count {
            #expect(throws: SieveBinary.DecodingError.self) { try SieveBinary.decode(Array(bytes[0..<cut])) }
        }
        // Any single-byte change in the code section (count, then opcode, pool index and
        // target per instruction, one byte each here) is refused; elsewhere nothing traps.
        let instructions = script.bytecode.instructions.count
        #expect(instructions < 128 && script.bytecode.calls.count < 128)
        let codeStart = bytes.count - 1 - 3 * instructions
        #expect(bytes[codeStart] == UInt8(instructions))
        for i in 5..<bytes.count {
            for flip: UInt8 in [0x01, 0x02, 0x10, 0x80, 0xFF] {
                var changed = bytes
                changed[i] ^= flip
                let decoded = try? SieveBinary.decode(changed)
                if i >= codeStart { #expect(decoded == nil, "code byte \(i) ^ \(flip) was accepted") }
            }
        }
        // The last instruction is `stop` (opcode, pool index, target 0): point it elsewhere.
        var jumped = bytes
        jumped[jumped.count - 1] = 1
        do {
            _ = try SieveBinary.decode(jumped)
            Issue.record("a changed jump target was accepted")
        } catch {
            #expect(error.reason.contains("instructions do not match"))
        }
        var opcode = bytes
        opcode[opcode.count - 3] = 99
        #expect(throws: SieveBinary.DecodingError(offset: opcode.count - 3, reason: "unknown opcode")) { try SieveBinary.decode(opcode) }
    }

    @Test("the budget is charged per executed instruction, skipped branches cost nothing")
    func budgetPerInstruction() throws {
        let text = "if header :is \"subject\" \"x\" { discard; fileinto \"a\"; fileinto \"b\"; } keep;"
        let script = try SieveCompiler.compile("require \"fileinto\";" + text)
        // test, jumpIfFalse, three commands in the skipped body, keep.
        #expect(script.bytecode.instructions.count == 6)
        var options = SieveRuntimeOptions(now: testNow)
        options.limits.maxInstructions = 3
        #expect(try run("require \"fileinto\";" + text, options: options).error == nil)
        options.limits.maxInstructions = 2
        #expect(try run("require \"fileinto\";" + text, options: options).error?.kind == .instructionBudgetExceeded)

        // A loop is charged per iteration: loopStart once, then body and loopNext per part.
        let loop = "require [\"foreverypart\", \"fileinto\"]; foreverypart { fileinto \"p\"; }"
        let message = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n--b\n\nthree\n--b--\n"
        options.limits.maxInstructions = 7
        #expect(try run(loop, message: message, options: options).error == nil)
        options.limits.maxInstructions = 6
        #expect(try run(loop, message: message, options: options).error?.kind == .instructionBudgetExceeded)
    }
}
