/// Compact binary form of a compiled script, for caches keyed by script version: a host
/// compiles once on PUTSCRIPT, stores these bytes, and loads them on delivery without
/// lexing, parsing or validating again. Layout (all integers LEB128 varints):
///
///     "SVBC" version:u8  capabilities:[string]  callCount
///     pool:[entry]  roots  code:[instruction]
///     entry       = name line column flags:u8(custom, constantFalse, hasBlock)
///                   tags:[(name, argument)] groups:[(group, tag)] positional:[present:u8 argument?]
///                   testCount blockCount?        (the program tree in pre-order)
///     instruction = opcode:u8 call target        (SieveBytecode)
///     argument    = kind:u8 (0 flag, 1 number, 2 string template, 3 list of templates) payload
///     template    = parts:[kind:u8 (0 literal, 1 variable, 2 match index) payload]
///     string      = length UTF-8 bytes
///
/// Loading checks every call against the command and test specifications and requires the
/// instructions to be exactly those the compiler emits for the pool's tree, so a truncated
/// or corrupted entry (a wrong jump, opcode or pool index) is refused with an error.
public enum SieveBinary {
    public static let version: UInt8 = 2
    static let magic: [UInt8] = Array("SVBC".utf8)
    /// Deeper nesting than the parser allows (blocks and tests) means the input is not ours.
    static let maxDepth = 256

