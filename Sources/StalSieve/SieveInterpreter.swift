import StalCore
import StalMIME

/// Outcome of one run. On a runtime error the script's actions are dropped and the message is
/// kept (RFC 5228 §2.10.6), so mail is never lost; `error` says why.
public struct SieveRunOutcome: Sendable {
    public var context: SieveExecutionContext
    public var error: SieveRuntimeError?

    public var actions: [SieveAction] {
        if error != nil { return [.keep(flags: nil)] }
        return context.result.finalActions
    }
}

/// Interpreter over a script's bytecode (`SieveBytecode`): one loop over the instruction
/// array, each executed instruction costing one unit of the instruction budget; the host
/// answers questions through `SieveHost`.
public struct SieveInterpreter<Host: SieveHost> {
    public var host: Host
    public private(set) var options: SieveRuntimeOptions

    private struct Frame {
        var locals: [String: String] = [:]
        var globalNames: Set<String> = []
        var capabilities: Set<String>
        var regexes: [String: SieveRegex]
    }

    private enum Flow: Error {
        case stop
        /// A `break` whose loop is in a script that included this one.
        case breakLoop(String?)
        case unwind
        case failure(SieveRuntimeError)
    }

    private var frames: [Frame] = []
    private var globals: [String: String] = [:]
    private var matchVariables: [String] = []
    private var internalFlags: [String] = []
    private var instructions = 0
    private var includeStack: [String] = []
    private var includedOnce: Set<String> = []
    private var includeCount = 0
    private var currentPart: Int?

    public init(host: Host, options: SieveRuntimeOptions) {
        self.host = host
        self.options = options
    }

    /// Runs `script`. The context's result is extended, so a host can run several scripts
    /// (sieve_before/after) into one result.
    public mutating func run(_ script: SieveScript, context: SieveExecutionContext) -> SieveRunOutcome {
        var context = context
        frames = [Frame(capabilities: script.capabilities, regexes: script.regexes)]
        instructions = 0
        takeReplacementFlags(&context)
        do {
            try execute(script.bytecode, &context)
        } catch Flow.failure(let e) {
            context.errors.append(e.description)
            return SieveRunOutcome(context: context, error: e)
        } catch {
        }
        context.result.implicitKeepFlags = internalFlags.isEmpty ? nil : internalFlags
        return SieveRunOutcome(context: context, error: nil)
    }

    // MARK: - Commands

    private mutating func tick(_ call: SieveCall) throws {
        instructions += 1
        if instructions > options.limits.maxInstructions {
            throw Flow.failure(SieveRuntimeError(.instructionBudgetExceeded, at: call.location,
                                                 "more than \(options.limits.maxInstructions) instructions"))
        }
    }

    private struct Loop {
        var name: String?
        var parts: [Int]
        var position: Int
        var body: Int
        var end: Int
        var savedPart: Int?
        var blockDepth: Int
    }

    private struct ExtensionBlock {
        var evaluated: SieveEvaluatedCall
        var end: Int
        var loopDepth: Int
    }

    /// Runs one script's bytecode. Loops and extension blocks are per script: a `break` or
    /// an error inside an included script that its own loops or blocks do not catch goes
    /// to the including script's, as in the nesting of the source.
    private mutating func execute(_ code: SieveBytecode, _ context: inout SieveExecutionContext) throws {
        let entryPart = currentPart
        defer { currentPart = entryPart }
        var loops: [Loop] = []
        var blocks: [ExtensionBlock] = []
        var condition = false
        var pc = 0
        let instructions = code.instructions
        while pc < instructions.count {
            let instruction = instructions[pc]
            let call = code.calls[Int(instruction.call)]
            pc += 1
            do {
                try tick(call)
                switch instruction.opcode {
                case .command:
                    try command(call, &context)
                case .test:
                    condition = try test(call, &context)
                case .jumpIfFalse:
                    if !condition { pc = Int(instruction.target) }
                case .jumpIfTrue:
                    if condition { pc = Int(instruction.target) }
                case .jump:
                    pc = Int(instruction.target)
                case .stop:
                    throw Flow.stop
                case .returnFromScript:
                    return
                case .include:
                    try include(call, &context)
                case .loopStart:
                    let name = try call.tag("name").map { try string($0, call) }
                    let parts = currentPart.map { Self.descendants(of: $0, in: context.message.parts) }
                        ?? Array(context.message.parts.indices.dropFirst())
                    if parts.isEmpty {
                        pc = Int(instruction.target)
                    } else {
                        loops.append(Loop(name: name, parts: parts, position: 0, body: pc, end: Int(instruction.target),
                                          savedPart: currentPart, blockDepth: blocks.count))
                        currentPart = parts[0]
                    }
                case .loopNext:
                    guard var loop = loops.popLast() else { throw fail(.invalidArgument, call, "loop end without a loop") }
                    loop.position += 1
                    if loop.position < loop.parts.count {
                        currentPart = loop.parts[loop.position]
                        pc = loop.body
                        loops.append(loop)
                    } else {
                        currentPart = loop.savedPart
                    }
                case .breakLoop:
                    let name = try call.tag("name").map { try string($0, call) }
                    try breakLoop(name, &loops, &blocks, &pc)
                case .customBlock:
                    let evaluated = try evaluate(call)
                    let outcome = host.executeExtension(evaluated, context: &context)
                    takeReplacementFlags(&context)
                    switch outcome {
                    case .runBlock:
                        blocks.append(ExtensionBlock(evaluated: evaluated, end: Int(instruction.target), loopDepth: loops.count))
                    case .unwindBlock:
                        throw Flow.unwind
                    case .done, .test, .matchValues:
                        pc = Int(instruction.target)
                    }
                case .customBlockEnd:
                    guard let block = blocks.popLast() else { throw fail(.invalidArgument, call, "block end without a block") }
                    host.extensionBlockEnded(block.evaluated, unwound: false, context: &context)
                }
            } catch Flow.unwind where !blocks.isEmpty {
                unwind(&loops, &blocks, &pc, &context)
            } catch Flow.failure(let e) where !blocks.isEmpty {
                context.errors.append(e.description)
                unwind(&loops, &blocks, &pc, &context)
            } catch Flow.stop {
                for block in blocks.reversed() { host.extensionBlockEnded(block.evaluated, unwound: false, context: &context) }
                throw Flow.stop
            } catch Flow.breakLoop(let name) {
                try breakLoop(name, &loops, &blocks, &pc)
            }
        }
    }

