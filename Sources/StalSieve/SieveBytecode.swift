/// The executable form of a script: a flat instruction array with jump targets for control
/// flow, and a constant pool holding every command and test (with their arguments) in
/// pre-order of the program tree. Commands and leaf tests are single instructions whose
/// operand is their pool index; `if`/`elsif`/`else`, `allof`/`anyof`/`not`, `true`/`false`
/// become conditional jumps (short-circuit), `foreverypart` a loop with a back jump,
/// host-extension blocks a bracketed range.
struct SieveBytecode: Sendable, Equatable {
    enum Opcode: UInt8, Sendable {
        /// A command without control flow: `command(pool[call])`.
        case command = 1
        /// A leaf test; its result goes into the condition register.
        case test = 2
        case jumpIfFalse = 3
        case jumpIfTrue = 4
        case jump = 5
        case stop = 6
        /// `return` (RFC 6609): ends the current script, the included one or the main one.
        case returnFromScript = 7
        case include = 8
        /// `foreverypart` (RFC 5703): target is the instruction after the matching `loopNext`.
        case loopStart = 9
        /// Next part, or leave the loop; target is the first instruction of the loop body.
        case loopNext = 10
        case breakLoop = 11
        /// A host-extension command with a block; target is the instruction after `customBlockEnd`.
        case customBlock = 12
        case customBlockEnd = 13
    }

    struct Instruction: Hashable, Sendable {
        var opcode: Opcode
        /// Pool index of the command or test this instruction belongs to (its source
        /// location and arguments).
        var call: Int32
        /// Jump target (instruction index) for jumps, loops and blocks; 0 otherwise.
        var target: Int32
    }

    var instructions: [Instruction]
    var calls: [SieveCall]

    init(instructions: [Instruction], calls: [SieveCall]) {
        self.instructions = instructions
        self.calls = calls
    }

    init(compiling commands: [SieveCall]) {
        var emitter = Emitter()
        emitter.block(commands)
        self = SieveBytecode(instructions: emitter.code, calls: emitter.pool)
    }

    private struct Emitter {
        var code: [Instruction] = []
        var pool: [SieveCall] = []

        mutating func add(_ call: SieveCall) -> Int32 {
            pool.append(call)
            return Int32(pool.count - 1)
        }

        /// Calls that get no instructions (the test and block of a constant-false `ihave`)
        /// still go into the pool, which is the program tree in pre-order.
        mutating func addTree(_ call: SieveCall) {
            _ = add(call)
            for t in call.tests { addTree(t) }
            for c in call.block ?? [] { addTree(c) }
        }

        @discardableResult
        mutating func emit(_ opcode: Opcode, _ call: Int32, target: Int32 = 0) -> Int {
            code.append(Instruction(opcode: opcode, call: call, target: target))
            return code.count - 1
        }

        mutating func patch(_ jumps: [Int], to target: Int) {
            for j in jumps { code[j].target = Int32(target) }
        }

        mutating func block(_ commands: [SieveCall]) {
            var nextClause: [Int] = []
            var chainEnd: [Int] = []
            func continuesChain(_ call: SieveCall) -> Bool {
                !call.isCustom && (call.name == "elsif" || call.name == "else")
            }
            for (position, call) in commands.enumerated() {
                if !continuesChain(call) {
                    patch(nextClause + chainEnd, to: code.count)
                    nextClause = []
                    chainEnd = []
                }
                // A clause jumps over the rest of its chain only when there is a rest.
                let clauseFollows = position + 1 < commands.count && continuesChain(commands[position + 1])
                let index = add(call)
                if call.isCustom {
                    if let body = call.block {
                        let start = emit(.customBlock, index)
                        block(body)
                        emit(.customBlockEnd, index)
                        code[start].target = Int32(code.count)
                    } else {
                        emit(.command, index)
                    }
                    continue
                }
                switch call.name {
                case "if", "elsif":
                    patch(nextClause, to: code.count)
                    if call.constantFalse || call.tests.isEmpty {
                        for t in call.tests { addTree(t) }
                        for c in call.block ?? [] { addTree(c) }
                        nextClause = [emit(.jump, index)]
                    } else {
                        nextClause = jumps(call.tests[0], when: false)
                        block(call.block ?? [])
                        if clauseFollows { chainEnd.append(emit(.jump, index)) }
                    }
                case "else":
                    patch(nextClause, to: code.count)
                    nextClause = []
                    block(call.block ?? [])
                case "stop":
                    emit(.stop, index)
                case "return":
                    emit(.returnFromScript, index)
                case "include":
                    emit(.include, index)
                case "break":
                    emit(.breakLoop, index)
                case "foreverypart":
                    let start = emit(.loopStart, index)
                    block(call.block ?? [])
                    emit(.loopNext, index, target: Int32(start + 1))
                    code[start].target = Int32(code.count)
                default:
                    emit(.command, index)
                }
            }
            patch(nextClause + chainEnd, to: code.count)
        }

        /// Code that jumps when `test` evaluates to `when` and falls through otherwise;
        /// returns the jumps to patch with the target.
        mutating func jumps(_ test: SieveCall, when: Bool) -> [Int] {
            let index = add(test)
            let name = test.isCustom ? "" : test.name
            switch name {
            case "true", "false":
                return (name == "true") == when ? [emit(.jump, index)] : []
            case "not" where test.tests.count == 1:
                return jumps(test.tests[0], when: !when)
            case "allof", "anyof":
                // allof jumps on false as soon as one is false; anyof on true as soon as one is true.
                let shortCircuit = name == "anyof"
                guard let last = test.tests.last else {
                    return (name == "allof") == when ? [emit(.jump, index)] : []
                }
                if when == shortCircuit {
                    var out: [Int] = []
                    for t in test.tests { out += jumps(t, when: when) }
                    return out
                }
                var decided: [Int] = []
                for t in test.tests.dropLast() { decided += jumps(t, when: shortCircuit) }
                let out = jumps(last, when: when)
                patch(decided, to: code.count)
                return out
            default:
                emit(.test, index)
                return [emit(when ? .jumpIfTrue : .jumpIfFalse, index)]
            }
        }
    }
}
