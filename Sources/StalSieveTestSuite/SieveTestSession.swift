import Foundation
import StalCore
import StalSieve

/// State of one `.svtest` run; it is also the `SieveHost` that answers the scripts' questions.
final class SieveTestSession: SieveHost {
    let directory: String
    let now: Timestamp
    let testsuite: SieveCustomExtension
    let file: String

    private(set) var blocks: [SieveTestSuiteRunner.BlockResult] = []
    private(set) var fatalError: String?
    private var currentBlock: String?
    private var blockFailure: String?

    private var errors: [String] = []
    private var compiled: SieveScript?
    private var binaries: [String: [UInt8]] = [:]
    private var mailboxes: [String: [(text: String, flags: [String])]] = ["INBOX": []]
    private var outgoing: [SieveOutgoingMessage] = []
    private var duplicates: Set<String> = []
    private var config: [String: String] = [:]
    private var metadata: [String: String] = [:]

    init(directory: String, now: Timestamp, testsuite: SieveCustomExtension, file: String) {
        self.directory = directory
        self.now = now
        self.testsuite = testsuite
        self.file = file
    }

    static let defaultMessage = "From: sender@example.com\nTo: recipient@example.org\nSubject: Frop!\n\nFriep!\n"

    var compileOptions: SieveCompileOptions {
        var o = SieveCompileOptions(capabilities: SieveCapabilities.all, customExtensions: [testsuite])
        o.variableNamespaces = ["tst"]
        return o
    }

    private var scriptCompileOptions: SieveCompileOptions { compileOptions }

    var includeLimits: SieveIncludeLimits {
        SieveIncludeLimits(maxDepth: config["sieve_include_max_nesting_depth"].flatMap { Int($0) } ?? 10,
                           maxIncludes: config["sieve_include_max_includes"].flatMap { Int($0) } ?? 255)
    }

    var runtimeOptions: SieveRuntimeOptions {
        var limits = SieveRuntimeLimits()
        limits.variableOverflow = .truncate
        if let v = config["sieve_variables_max_variable_size"].flatMap(Self.size) { limits.maxVariableBytes = v }
        if let v = config["sieve_include_max_includes"].flatMap({ Int($0) }) { limits.maxIncludes = v }
        if let v = config["sieve_include_max_nesting_depth"].flatMap({ Int($0) }) { limits.maxIncludeDepth = v }
        if let v = config["sieve_vacation_min_period"].flatMap(Self.duration) { limits.minVacationPeriodSeconds = v }
        if let v = config["sieve_vacation_max_period"].flatMap(Self.duration) { limits.maxVacationPeriodSeconds = v }
        var o = SieveRuntimeOptions(limits: limits, compileOptions: scriptCompileOptions, now: now,
                                    recipientDelimiters: config["recipient_delimiter"] ?? "+")
        o.environment = ["domain": "example.com", "host": "host.example.com", "location": "MS", "phase": "during",
                         "name": "Stal Sieve"]
        return o
    }

    var policy: SieveDeliveryPolicy {
        var p = SieveDeliveryPolicy()
        p.userEmail = config["sieve_user_email"].map { $0.trimmingCharacters(in: .whitespaces) }
        if let v = config["sieve_redirect_envelope_from"]?.trimmingCharacters(in: .whitespaces) {
            switch v.lowercased() {
            case "recipient": p.redirectEnvelopeFrom = .recipient
            case "orig_recipient": p.redirectEnvelopeFrom = .originalRecipient
            case "user_email": p.redirectEnvelopeFrom = .userEmail
            case "sender", "": p.redirectEnvelopeFrom = .sender
            default:
                var a = v
                if a.hasPrefix("<"), a.hasSuffix(">") { a = String(a.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces) }
                p.redirectEnvelopeFrom = .explicit(a)
            }
        }
        p.vacationDefaultSubject = config["sieve_vacation_default_subject"].flatMap { $0.isEmpty ? nil : $0 }
        p.vacationDefaultSubjectTemplate = config["sieve_vacation_default_subject_template"].flatMap { $0.isEmpty ? nil : $0 }
        p.vacationSendFromRecipient = Self.bool(config["sieve_vacation_send_from_recipient"]) ?? false
        p.vacationToHeaderIgnoreEnvelope = Self.bool(config["sieve_vacation_to_header_ignore_envelope"]) ?? false
        p.vacationUseOriginalRecipient = Self.bool(config["sieve_vacation_use_original_recipient"]) ?? false
        p.vacationCheckRecipient = Self.bool(config["sieve_vacation_check_recipient"]) ?? true
        return p
    }