    /// Leaves the innermost loop named `name` (any loop when nil), and the extension blocks
    /// opened inside it without ending them, as leaving them by `break` always did.
    private mutating func breakLoop(_ name: String?, _ loops: inout [Loop], _ blocks: inout [ExtensionBlock], _ pc: inout Int) throws {
        guard let k = loops.lastIndex(where: { name == nil || $0.name == name }) else { throw Flow.breakLoop(name) }
        currentPart = loops[k].savedPart
        pc = loops[k].end
        blocks.removeSubrange(loops[k].blockDepth...)
        loops.removeSubrange(k...)
    }

    /// An extension block ends early (a failure inside it, or the host asked to unwind):
    /// the loops opened inside it are left and execution continues after it.
    private mutating func unwind(_ loops: inout [Loop], _ blocks: inout [ExtensionBlock], _ pc: inout Int,
                                 _ context: inout SieveExecutionContext) {
        let block = blocks.removeLast()
        if loops.count > block.loopDepth {
            currentPart = loops[block.loopDepth].savedPart
            loops.removeSubrange(block.loopDepth...)
        }
        host.extensionBlockEnded(block.evaluated, unwound: true, context: &context)
        pc = block.end
    }

    private func fail(_ kind: SieveRuntimeError.Kind, _ call: SieveCall, _ text: String = "") -> Flow {
        .failure(SieveRuntimeError(kind, at: call.location, text))
    }

    /// Actions that make the host send a message (redirect copies, replies, notifications,
    /// rejection notices), bounded by `maxOutgoingMessages`.
    private static func sendsMail(_ action: SieveAction) -> Bool {
        switch action {
        case .redirect, .vacation, .notify, .reject: return true
        default: return false
        }
    }

    /// The mailbox a storing action targets ("INBOX" for keep), for duplicate elimination.
    private static func storeTarget(_ action: SieveAction) -> String? {
        switch action {
        case .keep: return "INBOX"
        case .fileInto(let f): return f.mailbox.uppercased() == "INBOX" ? "INBOX" : f.mailbox
        default: return nil
        }
    }

    private static func withFlags(_ action: SieveAction, _ flags: [String]?) -> SieveAction {
        switch action {
        case .keep: return .keep(flags: flags)
        case .fileInto(var f):
            f.flags = flags
            return .fileInto(f)
        default: return action
        }
    }

    private static func flags(of action: SieveAction) -> [String]? {
        switch action {
        case .keep(let f): return f
        case .fileInto(let f): return f.flags
        default: return nil
        }
    }

    private mutating func addAction(_ action: SieveAction, _ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        if context.result.actions.contains(action) { return }
        // Storing twice into one mailbox stores once; the last flag list wins (RFC 5232 §3.2).
        if let target = Self.storeTarget(action),
           let i = context.result.actions.firstIndex(where: { Self.storeTarget($0) == target }) {
            context.result.actions[i] = Self.withFlags(context.result.actions[i], Self.flags(of: action))
            return
        }
        let counted = context.result.actions.filter { if case .trackDuplicate = $0 { return false } else { return true } }.count
        if counted >= options.limits.maxActions {
            throw fail(.tooManyActions, call, "total number of actions exceeds policy limit (\(options.limits.maxActions))")
        }
        if Self.sendsMail(action),
           context.result.actions.filter(Self.sendsMail).count >= options.limits.maxOutgoingMessages {
            throw fail(.tooManyOutgoingMessages, call, "number of outgoing messages exceeds policy limit (\(options.limits.maxOutgoingMessages))")
        }
        context.result.actions.append(action)
    }

    private mutating func checkRejectConflict(_ call: SieveCall, _ context: SieveExecutionContext, isReject: Bool) throws {
        let hasReject = context.result.actions.contains { if case .reject = $0 { return true } else { return false } }
        if isReject {
            let conflicting = context.result.actions.first {
                switch $0 {
                case .keep, .fileInto, .vacation: return true
                case .redirect(let r): return !r.copy
                case .reject: return false
                default: return false
                }
            }
            if let c = conflicting { throw fail(.actionConflict, call, "reject action conflicts with earlier \(c.name) action") }
        } else if hasReject {
            throw fail(.actionConflict, call, "\(call.name) action conflicts with earlier reject action")
        }
    }

    private mutating func command(_ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        switch call.name {
        case "keep":
            try checkRejectConflict(call, context, isReject: false)
            let flags = try flagsArgument(call)
            try addAction(.keep(flags: flags), call, &context)
            context.result.implicitKeep = false
        case "discard":
            try addAction(.discard, call, &context)
            context.result.implicitKeep = false
        case "redirect":
            try checkRejectConflict(call, context, isReject: false)
            let target = try string(call.positional[0], call)
            let copy = call.has("copy")
            if call.has("list") {
                guard let members = host.externalListMembers(list: target) else {
                    throw fail(.invalidArgument, call, "unknown external list '\(target)'")
                }
                for member in members { try redirect(to: member, call, copy: true, &context) }
                if !copy { context.result.implicitKeep = false }
                return
            }
            try redirect(to: target, call, copy: copy, &context)
            if !copy { context.result.implicitKeep = false }
        case "fileinto":
            try checkRejectConflict(call, context, isReject: false)
            let target = try fileInto(call, mailbox: string(call.positional[0], call))
            try addAction(.fileInto(target), call, &context)
            if !target.copy { context.result.implicitKeep = false }
        case "reject", "ereject":
            try checkRejectConflict(call, context, isReject: true)
            let reason = try string(call.positional[0], call)
            if context.result.actions.contains(where: { if case .reject = $0 { return true } else { return false } }) {
                throw fail(.actionConflict, call, "duplicate reject action")
            }
            try addAction(.reject(reason: reason, extended: call.name == "ereject"), call, &context)
            context.result.implicitKeep = false
        case "vacation":
            try vacation(call, &context)
        case "set":
            try setVariable(call)
        case "setflag", "addflag", "removeflag":
            try flagCommand(call)
        case "global":
            for name in try strings(call.positional[0], call) {
                frames[frames.count - 1].globalNames.insert(name.lowercased())
            }
        case "error":
            let message = try string(call.positional[0], call)
            throw fail(.userError, call, message)
        case "addheader":
            let name = try string(call.positional[0], call)
            let value = try string(call.positional[1], call)
            guard SieveValidator.isValidHeaderName(name) else { throw fail(.invalidArgument, call, "invalid header name '\(name)'") }
            if SieveEditHeader.protectedHeaders.contains(name.lowercased()) { return }
            let field = SieveHeaderField(name: name, rawValue: " " + value)
            context.message.insertHeader(field, at: call.has("last") ? context.message.headerFields.count : 0)
        case "deleteheader":
            try deleteHeader(call, &context)
        case "notify":
            try notify(call, &context)
        case "replace":
            try replace(call, &context)
        case "convert":
            _ = try convert(call, &context)
        case "enclose":
            try enclose(call, &context)
        case "extracttext":
            let name = try string(call.positional[0], call)
            var text = ""
            if let p = currentPart {
                text = context.message.parts[p].decodedText ?? ""
            }
            if case .number(let n)? = call.tag("first") { text = String(text.prefix(n)) }
            text = applyModifiers(call, text)
            try assign(name, text, call)
        default:
            if call.isCustom {
                try customCommand(call, &context)
            } else {
                throw fail(.invalidArgument, call, "command '\(call.name)' is not available at runtime")
            }
        }
    }

