import StalCore

/// Why a complete command line could not become an `SMTPCommand`.
public struct SMTPSyntaxError: Error, Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// The verb is not one Stal knows (500 5.5.1).
        case unrecognizedCommand
        /// A known verb with missing or malformed arguments (501 5.5.4).
        case badArguments
        /// The reverse path of MAIL is not a mailbox (501 5.1.7).
        case badSenderAddress
        /// The forward path of RCPT is not a mailbox (501 5.1.3).
        case badRecipientAddress
        /// A MAIL/RCPT parameter that was not advertised (555 5.5.4).
        case unsupportedParameter
        /// A command line containing a CR or LF that is not part of the terminating CRLF,
        /// or bytes that are not UTF-8 (500 5.5.2).
        case malformedLine
        /// A BDAT whose chunk size cannot be read: its chunk cannot be skipped, so the
        /// connection is closed rather than reading message bytes as commands.
        case unframeableChunk
    }

    public var kind: Kind
    public var context: String

    public init(_ kind: Kind, _ context: String) {
        self.kind = kind
        self.context = context
    }
}

/// Parses one command line (without its CRLF) into an `SMTPCommand` (RFC 5321 §4.1).
public struct SMTPCommandParser: Sendable {
    /// The domain `RCPT TO:<Postmaster>` (no domain, RFC 5321 §4.1.1.3) is delivered to.
    public var postmasterDomain: String

    public init(postmasterDomain: String) {
        self.postmasterDomain = postmasterDomain
    }

    public func parse(_ line: some Collection<UInt8>) -> Result<SMTPCommand, SMTPSyntaxError> {
        if line.contains(where: { $0 == 13 || $0 == 10 }) {
            return .failure(SMTPSyntaxError(.malformedLine, "bare CR or LF in command line"))
        }
        guard let text = String(validating: line, as: UTF8.self) else {
            return .failure(SMTPSyntaxError(.malformedLine, "command line is not UTF-8"))
        }
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        let argument = text[verbEnd...].drop(while: { $0 == " " })
        do {
            return .success(try parse(verb: verb, argument: argument))
        } catch let error as SMTPSyntaxError {
            return .failure(error)
        } catch {
            return .failure(SMTPSyntaxError(.badArguments, "\(error)"))
        }
    }

    private func parse(verb: String, argument: Substring) throws -> SMTPCommand {
        func noArgument(_ command: SMTPCommand) throws -> SMTPCommand {
            guard argument.isEmpty else { throw SMTPSyntaxError(.badArguments, "\(verb) takes no argument") }
            return command
        }
        func domainArgument() throws -> String {
            let domain = argument.trimmingTrailingSpaces()
            guard !domain.isEmpty, !domain.contains(" ") else {
                throw SMTPSyntaxError(.badArguments, "\(verb) requires a domain or address literal")
            }
            return String(domain)
        }
        switch verb {
        case "HELO": return .helo(try domainArgument())
        case "EHLO": return .ehlo(try domainArgument())
        case "LHLO": return .lhlo(try domainArgument())
        case "MAIL": return try parseMail(argument)
        case "RCPT": return try parseRcpt(argument)
        case "DATA": return try noArgument(.data)
        case "BDAT": return try parseBdat(argument)
        case "RSET": return try noArgument(.rset)
        case "NOOP": return .noop
        case "QUIT": return try noArgument(.quit)
        case "VRFY": return .vrfy(String(argument))
        case "EXPN": return .expn(String(argument))
        case "HELP": return .help
        case "STARTTLS": return try noArgument(.startTLS)
        case "AUTH": return try parseAuth(argument)
        default: throw SMTPSyntaxError(.unrecognizedCommand, "unknown command")
        }
    }

    private func parseMail(_ argument: Substring) throws -> SMTPCommand {
        guard let rest = argument.droppingPrefixCaseInsensitive("FROM:") else {
            throw SMTPSyntaxError(.badArguments, "Syntax: MAIL FROM:<address>")
        }
        let (path, parameterText) = try Self.splitPath(rest, error: .badSenderAddress)
        let reversePath: EmailAddress?
        if path.isEmpty {
            reversePath = nil
        } else {
            guard let address = EmailAddress(Self.strippingSourceRoute(path)) else {
                throw SMTPSyntaxError(.badSenderAddress, "bad sender address syntax")
            }
            reversePath = address
        }
        var parameters = SMTPMailParameters()
        for (key, value) in try Self.parameters(parameterText) {
            switch key {
            case "SIZE":
                guard let value, let size = Int(value), size >= 0 else {
                    throw SMTPSyntaxError(.badArguments, "SIZE needs a number")
                }
                parameters.declaredSize = size
            case "BODY":
                guard let value, let body = SMTPBodyType(rawValue: value.uppercased()) else {
                    throw SMTPSyntaxError(.unsupportedParameter, "BODY must be 7BIT or 8BITMIME")
                }
                parameters.body = body
            case "SMTPUTF8":
                guard value == nil else { throw SMTPSyntaxError(.badArguments, "SMTPUTF8 takes no value") }
                parameters.smtpUTF8 = true
            case "AUTH":
                guard let value else { throw SMTPSyntaxError(.badArguments, "AUTH= needs a value") }
                parameters.authIdentity = value
            default:
                throw SMTPSyntaxError(.unsupportedParameter, "unsupported MAIL parameter \(key)")
            }
        }
        return .mail(reversePath: reversePath, parameters: parameters)
    }

