/// Compile-time resolution of `include` (RFC 6609 §3.2): like Pigeonhole's binary linking, every
/// include with a constant name is loaded through the host and checked for existence, cycles,
/// nesting depth and the total number of included scripts, so CHECKSCRIPT/PUTSCRIPT report
/// these problems before delivery ever runs the script.
public struct SieveIncludeLimits: Hashable, Sendable {
    public var maxDepth: Int
    public var maxIncludes: Int

    public init(maxDepth: Int = 10, maxIncludes: Int = 255) {
        self.maxDepth = maxDepth
        self.maxIncludes = maxIncludes
    }
}

extension SieveCompiler {
    /// Compiles `text` and then links its includes through `host`.
    public static func compile<Host: SieveHost>(_ text: String, options: SieveCompileOptions, limits: SieveIncludeLimits,
                                                linkingWith host: inout Host) throws(SieveCompileError) -> SieveScript {
        let (compiled, errors) = compileCollecting(text, options: options)
        guard let script = compiled else { throw SieveCompileError(errors) }
        var linker = SieveIncludeLinker(options: options, limits: limits)
        linker.link(script, stack: [], host: &host)
        let all = (errors + linker.diagnostics).sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        if !all.isEmpty { throw SieveCompileError(all) }
        return script
    }

    /// CHECKSCRIPT / PUTSCRIPT / SieveScript/validate in one call: every error (compile and
    /// link) and every warning, sorted by position; an empty list means the script is valid.
    public static func check<Host: SieveHost>(_ text: String, options: SieveCompileOptions, limits: SieveIncludeLimits,
                                              linkingWith host: inout Host) -> [SieveDiagnostic] {
        do {
            return try compile(text, options: options, limits: limits, linkingWith: &host).warnings
        } catch {
            return error.diagnostics
        }
    }

    static func scriptKey(_ name: String, _ location: SieveIncludeLocation) -> String {
        let base = name.hasSuffix(".sieve") ? String(name.dropLast(6)) : name
        return "\(location.rawValue):\(base)"
    }
}

struct SieveIncludeLinker {
    let options: SieveCompileOptions
    let limits: SieveIncludeLimits
    var diagnostics: [SieveDiagnostic] = []
    private var included: Set<String> = []

    init(options: SieveCompileOptions, limits: SieveIncludeLimits) {
        self.options = options
        self.limits = limits
    }

    private static func includes(in calls: [SieveCall]) -> [SieveCall] {
        var out: [SieveCall] = []
        for c in calls {
            if c.name == "include" { out.append(c) }
            if let b = c.block { out += includes(in: b) }
        }
        return out
    }

    /// Returns false when something below `script` failed (the caller reports the cascade).
    @discardableResult
    mutating func link<Host: SieveHost>(_ script: SieveScript, stack: [String], host: inout Host) -> Bool {
        var ok = true
        for call in Self.includes(in: script.commands) {
            guard case .string(let t)? = call.positional.first, let name = t.constant, SieveValidator.isValidScriptName(name) else { continue }
            let location: SieveIncludeLocation = call.group("location") == "global" ? .global : .personal
            let key = SieveCompiler.scriptKey(name, location)
            if stack.contains(key) {
                diagnostics.append(SieveDiagnostic(at: call.location, "circular include of \(location.rawValue) script '\(name)'"))
                ok = false
                continue
            }
            if stack.count + 1 > limits.maxDepth {
                diagnostics.append(SieveDiagnostic(at: call.location, "cannot nest includes deeper than \(limits.maxDepth) levels (script '\(name)')"))
                ok = false
                continue
            }
            if !included.contains(key) {
                if included.count >= limits.maxIncludes {
                    diagnostics.append(SieveDiagnostic(at: call.location, "failed to include script '\(name)': no more than \(limits.maxIncludes) includes allowed"))
                    ok = false
                    continue
                }
            }
            guard let text = host.includeScript(name: name, location: location) else {
                if call.has("optional") { continue }
                diagnostics.append(SieveDiagnostic(at: call.location, "included \(location.rawValue) script '\(name)' does not exist"))
                ok = false
                continue
            }
            included.insert(key)
            let child: SieveScript
            do {
                child = try SieveCompiler.compile(text, options: options)
            } catch {
                diagnostics.append(SieveDiagnostic(at: call.location, "failed to compile included \(location.rawValue) script '\(name)'"))
                ok = false
                continue
            }
            if !link(child, stack: stack + [key], host: &host) {
                diagnostics.append(SieveDiagnostic(at: call.location, "failed to include \(location.rawValue) script '\(name)'"))
                ok = false
            }
        }
        return ok
    }
}
