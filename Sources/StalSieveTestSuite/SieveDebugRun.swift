import Foundation
import StalCore
import StalSieve

/// `stald debug sieve SCRIPT --message FILE [--envelope-from A --envelope-to B]`: compiles the
/// script and prints its diagnostics, or the actions it would take on the message.
public enum SieveDebugRun {
    public static func describe(scriptPath: String, messagePath: String?, envelopeFrom: String?, envelopeTo: String?,
                                now: Timestamp) -> (output: [String], ok: Bool) {
        guard let text = try? String(contentsOfFile: scriptPath, encoding: .utf8) else {
            return (["error: cannot read \(scriptPath)"], false)
        }
        let script: SieveScript
        do {
            script = try SieveCompiler.compile(text)
        } catch {
            return (error.diagnostics.map { "\(scriptPath):\($0.location.line):\($0.location.column): \($0.severity.rawValue): \($0.message)" }, false)
        }
        var lines = script.warnings.map { "\(scriptPath):\($0.location.line):\($0.location.column): warning: \($0.message)" }
        guard let messagePath else {
            lines.append("compiled: \(script.callCount) commands and tests")
            return (lines, true)
        }
        guard let raw = try? String(contentsOfFile: messagePath, encoding: .utf8) else {
            return (lines + ["error: cannot read \(messagePath)"], false)
        }
        let message = SieveMIMEMessage(raw)
        var envelope = SieveTestSession.envelope(for: message)
        if let f = envelopeFrom { envelope.from = SieveTestSession.path(f) }
        if let t = envelopeTo { envelope.to = SieveTestSession.path(t); envelope.originalTo = envelope.to }
        var interpreter = SieveInterpreter(host: SieveNullHost(), options: .untrusted(now: now))
        let outcome = interpreter.run(script, context: SieveExecutionContext(message: message, envelope: envelope))
        if let e = outcome.error { lines.append("runtime error: \(e.description) (message kept)") }
        for action in outcome.actions { lines.append(Self.describe(action)) }
        return (lines, outcome.error == nil)
    }

    public static func describe(_ action: SieveAction) -> String {
        switch action {
        case .keep(let flags): return "keep" + (flags.map { " flags=[\($0.joined(separator: " "))]" } ?? "")
        case .fileInto(let f):
            return "fileinto \"\(f.mailbox)\"" + (f.copy ? " :copy" : "") + (f.create ? " :create" : "")
                + (f.flags.map { " flags=[\($0.joined(separator: " "))]" } ?? "") + (f.specialUse.map { " :specialuse \($0)" } ?? "")
                + (f.mailboxID.map { " :mailboxid \($0)" } ?? "")
        case .redirect(let r): return "redirect <\(r.address)>" + (r.copy ? " :copy" : "")
        case .reject(let reason, let extended): return (extended ? "ereject" : "reject") + " \"\(reason)\""
        case .discard: return "discard"
        case .vacation(let v): return "vacation period=\(v.periodSeconds)s subject=\(v.subject ?? "-") reason=\"\(v.reason)\""
        case .notify(let n): return "notify \(n.method) importance=\(n.importance)"
        case .trackDuplicate(let handle, let id, let seconds): return "duplicate-track handle=\"\(handle)\" id=\"\(id)\" seconds=\(seconds)"
        }
    }
}