    private mutating func redirect(to target: String, _ call: SieveCall, copy: Bool, _ context: inout SieveExecutionContext) throws {
        guard let address = SieveAddressParser.parseSingle(target) else {
            throw fail(.invalidAddress, call, "invalid redirect address '\(target)'")
        }
        var redirect = SieveRedirect(address: address.all, copy: copy)
        if let n = call.tag("notify") { redirect.dsnNotify = try string(n, call) }
        if let r = call.tag("ret") { redirect.dsnReturn = try string(r, call) }
        if case .number(let n)? = call.tag("bytimerelative") { redirect.deliverBySeconds = n }
        if let m = call.tag("bymode") { redirect.deliverByMode = try string(m, call) }
        if !context.result.actions.contains(.redirect(redirect)) {
            if context.result.redirectCount >= options.limits.maxRedirects {
                throw fail(.tooManyRedirects, call, "number of redirect actions exceeds policy limit (\(options.limits.maxRedirects))")
            }
            context.result.redirectCount += 1
        }
        try addAction(.redirect(redirect), call, &context)
    }

    /// A host-extension command without a block (those with one are `customBlock` instructions).
    private mutating func customCommand(_ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        let evaluated = try evaluate(call)
        let outcome = host.executeExtension(evaluated, context: &context)
        takeReplacementFlags(&context)
        switch outcome {
        case .done, .test, .matchValues:
            return
        case .unwindBlock:
            throw Flow.unwind
        case .runBlock:
            host.extensionBlockEnded(evaluated, unwound: false, context: &context)
        }
    }

    private mutating func takeReplacementFlags(_ context: inout SieveExecutionContext) {
        if let f = context.replacementInternalFlags {
            internalFlags = f
            context.replacementInternalFlags = nil
        }
        if let o = context.replacementOptions {
            options = o
            context.replacementOptions = nil
        }
    }

    private mutating func evaluate(_ call: SieveCall) throws -> SieveEvaluatedCall {
        var tags: [String: SieveValue] = [:]
        for (k, v) in call.tags { tags[k] = try value(v, call) }
        var positional: [SieveValue?] = []
        for p in call.positional { positional.append(try p.map { try value($0, call) }) }
        return SieveEvaluatedCall(name: call.name, location: call.location, tags: tags, groups: call.groups, positional: positional)
    }

    private mutating func value(_ a: SieveArgument, _ call: SieveCall) throws -> SieveValue {
        switch a {
        case .flag: return .flag
        case .number(let n): return .number(n)
        case .string(let t): return .string(try expand(t, call))
        case .list(let l): return .list(try l.map { try expand($0, call) })
        }
    }