    public struct DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "invalid compiled Sieve script at byte \(offset): \(reason)" }
    }

    public static func encode(_ script: SieveScript) -> [UInt8] {
        var w = Writer()
        w.bytes = magic + [version]
        w.varint(script.capabilities.count)
        for c in script.capabilities.sorted() { w.string(c) }
        w.varint(script.callCount)
        let code = script.bytecode
        w.varint(code.calls.count)
        for c in code.calls { w.poolEntry(c) }
        w.varint(script.commands.count)
        w.varint(code.instructions.count)
        for i in code.instructions {
            w.bytes.append(i.opcode.rawValue)
            w.varint(Int(i.call))
            w.varint(Int(i.target))
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> SieveScript {
        var r = Reader(bytes: bytes)
        guard bytes.count >= 5, Array(bytes[0..<4]) == magic else { throw DecodingError(offset: 0, reason: "missing SVBC header") }
        guard bytes[4] == version else { throw DecodingError(offset: 4, reason: "unsupported version \(bytes[4])") }
        r.position = 5
        var capabilities: Set<String> = []
        for _ in 0..<(try r.count()) { capabilities.insert(try r.string()) }
        let callCount = try r.varint()
        var pool: [Reader.PoolEntry] = []
        for _ in 0..<(try r.count()) { pool.append(try r.poolEntry()) }
        let roots = try r.count()
        let treeOffset = r.position
        var cursor = 0
        let commands = try tree(pool, roots: roots, cursor: &cursor, depth: 0, offset: treeOffset)
        guard cursor == pool.count else { throw DecodingError(offset: treeOffset, reason: "\(pool.count - cursor) pool entries outside the program") }
        let codeOffset = r.position
        var instructions: [SieveBytecode.Instruction] = []
        for _ in 0..<(try r.count()) {
            let at = r.position
            guard let opcode = SieveBytecode.Opcode(rawValue: try r.byte()) else { throw DecodingError(offset: at, reason: "unknown opcode") }
            let call = try r.varint(), target = try r.varint()
            guard call >= 0, call < pool.count, target >= 0, target <= Int(Int32.max) else {
                throw DecodingError(offset: at, reason: "operand out of range")
            }
            instructions.append(SieveBytecode.Instruction(opcode: opcode, call: Int32(call), target: Int32(target)))
        }
        guard r.position == bytes.count else { throw DecodingError(offset: r.position, reason: "trailing bytes") }
        try check(commands, asTests: false)
        var script = SieveScript(commands: commands, capabilities: capabilities, warnings: [], callCount: callCount)
        guard script.bytecode.instructions == instructions else {
            throw DecodingError(offset: codeOffset, reason: "instructions do not match the program")
        }
        script.regexes = SieveCompiler.precompiledRegexes(commands)
        return script
    }

    /// Rebuilds `count` calls (and their tests and blocks) from the pre-order pool.
    private static func tree(_ pool: [Reader.PoolEntry], roots count: Int, cursor: inout Int, depth: Int,
                             offset: Int) throws(DecodingError) -> [SieveCall] {
        guard depth < maxDepth else { throw DecodingError(offset: offset, reason: "nesting too deep") }
        guard count <= pool.count - cursor else { throw DecodingError(offset: offset, reason: "pool too short for the program") }
        var out: [SieveCall] = []
        for _ in 0..<count {
            // Children consume entries too: check each time, not only against `count`.
            guard cursor < pool.count else { throw DecodingError(offset: offset, reason: "pool too short for the program") }
            let entry = pool[cursor]
            cursor += 1
            var call = entry.call
            call.tests = try tree(pool, roots: entry.testCount, cursor: &cursor, depth: depth + 1, offset: offset)
            if let n = entry.blockCount { call.block = try tree(pool, roots: n, cursor: &cursor, depth: depth + 1, offset: offset) }
            out.append(call)
        }
        return out
    }

    /// The interpreter indexes arguments by position, so a decoded program must have exactly
    /// the shape the validator would have produced: known names, every positional slot, the
    /// right sub-tests and blocks. A corrupted cache entry is rejected here, not run.
    private static func check(_ calls: [SieveCall], asTests: Bool) throws(DecodingError) {
        for call in calls {
            if call.isCustom {
                try check(call.tests, asTests: true)
                if let b = call.block { try check(b, asTests: false) }
                continue
            }
            guard let spec = asTests ? SieveSpecs.test(call.name) : SieveSpecs.command(call.name) else {
                throw DecodingError(offset: 0, reason: "unknown \(asTests ? "test" : "command") '\(call.name)'")
            }
            guard call.positional.count == spec.positional.count else {
                throw DecodingError(offset: 0, reason: "'\(call.name)' has \(call.positional.count) positional slots, expected \(spec.positional.count)")
            }
            for (slot, p) in zip(call.positional, spec.positional) where slot == nil && !p.optional {
                throw DecodingError(offset: 0, reason: "'\(call.name)' lacks its \(p.label)")
            }
            switch spec.subTests {
            case .none where !call.tests.isEmpty, .one where call.tests.count != 1:
                throw DecodingError(offset: 0, reason: "'\(call.name)' has \(call.tests.count) tests")
            default:
                break
            }
            guard (spec.block == .required) == (call.block != nil) else {
                throw DecodingError(offset: 0, reason: "'\(call.name)' block mismatch")
            }
            try check(call.tests, asTests: true)
            if let b = call.block { try check(b, asTests: false) }
        }
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func varint(_ value: Int) {
            var v = UInt64(bitPattern: Int64(value))
            repeat {
                let byte = UInt8(v & 0x7F)
                v >>= 7
                bytes.append(v == 0 ? byte : byte | 0x80)
            } while v != 0
        }

        mutating func string(_ s: String) {
            varint(s.utf8.count)
            bytes.append(contentsOf: s.utf8)
        }

        mutating func template(_ t: SieveTemplate) {
            varint(t.parts.count)
            for part in t.parts {
                switch part {
                case .literal(let s): bytes.append(0); string(s)
                case .variable(let s): bytes.append(1); string(s)
                case .matchVariable(let n): bytes.append(2); varint(n)
                }
            }
        }

        mutating func argument(_ a: SieveArgument) {
            switch a {
            case .flag: bytes.append(0)
            case .number(let n): bytes.append(1); varint(n)
            case .string(let t): bytes.append(2); template(t)
            case .list(let l):
                bytes.append(3)
                varint(l.count)
                for t in l { template(t) }
            }
        }

        mutating func poolEntry(_ c: SieveCall) {
            string(c.name)
            varint(c.location.line)
            varint(c.location.column)
            bytes.append((c.isCustom ? 1 : 0) | (c.constantFalse ? 2 : 0) | (c.block != nil ? 4 : 0))
            varint(c.tags.count)
            for (k, v) in c.tags.sorted(by: { $0.key < $1.key }) {
                string(k)
                argument(v)
            }
            varint(c.groups.count)
            for (k, v) in c.groups.sorted(by: { $0.key < $1.key }) {
                string(k)
                string(v)
            }
            varint(c.positional.count)
            for p in c.positional {
                if let p {
                    bytes.append(1)
                    argument(p)
                } else {
                    bytes.append(0)
                }
            }
            varint(c.tests.count)
            if let block = c.block { varint(block.count) }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        func fail(_ reason: String) -> DecodingError { DecodingError(offset: position, reason: reason) }

        mutating func byte() throws(DecodingError) -> UInt8 {
            guard position < bytes.count else { throw fail("unexpected end") }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func varint() throws(DecodingError) -> Int {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw fail("varint too long") }
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
            }
            return Int(Int64(bitPattern: value))
        }

        /// An element count; it cannot exceed the bytes left, which bounds allocations.
        mutating func count() throws(DecodingError) -> Int {
            let n = try varint()
            guard n >= 0, n <= bytes.count - position else { throw fail("count \(n) exceeds input") }
            return n
        }

        mutating func string() throws(DecodingError) -> String {
            let n = try count()
            defer { position += n }
            return String(decoding: bytes[position..<(position + n)], as: UTF8.self)
        }

        mutating func template() throws(DecodingError) -> SieveTemplate {
            var parts: [SieveTemplate.Part] = []
            for _ in 0..<(try count()) {
                switch try byte() {
                case 0: parts.append(.literal(try string()))
                case 1: parts.append(.variable(try string()))
                case 2: parts.append(.matchVariable(try varint()))
                default: throw fail("unknown template part")
                }
            }
            return SieveTemplate(parts: parts)
        }

        mutating func argument() throws(DecodingError) -> SieveArgument {
            switch try byte() {
            case 0: return .flag
            case 1: return .number(try varint())
            case 2: return .string(try template())
            case 3:
                var l: [SieveTemplate] = []
                for _ in 0..<(try count()) { l.append(try template()) }
                return .list(l)
            default: throw fail("unknown argument kind")
            }
        }

        struct PoolEntry {
            var call: SieveCall
            var testCount: Int
            var blockCount: Int?
        }

        mutating func poolEntry() throws(DecodingError) -> PoolEntry {
            let name = try string()
            let location = SieveSourceLocation(line: try varint(), column: try varint())
            let flags = try byte()
            var tags: [String: SieveArgument] = [:]
            for _ in 0..<(try count()) { tags[try string()] = try argument() }
            var groups: [String: String] = [:]
            for _ in 0..<(try count()) { groups[try string()] = try string() }
            var positional: [SieveArgument?] = []
            for _ in 0..<(try count()) { positional.append(try byte() == 0 ? nil : try argument()) }
            let testCount = try count()
            let blockCount = flags & 4 != 0 ? try count() : nil
            var call = SieveCall(name: name, location: location, tags: tags, groups: groups, positional: positional,
                                 tests: [], block: nil, isCustom: flags & 1 != 0)
            call.constantFalse = flags & 2 != 0
            return PoolEntry(call: call, testCount: testCount, blockCount: blockCount)
        }
    }
}