    static func bool(_ s: String?) -> Bool? {
        guard let s = s?.lowercased() else { return nil }
        return s == "yes" || s == "true" || s == "1"
    }

    static func size(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        for (suffix, factor) in [("k", 1024), ("m", 1024 * 1024), ("g", 1024 * 1024 * 1024)] where t.hasSuffix(suffix) {
            return Int(t.dropLast()).map { $0 * factor }
        }
        return Int(t)
    }

    static func duration(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        for (suffix, factor) in [("s", 1), ("m", 60), ("h", 3600), ("d", 86400)] where t.hasSuffix(suffix) {
            return Int(t.dropLast()).map { $0 * factor }
        }
        return Int(t)
    }

    public static func envelope(for message: some SieveMessage) -> SieveEnvelope {
        func first(_ names: [String]) -> String? {
            for n in names {
                if let raw = message.headerFields.first(where: { $0.name.lowercased() == n })?.value,
                   let a = SieveAddressParserBridge.address(raw) { return a }
            }
            return nil
        }
        let to = first(["envelope-to", "to"]) ?? "recipient@example.com"
        let from = first(["return-path", "sender", "from"]) ?? "sender@example.com"
        return SieveEnvelope(from: from, to: to, originalTo: to)
    }

    // MARK: - Running the test file

    func runTestFile(_ script: SieveScript) {
        let message = SieveMIMEMessage(Self.defaultMessage)
        let context = SieveExecutionContext(message: message, envelope: Self.envelope(for: message))
        var interpreter = SieveInterpreter(host: self, options: testFileOptions)
        let outcome = interpreter.run(script, context: context)
        if let e = outcome.error {
            fatalError = "test file stopped: \(e.description)"
            if let block = currentBlock {
                blocks.append(.init(file: file, name: block, status: .failed, reason: fatalError))
                currentBlock = nil
            }
        }
    }

    private var testFileOptions: SieveRuntimeOptions {
        var o = runtimeOptions
        o.compileOptions = compileOptions
        o.limits.maxInstructions = 10_000_000
        o.limits.maxActions = 10_000
        o.limits.maxRedirects = 10_000
        return o
    }