    private mutating func fileInto(_ call: SieveCall, mailbox: String) throws -> SieveFileInto {
        // U+FFFD in a name means its bytes were not valid UTF-8 (e.g. built with ${hex:ff}).
        guard !mailbox.isEmpty, !mailbox.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{FFFD}" }) else {
            throw fail(.invalidMailboxName, call, "invalid folder name '\(mailbox)'")
        }
        return SieveFileInto(mailbox: mailbox, flags: try flagsArgument(call), copy: call.has("copy"), create: call.has("create"),
                             specialUse: try call.tag("specialuse").map { try string($0, call) },
                             mailboxID: try call.tag("mailboxid").map { try string($0, call) })
    }

    private mutating func flagsArgument(_ call: SieveCall) throws -> [String]? {
        // Flags inherited from an earlier script of the same delivery apply even when this
        // script does not use imap4flags itself.
        guard frames.last!.capabilities.contains("imap4flags") || !internalFlags.isEmpty else { return nil }
        if let f = call.tag("flags") { return Self.normaliseFlags(try strings(f, call)) }
        return internalFlags
    }

    /// Splits space-separated flag strings, drops duplicates (case-insensitive), keeps order.
    static func normaliseFlags(_ items: [String]) -> [String] {
        var out: [String] = []
        var seen: Set<String> = []
        for item in items {
            for f in item.split(separator: " ") where !f.isEmpty {
                if seen.insert(f.lowercased()).inserted { out.append(String(f)) }
            }
        }
        return out
    }

    private mutating func flagCommand(_ call: SieveCall) throws {
        let items = Self.normaliseFlags(try strings(call.positional[1], call))
        let variable = try call.positional[0].map { try string($0, call) }
        var current = variable.map { Self.normaliseFlags([lookup($0) ?? ""]) } ?? internalFlags
        switch call.name {
        case "setflag":
            current = items
        case "addflag":
            current = Self.normaliseFlags(current + items)
        default:
            let remove = Set(items.map { $0.lowercased() })
            current.removeAll { remove.contains($0.lowercased()) }
        }
        if let variable {
            try assign(variable, current.joined(separator: " "), call)
        } else {
            internalFlags = current
        }
    }

    private mutating func vacation(_ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        try checkRejectConflict(call, context, isReject: false)
        if context.result.actions.contains(where: { if case .vacation = $0 { return true } else { return false } }) {
            throw fail(.actionConflict, call, "duplicate vacation action not allowed")
        }
        let reason = try string(call.positional[0], call)
        let subject = try call.tag("subject").map { try string($0, call) }
        let from = try call.tag("from").map { try string($0, call) }
        let addresses = try call.tag("addresses").map { try strings($0, call) } ?? []
        let limits = options.limits
        var period = limits.defaultVacationPeriodSeconds
        if case .number(let d)? = call.tag("days") { period = d * 86400 }
        if case .number(let s)? = call.tag("seconds") { period = s }
        if period != 0 || call.tag("seconds") == nil {
            period = min(max(period, limits.minVacationPeriodSeconds), limits.maxVacationPeriodSeconds)
        }
        let handle = try call.tag("handle").map { try string($0, call) }
            ?? "vacation:\(reason)\u{0}\(subject ?? "")\u{0}\(from ?? "")\u{0}\(addresses.joined(separator: ","))\u{0}\(call.has("mime"))"
        var fcc: SieveFileInto?
        if let f = call.tag("fcc") { fcc = try fileInto(call, mailbox: string(f, call)) }
        try addAction(.vacation(SieveVacation(reason: reason, subject: subject, from: from, addresses: addresses,
                                              isMIME: call.has("mime"), handle: handle, periodSeconds: period, fcc: fcc)), call, &context)
    }

    private mutating func notify(_ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        let method = try string(call.positional[0], call)
        guard SieveNotifyMethod.isValid(method) else { throw fail(.invalidArgument, call, "invalid notification method '\(method)'") }
        var importance = 2
        if let i = call.tag("importance") {
            importance = Int(try string(i, call)) ?? 2
            if !(1...3).contains(importance) { importance = 2 }
        }
        var fcc: SieveFileInto?
        if let f = call.tag("fcc") { fcc = try fileInto(call, mailbox: string(f, call)) }
        try addAction(.notify(SieveNotify(method: method, from: try call.tag("from").map { try string($0, call) }, importance: importance,
                                          options: try call.tag("options").map { try strings($0, call) } ?? [],
                                          message: try call.tag("message").map { try string($0, call) }, fcc: fcc)), call, &context)
    }

    /// RFC 5703 §5: inside foreverypart the current part becomes the replacement; at message
    /// level the body does (a text part, or a MIME entity with :mime) and :subject / :from
    /// replace those fields.
    private mutating func replace(_ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        let replacement = try string(call.positional[0], call)
        if let part = currentPart {
            let entity = call.has("mime") ? replacement
                : "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + replacement
            let current = (context.message as? SieveMIMEMessage) ?? SieveMIMEMessage(context.message.serialized)
            guard let replaced = current.replacingPart(part, with: entity) else {
                throw fail(.invalidArgument, call, "cannot replace MIME part \(part)")
            }
            context.message = replaced
            return
        }
        let subject = try call.tag("subject").map { try string($0, call) }
        let from = try call.tag("from").map { try string($0, call) }
        var header = ""
        for field in context.message.headerFields {
            let name = field.name.lowercased()
            if name.hasPrefix("content-") || name == "mime-version" { continue }
            if name == "subject", subject != nil { continue }
            if name == "from", from != nil { continue }
            header += "\(field.name):\(field.rawValue)\r\n"
        }
        if let subject { header += "Subject: \(SieveResultExecutor.encodeHeaderText(subject))\r\n" }
        if let from { header += "From: \(from)\r\n" }
        header += "MIME-Version: 1.0\r\n"
        let body = call.has("mime") ? replacement : "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + replacement
        context.message = SieveMIMEMessage(header + body)
    }

    /// RFC 6558: every leaf part of the `from` type is converted by the host; the message
    /// changes only when every conversion succeeded. True when something was converted.
    private mutating func convert(_ call: SieveCall, _ context: inout SieveExecutionContext) throws -> Bool {
        let from = try string(call.positional[0], call).lowercased()
        let to = try string(call.positional[1], call).lowercased()
        let parameters = try strings(call.positional[2], call)
        var message = (context.message as? SieveMIMEMessage) ?? SieveMIMEMessage(context.message.serialized)
        func matches(_ part: SieveBodyPart) -> Bool {
            !part.isMultipart && !part.isEnclosedMessage && (part.contentType == from || (!from.contains("/") && part.contentType.hasPrefix(from + "/")))
        }
        var converted = 0
        while let index = message.parts.indices.dropFirst().first(where: { matches(message.parts[$0]) }) ?? (message.parts.count == 1 && matches(message.parts[0]) ? 0 : nil) {
            guard converted < message.parts.count,
                  let output = host.convert(message.decodedBody(of: index), from: message.parts[index].contentType, to: to, parameters: parameters)
            else { return false }
            let encoded = String(decoding: Base64.encode(output), as: UTF8.self)
            let entity = "Content-Type: \(to)\r\nContent-Transfer-Encoding: base64\r\n\r\n\(encoded)\r\n"
            if index == 0 {
                var header = ""
                for field in message.headerFields where !field.key.hasPrefix("content-") {
                    header += "\(field.name):\(field.rawValue)\r\n"
                }
                message = SieveMIMEMessage(header + entity)
            } else {
                guard let replaced = message.replacingPart(index, with: entity) else { return false }
                message = replaced
            }
            converted += 1
        }
        if converted > 0 { context.message = message }
        return converted > 0
    }

    /// RFC 5703 §6: the message becomes an attachment of a new message carrying `text`.
    private mutating func enclose(_ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        let text = try string(call.positional[0], call)
        let original = context.message
        let subject = try call.tag("subject").map { try string($0, call) } ?? original.headerValues("subject").first ?? ""
        let copied = Set(try call.tag("headers").map { try strings($0, call).map { $0.lowercased() } } ?? [])
        let boundary = "sieve-enclose-\(original.size)-\(original.headerFields.count)"
        var header = ""
        for field in original.headerFields where copied.contains(field.name.lowercased()) {
            header += "\(field.name):\(field.rawValue)\r\n"
        }
        for name in ["from", "to", "date"] where !copied.contains(name) {
            if let f = original.headerFields.first(where: { $0.key == name }) { header += "\(f.name):\(f.rawValue)\r\n" }
        }
        header += "Subject: \(SieveResultExecutor.encodeHeaderText(subject))\r\nMIME-Version: 1.0\r\n"
        header += "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\n"
        let body = "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\(text)\r\n"
            + "--\(boundary)\r\nContent-Type: message/rfc822\r\n\r\n\(original.serialized)\r\n--\(boundary)--\r\n"
        context.message = SieveMIMEMessage(header + body)
    }

    private mutating func deleteHeader(_ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        let name = try string(call.positional[0], call).lowercased()
        if SieveEditHeader.protectedHeaders.contains(name) { return }
        let patterns = call.positional[1]?.templates
        var indices = context.message.headerFields.indices.filter { context.message.headerFields[$0].key == name }
        if case .number(let n)? = call.tag("index") {
            let position = call.has("last") ? indices.count - n : n - 1
            indices = indices.indices.contains(position) ? [indices[position]] : []
        }
        var remove: [Int] = []
        for i in indices {
            if let patterns {
                let value = context.message.headerFields[i].value
                if try !match([value], keys: patterns, call, setsCaptures: false) { continue }
            }
            remove.append(i)
        }
        for i in remove.reversed() { context.message.removeHeader(at: i) }
    }

    private static func descendants(of index: Int, in parts: [SieveBodyPart]) -> [Int] {
        var out: [Int] = []
        for c in parts[index].childIndices {
            out.append(c)
            out.append(contentsOf: descendants(of: c, in: parts))
        }
        return out
    }

    // MARK: - Include (RFC 6609)

    private mutating func include(_ call: SieveCall, _ context: inout SieveExecutionContext) throws {
        let name = try string(call.positional[0], call)
        let location: SieveIncludeLocation = call.group("location") == "global" ? .global : .personal
        let key = SieveCompiler.scriptKey(name, location)
        if call.has("once"), includedOnce.contains(key) { return }
        if includeStack.contains(key) {
            throw fail(.includeCycle, call, "circular include of script '\(name)'")
        }
        if includeStack.count >= options.limits.maxIncludeDepth {
            throw fail(.includeDepthExceeded, call, "include nesting deeper than \(options.limits.maxIncludeDepth) levels")
        }
        includeCount += 1
        if includeCount > options.limits.maxIncludes {
            throw fail(.tooManyIncludes, call, "more than \(options.limits.maxIncludes) scripts included")
        }
        guard let text = host.includeScript(name: name, location: location) else {
            if call.has("optional") { return }
            throw fail(.includeNotFound, call, "included \(location.rawValue) script '\(name)' does not exist")
        }
        let script: SieveScript
        do {
            script = try SieveCompiler.compile(text, options: options.compileOptions)
        } catch {
            throw fail(.includeInvalid, call, "failed to compile included script '\(name)': \(error.diagnostics.first?.description ?? "")")
        }
        includedOnce.insert(key)
        includeStack.append(key)
        frames.append(Frame(capabilities: script.capabilities, regexes: script.regexes))
        defer {
            frames.removeLast()
            includeStack.removeLast()
        }
        try execute(script.bytecode, &context)
    }

    // MARK: - Variables (RFC 5229)

    private func lookup(_ name: String) -> String? {
        let lower = name.lowercased()
        if lower.hasPrefix("global."), frames.last!.capabilities.contains("include") {
            return globals[String(lower.dropFirst(7))]
        }
        if lower.contains(".") { return host.namespaceVariable(lower) }
        let frame = frames.last!
        if frame.globalNames.contains(lower) { return globals[lower] }
        return frame.locals[lower]
    }

    private mutating func assign(_ name: String, _ value: String, _ call: SieveCall) throws {
        var lower = name.lowercased()
        var isGlobal = false
        if lower.hasPrefix("global."), frames.last!.capabilities.contains("include") {
            lower = String(lower.dropFirst(7))
            isGlobal = true
        }
        guard SieveValidator.isValidVariableName(lower), !lower.contains(".") else {
            throw fail(.invalidArgument, call, "invalid variable name '\(name)'")
        }
        if value.utf8.count > options.limits.maxVariableBytes, options.limits.variableOverflow == .fail {
            throw fail(.variableTooLarge, call, "value of '\(name)' is \(value.utf8.count) bytes (max \(options.limits.maxVariableBytes))")
        }
        let truncated = truncate(value, options.limits.maxVariableBytes)
        if isGlobal {
            globals[lower] = truncated
            return
        }
        let index = frames.count - 1
        if frames[index].globalNames.contains(lower) {
            globals[lower] = truncated
        } else {
            if frames[index].locals[lower] == nil, frames[index].locals.count >= options.limits.maxVariables {
                throw fail(.variableTooLarge, call, "more than \(options.limits.maxVariables) variables")
            }
            frames[index].locals[lower] = truncated
        }
    }

    /// Cuts at a character boundary at or below `limit` bytes.
    private func truncate(_ s: String, _ limit: Int) -> String {
        if s.utf8.count <= limit { return s }
        var out = ""
        var used = 0
        for scalar in s.unicodeScalars {
            let n = String(scalar).utf8.count
            if used + n > limit { break }
            out.unicodeScalars.append(scalar)
            used += n
        }
        return out
    }

    private mutating func expand(_ t: SieveTemplate, _ call: SieveCall) throws -> String {
        if let c = t.constant { return c }
        var out = ""
        for part in t.parts {
            switch part {
            case .literal(let s): out += s
            case .variable(let name): out += lookup(name) ?? ""
            case .matchVariable(let n): out += n < matchVariables.count ? matchVariables[n] : ""
            }
            if out.utf8.count > options.limits.maxVariableBytes * 4 {
                out = truncate(out, options.limits.maxVariableBytes * 4)
                break
            }
        }
        return out
    }

    private mutating func string(_ a: SieveArgument?, _ call: SieveCall) throws -> String {
        switch a {
        case .string(let t)?: return try expand(t, call)
        case .list(let l)?: return try l.first.map { try expand($0, call) } ?? ""
        case .number(let n)?: return String(n)
        default: return ""
        }
    }

    private mutating func strings(_ a: SieveArgument?, _ call: SieveCall) throws -> [String] {
        guard let a else { return [] }
        return try a.templates.map { try expand($0, call) }
    }

    private mutating func setVariable(_ call: SieveCall) throws {
        let name = try string(call.positional[0], call)
        let raw = try string(call.positional[1], call)
        var value = applyModifiers(call, raw)
        if call.has("quotewildcard"), value.utf8.count > options.limits.maxVariableBytes, options.limits.variableOverflow == .truncate {
            // Cut before the limit without leaving half of a `\x` escape pair behind.
            value = truncate(value, options.limits.maxVariableBytes)
            var trailing = 0
            for b in value.utf8.reversed() { if b == UInt8(ascii: "\\") { trailing += 1 } else { break } }
            if trailing % 2 == 1 { value.removeLast() }
        }
        try assign(name, value, call)
    }

    private func applyModifiers(_ call: SieveCall, _ input: String) -> String {
        var value = input
        if call.has("lower") { value = asciiCase(value, upper: false) }
        if call.has("upper") { value = asciiCase(value, upper: true) }
        if call.has("lowerfirst"), let f = value.first { value = asciiCase(String(f), upper: false) + value.dropFirst() }
        if call.has("upperfirst"), let f = value.first { value = asciiCase(String(f), upper: true) + value.dropFirst() }
        if call.has("quotewildcard") {
            var out = ""
            for c in value {
                if c == "*" || c == "?" || c == "\\" { out.append("\\") }
                out.append(c)
            }
            value = out
        }
        if call.has("quoteregex") {
            var out = ""
            for c in value {
                if "*.?+[](){}^$|\\".contains(c) { out.append("\\") }
                out.append(c)
            }
            value = out
        }
        if call.has("encodeurl") {
            var out = ""
            for b in value.utf8 {
                let c = Character(Unicode.Scalar(b))
                if (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || "-._~".contains(c) {
                    out.append(c)
                } else {
                    let hex = String(b, radix: 16, uppercase: true)
                    out += "%" + (hex.count == 1 ? "0" : "") + hex
                }
            }
            value = out
        }
        if call.has("length") { value = String(value.unicodeScalars.count) }
        return value
    }

    private func asciiCase(_ s: String, upper: Bool) -> String {
        var out = ""
        out.unicodeScalars.append(contentsOf: s.unicodeScalars.map {
            if upper, $0.value >= 0x61, $0.value <= 0x7A { return Unicode.Scalar($0.value - 32)! }
            if !upper, $0.value >= 0x41, $0.value <= 0x5A { return Unicode.Scalar($0.value + 32)! }
            return $0
        })
        return out
    }

    // MARK: - Tests

    /// A leaf test (`true`, `false`, `not`, `allof` and `anyof` are compiled into jumps).
    private mutating func test(_ call: SieveCall, _ context: inout SieveExecutionContext) throws -> Bool {
        switch call.name {
        case "size":
            guard case .number(let limit)? = call.positional[0] else { return false }
            return call.group("size") == "over" ? context.message.size > limit : context.message.size < limit
        case "exists":
            let headers = headerSource(call, context)
            for name in try strings(call.positional[0], call) {
                let lower = name.lowercased()
                if !headers.contains(where: { $0.key == lower }) { return false }
            }
            return true
        case "header":
            let headers = headerSource(call, context)
            var values: [String] = []
            for name in try strings(call.positional[0], call) {
                let lower = name.lowercased()
                var found = headers.filter { $0.key == lower }.map(\.value)
                found = try applyIndex(call, found)
                if let option = call.group("mime-option") {
                    found = try found.flatMap { try mimeOption(option, of: $0, call) }
                }
                values += found
            }
            return try match(values, keys: call.positional[1]?.templates ?? [], call)
        case "address":
            let headers = headerSource(call, context)
            var values: [String] = []
            for name in try strings(call.positional[0], call) {
                let lower = name.lowercased()
                var addresses: [SieveAddress?] = []
                for field in headers where field.key == lower {
                    let unfolded = SieveHeaderDecoding.unfold(field.rawValue)
                    if let list = SieveAddressParser.parseList(unfolded) {
                        addresses += list.map { Optional($0) }
                    } else {
                        addresses.append(SieveAddress(localPart: EncodedWords.decode(unfolded), domain: nil))
                    }
                }
                addresses = try applyIndex(call, addresses)
                values += addresses.compactMap { $0.flatMap { addressPart($0, call) } }
            }
            return try match(values, keys: call.positional[1]?.templates ?? [], call)
        case "envelope":
            var values: [String] = []
            for part in try strings(call.positional[0], call) {
                switch part.lowercased() {
                case "from":
                    if context.envelope.from.isEmpty { values.append("") } else if let a = SieveAddressParser.parsePath(context.envelope.from) {
                        values += addressPart(a, call).map { [$0] } ?? []
                    }
                case "to":
                    if let a = SieveAddressParser.parsePath(context.envelope.to) { values += addressPart(a, call).map { [$0] } ?? [] }
                case "auth":
                    if let auth = context.envelope.auth, let a = SieveAddressParser.parsePath(auth) {
                        values += addressPart(a, call).map { [$0] } ?? []
                    }
                case "orcpt":
                    if let v = context.envelope.orcpt { values.append(v) }
                case "notify":
                    if let v = context.envelope.notify { values.append(v) }
                case "ret":
                    if let v = context.envelope.ret { values.append(v) }
                case "envid":
                    if let v = context.envelope.envid { values.append(v) }
                default: break
                }
            }
            return try match(values, keys: call.positional[1]?.templates ?? [], call)
        case "body":
            guard context.message.hasBody else { return false }
            return try match(bodyTexts(call, context), keys: call.positional[0]?.templates ?? [], call, setsCaptures: false)
        case "date":
            let headerName = try string(call.positional[0], call).lowercased()
            let part = try string(call.positional[1], call)
            var fields = context.message.headerFields.filter { $0.key == headerName }.map(\.value)
            fields = try applyIndex(call, fields)
            var values: [String] = []
            for raw in fields.prefix(call.has("index") ? 1 : max(fields.count, 1)) {
                let text = headerName == "received" ? String(raw.split(separator: ";").last ?? "") : raw
                guard var date = SieveDate.parse(text) else { continue }
                if let zone = call.tag("zone") {
                    guard let offset = SieveDate.parseZone(try string(zone, call)) else { continue }
                    date = SieveDate.shifted(date, toOffset: offset)
                } else if call.group("zone") != "originalzone" {
                    date = SieveDate.shifted(date, toOffset: options.localUTCOffsetMinutes)
                }
                if let v = SieveDate.part(part, of: date) { values.append(v) }
                break
            }
            return try match(values, keys: call.positional[2]?.templates ?? [], call)
        case "currentdate":
            var offset = options.localUTCOffsetMinutes
            if let zone = call.tag("zone") {
                guard let o = SieveDate.parseZone(try string(zone, call)) else { return false }
                offset = o
            }
            let now = CivilDateTime(options.now, utcOffsetMinutes: offset)
            let values = SieveDate.part(try string(call.positional[0], call), of: now).map { [$0] } ?? []
            return try match(values, keys: call.positional[1]?.templates ?? [], call)
        case "environment":
            let name = try string(call.positional[0], call).lowercased()
            guard let value = environmentValue(name) else { return false }
            return try match([value], keys: call.positional[1]?.templates ?? [], call)
        case "ihave":
            let caps = try strings(call.positional[0], call)
            return caps.allSatisfy { options.compileOptions.capabilities.contains($0) && !SieveCapabilities.notTestableByIhave.contains($0) }
        case "string":
            var values = try strings(call.positional[0], call)
            if call.group("match-type") == "count" { values.removeAll { $0.isEmpty } }
            return try match(values, keys: call.positional[1]?.templates ?? [], call)
        case "hasflag":
            var flags: [String]
            if let names = call.positional[0] {
                flags = Self.normaliseFlags(try strings(names, call).map { lookup($0) ?? "" })
            } else {
                flags = internalFlags
            }
            let matchType = call.group("match-type") ?? "is"
            var keys = try strings(call.positional[1], call)
            if matchType == "count" {
                flags = flags.filter { !$0.isEmpty }
            } else if matchType != "value" {
                keys = Self.normaliseFlags(keys)
            }
            return try match(flags, expandedKeys: keys, call)
        case "mailboxexists":
            for name in try strings(call.positional[0], call) where !host.mailboxExists(name) { return false }
            return true
        case "mailboxidexists":
            for id in try strings(call.positional[0], call) where !host.mailboxIDExists(id) { return false }
            return true
        case "specialuse_exists":
            let mailbox = try call.positional[0].map { try string($0, call) }
            return host.specialUseExists(mailbox: mailbox, flags: try strings(call.positional[1], call))
        case "metadata":
            let mailbox = try string(call.positional[0], call)
            let values = host.mailboxMetadata(mailbox: mailbox, name: try string(call.positional[1], call)).map { [$0] } ?? []
            return try match(values, keys: call.positional[2]?.templates ?? [], call)
        case "metadataexists":
            let mailbox = try string(call.positional[0], call)
            for n in try strings(call.positional[1], call) where host.mailboxMetadata(mailbox: mailbox, name: n) == nil { return false }
            return true
        case "servermetadata":
            let values = host.serverMetadata(name: try string(call.positional[0], call)).map { [$0] } ?? []
            return try match(values, keys: call.positional[1]?.templates ?? [], call)
        case "servermetadataexists":
            for n in try strings(call.positional[0], call) where host.serverMetadata(name: n) == nil { return false }
            return true
        case "valid_notify_method":
            return try strings(call.positional[0], call).allSatisfy(SieveNotifyMethod.isValid)
        case "notify_method_capability":
            let uri = try string(call.positional[0], call)
            guard SieveNotifyMethod.isValid(uri) else { return false }
            let capability = try string(call.positional[1], call).lowercased()
            let values = capability == "online" ? ["maybe"] : []
            return try match(values, keys: call.positional[2]?.templates ?? [], call)
        case "duplicate":
            return try duplicate(call, &context)
        case "spamtest":
            guard let score = host.spamScore(percent: call.has("percent")) else {
                return try match(["0"], keys: call.positional[0]?.templates ?? [], call)
            }
            return try match([score], keys: call.positional[0]?.templates ?? [], call)
        case "virustest":
            return try match([host.virusScore() ?? "0"], keys: call.positional[0]?.templates ?? [], call)
        case "convert":
            return try convert(call, &context)
        case "valid_ext_list":
            return try strings(call.positional[0], call).allSatisfy { host.externalListMembers(list: $0) != nil }
        default:
            if call.isCustom {
                let evaluated = try evaluate(call)
                let outcome = host.executeExtension(evaluated, context: &context)
                takeReplacementFlags(&context)
                switch outcome {
                case .test(let b): return b
                case .matchValues(let values): return try match(values, keys: call.positional.last??.templates ?? [], call)
                default: return false
                }
            }
            throw fail(.invalidArgument, call, "test '\(call.name)' is not available at runtime")
        }
    }

    /// RFC 5703 §4.2 `:type`, `:subtype`, `:contenttype` and `:param` views of a MIME field.
    private mutating func mimeOption(_ option: String, of value: String, _ call: SieveCall) throws -> [String] {
        let pieces = SieveHeaderDecoding.splitParameters(value)
        let type = pieces.first?.trimmingSpaces() ?? ""
        let slash = type.firstIndex(of: "/")
        switch option {
        case "type": return [slash.map { String(type[..<$0]) } ?? type]
        case "subtype": return [slash.map { String(type[type.index(after: $0)...]) } ?? ""]
        case "contenttype": return [type]
        default:
            let wanted = Set(try strings(call.tag("param"), call).map { $0.lowercased() })
            var out: [String] = []
            for p in pieces.dropFirst() {
                guard let eq = p.firstIndex(of: "=") else { continue }
                let name = p[..<eq].trimmingSpaces().lowercased()
                guard wanted.contains(name) else { continue }
                var v = p[p.index(after: eq)...].trimmingSpaces()
                if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()).replacingBackslashEscapes() }
                out.append(v)
            }
            return out
        }
    }

    private func environmentValue(_ name: String) -> String? {
        if let v = host.environment(name) ?? options.environment[name] { return v }
        switch name {
        case "name": return "Stal Sieve"
        case "version": return "1.0"
        case "location": return "MDA"
        case "phase": return "during"
        case "domain", "host": return "localhost"
        default: return nil
        }
    }

    private mutating func duplicate(_ call: SieveCall, _ context: inout SieveExecutionContext) throws -> Bool {
        let handle = try call.tag("handle").map { try string($0, call) } ?? ""
        var id: String
        if let u = call.tag("uniqueid") {
            id = try string(u, call)
        } else {
            let header = try call.tag("header").map { try string($0, call) } ?? "message-id"
            guard let v = context.message.headerValues(header).first else { return false }
            id = v
        }
        id = id.trimmingSpaces()
        let seen = host.duplicateSeen(handle: handle, id: id)
        var seconds = options.limits.maxDuplicatePeriodSeconds
        if case .number(let s)? = call.tag("seconds") { seconds = min(s, seconds) }
        if !seen || call.has("last") {
            context.result.actions.append(.trackDuplicate(handle: handle, id: id, seconds: seconds))
        }
        return seen
    }

    private func headerSource(_ call: SieveCall, _ context: SieveExecutionContext) -> [SieveHeaderField] {
        guard call.has("mime"), let p = currentPart else { return context.message.headerFields }
        if call.has("anychild") {
            return ([p] + Self.descendants(of: p, in: context.message.parts)).flatMap { context.message.parts[$0].headers }
        }
        return context.message.parts[p].headers
    }

    private func applyIndex<T>(_ call: SieveCall, _ values: [T]) throws -> [T] {
        guard case .number(let n)? = call.tag("index") else { return values }
        let position = call.has("last") ? values.count - n : n - 1
        return values.indices.contains(position) ? [values[position]] : []
    }

    private func addressPart(_ a: SieveAddress, _ call: SieveCall) -> String? {
        switch call.group("address-part") ?? "all" {
        case "localpart": return a.localPart
        case "domain": return a.domain ?? ""
        case "user", "detail":
            let delimiters = options.recipientDelimiters
            guard let idx = a.localPart.firstIndex(where: { delimiters.contains($0) }) else {
                return call.group("address-part") == "user" ? a.localPart : nil
            }
            return call.group("address-part") == "user" ? String(a.localPart[..<idx]) : String(a.localPart[a.localPart.index(after: idx)...])
        default:
            if a.domain == nil, a.localPart.isEmpty { return "" }
            return a.all
        }
    }

    private func bodyTexts(_ call: SieveCall, _ context: SieveExecutionContext) throws -> [String] {
        let parts = context.message.parts
        switch call.group("body-transform") ?? "text" {
        case "raw":
            return [context.message.rawBody]
        case "content":
            guard case .list(let templates)? = call.tag("content") else { return [] }
            let types = templates.compactMap(\.constant).map { $0.lowercased() }
            var out: [String] = []
            for part in parts {
                let matchesType = types.contains { t in
                    t.isEmpty || t == part.contentType || (!t.contains("/") && part.contentType.hasPrefix(t + "/"))
                }
                guard matchesType else { continue }
                if part.isMultipart {
                    out.append(part.multipartText ?? "")
                } else if part.isEnclosedMessage {
                    // RFC 5173 §5.2: only the enclosed message's header is searched.
                    if let root = part.childIndices.first {
                        out.append(parts[root].headers.map { "\($0.name):\($0.rawValue)\r\n" }.joined())
                    }
                } else if let text = part.decodedText {
                    out.append(text)
                } else {
                    out.append(part.rawBody)
                }
            }
            return out
        default:
            return parts.compactMap { part in
                guard !part.isMultipart, let text = part.decodedText else { return nil }
                return part.contentType == "text/html" || part.contentType == "application/xhtml+xml" ? HTMLText.text(text) : text
            }
        }
    }

    /// Match-type and comparator dispatch (RFC 5228 §2.7, RFC 5231, regex draft).
    private mutating func match(_ values: [String], keys keyTemplates: [SieveTemplate], _ call: SieveCall,
                                setsCaptures: Bool = true) throws -> Bool {
        try match(values, expandedKeys: keyTemplates.map { try expand($0, call) }, call, setsCaptures: setsCaptures)
    }

    private mutating func match(_ values: [String], expandedKeys keys: [String], _ call: SieveCall,
                                setsCaptures: Bool = true) throws -> Bool {
        // Matching costs time in proportion to the text searched: one instruction per 16 KiB per
        // key, so a filter over a 50 MB body is bounded by the same budget as a loop.
        var searched = 0
        for v in values { searched += v.utf8.count }
        instructions += (searched / 16384) * max(keys.count, 1)
        if instructions > options.limits.maxInstructions {
            throw fail(.instructionBudgetExceeded, call, "more than \(options.limits.maxInstructions) instructions (matching \(searched) bytes)")
        }
        let comparatorName = try call.tag("comparator").map { try string($0, call) } ?? "i;ascii-casemap"
        let comparator = SieveComparator(name: comparatorName) ?? .asciiCasemap
        let matchType = call.group("match-type") ?? "is"
        let wantsCaptures = setsCaptures && frames.last!.capabilities.contains("variables")
        switch matchType {
        case "count":
            let relation = SieveRelation(rawValue: try string(call.tag("count"), call).lowercased()) ?? .eq
            let count = String(values.count)
            return keys.contains { relation.holds(comparator.compare(count, $0)) }
        case "value":
            let relation = SieveRelation(rawValue: try string(call.tag("value"), call).lowercased()) ?? .eq
            for v in values where keys.contains(where: { relation.holds(comparator.compare(v, $0)) }) { return true }
            return false
        case "contains":
            for v in values where keys.contains(where: { comparator.contains(v, $0) }) { return true }
            return false
        case "list":
            for v in values where keys.contains(where: { host.externalListContains(list: $0, value: v) == true }) { return true }
            return false
        case "matches":
            for v in values {
                for k in keys {
                    if let captures = comparator.wildcardMatch(v, k) {
                        if wantsCaptures { matchVariables = Array(captures.prefix(options.limits.maxMatchVariables)) }
                        return true
                    }
                }
            }
            return false
        case "regex":
            let caseInsensitive = comparator != .octet
            for k in keys {
                guard let regex = frames.last!.regexes[SieveScript.regexKey(k, caseInsensitive: caseInsensitive)]
                    ?? SieveRegex(k, caseInsensitive: caseInsensitive) else {
                    throw fail(.invalidArgument, call, "invalid regular expression '\(k)'")
                }
                for v in values {
                    if let captures = regex.firstMatch(in: v) {
                        if wantsCaptures { matchVariables = Array(captures.prefix(options.limits.maxMatchVariables)) }
                        return true
                    }
                }
            }
            return false
        default:
            for v in values where keys.contains(where: { comparator.equals(v, $0) }) { return true }
            return false
        }
    }
}

/// RFC 5436 mailto: as the only notification method.
enum SieveNotifyMethod {
    static func isValid(_ uri: String) -> Bool {
        guard uri.lowercased().hasPrefix("mailto:") else { return false }
        let rest = uri.dropFirst(7)
        let addressPart = rest.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        if addressPart.isEmpty { return rest.contains("to=") }
        for a in addressPart.split(separator: ",") {
            let decoded = String(a).removingPercentEncoding()
            guard SieveAddressParser.parseSingle(decoded) != nil else { return false }
        }
        return true
    }
}

extension String {
    func removingPercentEncoding() -> String {
        var out: [UInt8] = []
        let u = Array(utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let v = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// RFC 5293 §5: fields a script may not add or delete.
enum SieveEditHeader {
    static let protectedHeaders: Set<String> = ["received", "auto-submitted"]
}