    private func parseRcpt(_ argument: Substring) throws -> SMTPCommand {
        guard let rest = argument.droppingPrefixCaseInsensitive("TO:") else {
            throw SMTPSyntaxError(.badArguments, "Syntax: RCPT TO:<address>")
        }
        let (path, parameterText) = try Self.splitPath(rest, error: .badRecipientAddress)
        if let (key, _) = try Self.parameters(parameterText).first {
            throw SMTPSyntaxError(.unsupportedParameter, "unsupported RCPT parameter \(key)")
        }
        if path.lowercased() == "postmaster" {
            return .rcpt(forwardPath: EmailAddress(localPart: "postmaster", domain: postmasterDomain))
        }
        guard !path.isEmpty, let address = EmailAddress(Self.strippingSourceRoute(path)) else {
            throw SMTPSyntaxError(.badRecipientAddress, "bad recipient address syntax")
        }
        return .rcpt(forwardPath: address)
    }

    private func parseBdat(_ argument: Substring) throws -> SMTPCommand {
        let words = argument.split(separator: " ")
        guard let first = words.first, first.utf8.count <= 18, first.allSatisfy(\.isASCIIDigit),
              let size = Int(first) else {
            throw SMTPSyntaxError(.unframeableChunk, "Syntax: BDAT <size> [LAST]")
        }
        switch words.count {
        case 1: return .bdat(chunkOctets: size, isLast: false)
        case 2 where words[1].uppercased() == "LAST": return .bdat(chunkOctets: size, isLast: true)
        default: throw SMTPSyntaxError(.unframeableChunk, "Syntax: BDAT <size> [LAST]")
        }
    }

    private func parseAuth(_ argument: Substring) throws -> SMTPCommand {
        let words = argument.split(separator: " ")
        guard (1...2).contains(words.count) else {
            throw SMTPSyntaxError(.badArguments, "Syntax: AUTH mechanism [initial-response]")
        }
        guard let mechanism = SASLMechanism(rawValue: words[0].uppercased()) else {
            throw SMTPSyntaxError(.unsupportedParameter, "unsupported authentication mechanism")
        }
        return .auth(mechanism, initialResponse: words.count == 2 ? String(words[1]) : nil)
    }

    /// Splits `<path> params` (spaces after the colon are tolerated, as most servers do)
    /// and returns the text between the angle brackets. Quoted local parts may contain `>`.
    static func splitPath(_ text: Substring, error: SMTPSyntaxError.Kind) throws -> (Substring, Substring) {
        let trimmed = text.drop(while: { $0 == " " })
        guard trimmed.first == "<" else { throw SMTPSyntaxError(error, "address must be enclosed in <>") }
        var inQuotes = false
        var escaped = false
        var index = trimmed.index(after: trimmed.startIndex)
        while index < trimmed.endIndex {
            let c = trimmed[index]
            if escaped {
                escaped = false
            } else if inQuotes && c == "\\" {
                escaped = true
            } else if c == "\"" {
                inQuotes.toggle()
            } else if c == ">" && !inQuotes {
                let path = trimmed[trimmed.index(after: trimmed.startIndex)..<index]
                return (path, trimmed[trimmed.index(after: index)...])
            }
            index = trimmed.index(after: index)
        }
        throw SMTPSyntaxError(error, "unterminated address")
    }

    /// Drops an obsolete source route (`@a,@b:user@domain`, RFC 5321 §4.1.2 and Appendix C).
    static func strippingSourceRoute(_ path: Substring) -> Substring {
        guard path.first == "@", let colon = path.firstIndex(of: ":") else { return path }
        return path[path.index(after: colon)...]
    }

    static func parameters(_ text: Substring) throws -> [(String, String?)] {
        guard text.isEmpty || text.first == " " else {
            throw SMTPSyntaxError(.badArguments, "parameters must follow the address after a space")
        }
        return try text.split(separator: " ").map { word in
            if let equals = word.firstIndex(of: "=") {
                let key = word[..<equals].uppercased()
                guard !key.isEmpty else { throw SMTPSyntaxError(.badArguments, "empty parameter name") }
                return (key, String(word[word.index(after: equals)...]))
            }
            return (word.uppercased(), nil)
        }
    }
}

extension Substring {
    func droppingPrefixCaseInsensitive(_ prefix: String) -> Substring? {
        guard count >= prefix.count, self.prefix(prefix.count).uppercased() == prefix else { return nil }
        return dropFirst(prefix.count)
    }

    func trimmingTrailingSpaces() -> Substring {
        var s = self
        while s.last == " " { s = s.dropLast() }
        return s
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