    func executeExtension(_ call: SieveEvaluatedCall, context: inout SieveExecutionContext) -> SieveExtensionOutcome {
        func str(_ i: Int) -> String { call.positional.indices.contains(i) ? call.positional[i]?.string ?? "" : "" }
        switch call.name {
        case "test":
            currentBlock = str(0)
            blockFailure = nil
            return .runBlock
        case "test_fail":
            if blockFailure == nil { blockFailure = str(0) }
            if currentBlock == nil { fatalError = "test_fail outside a test block: \(str(0))" }
            return .unwindBlock
        case "test_set":
            let object = str(0).lowercased()
            let value = str(1)
            switch object {
            case "message":
                let m = SieveMIMEMessage(value)
                context.message = m
                context.envelope = Self.envelope(for: m)
                context.replacementInternalFlags = []
            case "envelope.from": context.envelope.from = Self.path(value)
            case "envelope.to": context.envelope.to = Self.path(value)
            case "envelope.orig_to": context.envelope.originalTo = Self.path(value)
            case "envelope.auth": context.envelope.auth = value
            default:
                blockFailure = "test_set: unknown object \(object)"
                return .unwindBlock
            }
            return .done
        case "test_config_set":
            config[str(0)] = str(1)
            context.replacementOptions = testFileOptions
            return .done
        case "test_config_unset":
            config[str(0)] = nil
            context.replacementOptions = testFileOptions
            return .done
        case "test_config_reload", "test_message_print", "test_result_print":
            return .done
        case "test_mailbox_create":
            if mailboxes[Self.mailboxKey(str(0))] == nil { mailboxes[Self.mailboxKey(str(0))] = [] }
            return .done
        case "test_mailbox_delete":
            mailboxes[Self.mailboxKey(str(0))] = nil
            return .done
        case "test_imap_metadata_set":
            metadata["\(call.tags["mailbox"]?.string ?? ""):\(str(0))"] = str(1)
            return .done
        case "test_binary_save":
            if let c = compiled { binaries[str(0)] = SieveBinary.encode(c) }
            return .done
        case "test_binary_load":
            compiled = binaries[str(0)].flatMap { try? SieveBinary.decode($0) }
            return .done
        case "test_result_reset":
            context.result = SieveResult()
            return .done
        case "test_message":
            let index = call.positional.first??.number ?? 0
            if let folder = call.tags["folder"]?.string {
                guard let box = mailboxes[Self.mailboxKey(folder)], index < box.count else { return .test(false) }
                let m = SieveMIMEMessage(box[index].text)
                context.message = m
                context.envelope = Self.envelope(for: m)
                context.replacementInternalFlags = box[index].flags
                return .test(true)
            }
            guard index < outgoing.count else { return .test(false) }
            let out = outgoing[index]
            context.message = SieveMIMEMessage(out.text)
            context.envelope = SieveEnvelope(from: out.envelopeFrom, to: out.envelopeTo, originalTo: out.envelopeTo)
            return .test(true)
        case "test_script_compile":
            return .test(compile(path: str(0)))
        case "test_script_run":
            guard let script = compiled else { return .test(false) }
            if call.tags["append_result"] == nil { context.result = SieveResult() }
            return .test(runScript(script, &context))
        case "test_multiscript":
            return .test(multiscript(call.positional.first??.strings ?? [], &context))
        case "test_result_execute":
            return .test(executeResult(&context))
        case "test_error":
            if let i = call.tags["index"]?.number {
                return .matchValues(errors.indices.contains(i - 1) ? [errors[i - 1]] : [])
            }
            return .matchValues(errors)
        case "test_result_action":
            let names = context.result.actions.compactMap { a -> String? in
                if case .trackDuplicate = a { return nil }
                return a.name
            }
            if let i = call.tags["index"]?.number {
                return .matchValues(names.indices.contains(i - 1) ? [names[i - 1]] : [])
            }
            return .matchValues(names)
        default:
            return .done
        }
    }

    func extensionBlockEnded(_ call: SieveEvaluatedCall, unwound: Bool, context: inout SieveExecutionContext) {
        guard call.name == "test", let name = currentBlock else { return }
        if unwound || blockFailure != nil {
            let reason = blockFailure ?? context.errors.last.map { "runtime error: \($0)" } ?? "failed"
            blocks.append(.init(file: file, name: name, status: .failed, reason: reason))
        } else {
            blocks.append(.init(file: file, name: name, status: .passed, reason: nil))
        }
        currentBlock = nil
        blockFailure = nil
    }

    public static func path(_ value: String) -> String {
        var v = value.trimmingCharacters(in: .whitespaces)
        if v.hasPrefix("<"), v.hasSuffix(">") { v = String(v.dropFirst().dropLast()) }
        return v
    }

    private func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
    }

    private func compile(path: String) -> Bool {
        errors = []
        compiled = nil
        guard let text = try? String(contentsOfFile: resolve(path), encoding: .utf8) else {
            errors = ["failed to open script \(path)"]
            return false
        }
        do {
            var host = self
            compiled = try SieveCompiler.compile(text, options: scriptCompileOptions, limits: includeLimits, linkingWith: &host)
            return true
        } catch {
            errors = error.diagnostics.map(\.message) + ["script compilation failed"]
            return false
        }
    }

    private func runScript(_ script: SieveScript, _ context: inout SieveExecutionContext) -> Bool {
        errors = []
        var interpreter = SieveInterpreter(host: self, options: runtimeOptions)
        let outcome = interpreter.run(script, context: context)
        var updated = outcome.context
        if let e = outcome.error {
            errors = [e.context.isEmpty ? e.kind.rawValue : e.context]
            updated.errors = context.errors
            context = updated
            return false
        }
        context = updated
        return true
    }

    private func multiscript(_ paths: [String], _ context: inout SieveExecutionContext) -> Bool {
        var local = context
        local.result = SieveResult()
        for path in paths {
            guard compile(path: path), let script = compiled else { return false }
            var interpreter = SieveInterpreter(host: self, options: runtimeOptions)
            let outcome = interpreter.run(script, context: local)
            if outcome.error != nil { return false }
            local = outcome.context
            local.replacementInternalFlags = outcome.context.result.implicitKeepFlags
            let keeps = local.result.implicitKeep
            local.result.implicitKeep = true
            if !keeps {
                local.result.implicitKeep = false
                break
            }
        }
        local.result.actions = local.result.finalActions
        local.result.implicitKeep = false
        let ok = executeResult(&local)
        context.envelope = local.envelope
        return ok
    }

    private func executeResult(_ context: inout SieveExecutionContext) -> Bool {
        let executor = SieveResultExecutor(policy: policy, now: now, messageIDSeed: "test")
        let actions = context.result.finalActions
        // Like Pigeonhole's testsuite, no vacation response memory is kept between executions.
        let execution = executor.execute(actions, message: context.message, envelope: context.envelope)
        outgoing = execution.outgoing
        var ok = true
        for store in execution.stores {
            if store.mailbox.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                errors.append("failed to store into mailbox '\(store.mailbox)': invalid mailbox name")
                ok = false
                continue
            }
            let key = Self.mailboxKey(store.mailbox)
            if mailboxes[key] == nil {
                if store.create {
                    mailboxes[key] = []
                } else {
                    errors.append("failed to store into mailbox '\(store.mailbox)': Mailbox doesn't exist: \(store.mailbox)")
                    ok = false
                    continue
                }
            }
            mailboxes[key]!.append((store.message, Self.storedFlags(store)))
        }
        for d in execution.duplicateRecords { duplicates.insert("\(d.handle)\u{0}\(d.id)") }
        return ok
    }

    /// Dovecot's store adds `$HasAttachment` / `$HasNoAttachment`; the Pigeonhole tests count it.
    static func storedFlags(_ store: SieveStore) -> [String] {
        let message = SieveMIMEMessage(store.message)
        let hasAttachment = message.parts.dropFirst().contains { part in
            part.headers.contains { $0.name.lowercased() == "content-disposition" && $0.value.lowercased().hasPrefix("attachment") }
        }
        return store.flags + [hasAttachment ? "$HasAttachment" : "$HasNoAttachment"]
    }

    // MARK: - SieveHost

    func mailboxExists(_ name: String) -> Bool { mailboxes[Self.mailboxKey(name)] != nil }

    /// INBOX is case-insensitive, also as the first hierarchy level (RFC 3501 §5.1).
    static func mailboxKey(_ name: String) -> String {
        let upper = name.uppercased()
        guard upper.hasPrefix("INBOX") else { return name }
        let rest = name.dropFirst(5)
        if rest.isEmpty || rest.first == "." || rest.first == "/" { return "INBOX" + rest }
        return name
    }

    func includeScript(name: String, location: SieveIncludeLocation) -> String? {
        let folder = location == .global ? "included-global" : "included"
        for candidate in [name + ".sieve", name] {
            let path = (directory as NSString).appendingPathComponent("\(folder)/\(candidate)")
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return text }
        }
        return nil
    }

    func duplicateSeen(handle: String, id: String) -> Bool { duplicates.contains("\(handle)\u{0}\(id)") }

    func namespaceVariable(_ name: String) -> String? {
        name == "tst.path" ? directory + "/" : nil
    }

    func mailboxMetadata(mailbox: String, name: String) -> String? { metadata["\(mailbox):\(name)"] }
    func serverMetadata(name: String) -> String? { metadata[":\(name)"] }
}

/// Address extraction for envelope derivation (`Name <a@b>` → `a@b`).
enum SieveAddressParserBridge {
    static func address(_ value: String) -> String? {
        if let lt = value.lastIndex(of: "<"), let gt = value.lastIndex(of: ">"), lt < gt {
            return String(value[value.index(after: lt)..<gt])
        }
        let t = value.trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }
}
