import StalCore

/// The second parsing stage: turns one complete frame into a typed command. Never sees
/// partial input; an error carries the tag whenever one could be read.
public enum IMAPCommandParser {
    public static func parse(_ frame: IMAPFrame) -> Result<TaggedCommand, IMAPParseError> {
        var input = ParserInput(frame: frame)
        let tagBytes = input.take(while: IMAPGrammar.isTagChar)
        guard !tagBytes.isEmpty else { return .failure(IMAPParseError(tag: nil, message: "missing tag")) }
        let tag = String(decoding: tagBytes, as: UTF8.self)
        do {
            try input.expectSpace()
            let command = try parseCommand(&input)
            try input.expectEnd()
            return .success(TaggedCommand(tag: tag, command: command))
        } catch let failure as ParseFailure {
            return .failure(IMAPParseError(tag: tag, message: failure.message))
        } catch {
            return .failure(IMAPParseError(tag: tag, message: "invalid command"))
        }
    }

    private static func parseCommand(_ input: inout ParserInput) throws -> IMAPCommand {
        let name = try input.atom().uppercased()
        switch name {
        case "CAPABILITY": return .capability
        case "NOOP": return .noop
        case "LOGOUT": return .logout
        case "STARTTLS": return .startTLS
        case "CHECK": return .check
        case "CLOSE": return .close
        case "UNSELECT": return .unselect
        case "EXPUNGE": return .expunge
        case "NAMESPACE": return .namespace
        case "IDLE": return .idle
        case "LOGIN":
            try input.expectSpace()
            let user = try input.astringText()
            try input.expectSpace()
            let password = try input.astringText()
            return .login(username: user, password: password)
        case "AUTHENTICATE":
            try input.expectSpace()
            let mechanism = try input.atom().uppercased()
            var initial: String?
            if input.skip(UInt8(ascii: " ")) {
                initial = String(decoding: input.take { $0 != UInt8(ascii: " ") }, as: UTF8.self)
                if initial?.isEmpty == true { throw ParseFailure("empty initial response") }
            }
            return .authenticate(mechanism: mechanism, initialResponse: initial)
        case "ID":
            try input.expectSpace()
            return .id(try parseIDParameters(&input))
        case "ENABLE":
            var capabilities: [String] = []
            while input.skip(UInt8(ascii: " ")) { capabilities.append(try input.atom().uppercased()) }
            guard !capabilities.isEmpty else { throw ParseFailure("ENABLE needs a capability") }
            return .enable(capabilities)
        case "LIST":
            return try parseList(&input)
        case "LSUB":
            try input.expectSpace()
            let reference = try input.mailbox()
            try input.expectSpace()
            return .lsub(reference: reference, pattern: try input.listMailbox())
        case "CREATE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE":
            try input.expectSpace()
            let mailbox = try input.mailbox()
            switch name {
            case "CREATE": return .create(mailbox)
            case "DELETE": return .delete(mailbox)
            case "SUBSCRIBE": return .subscribe(mailbox)
            default: return .unsubscribe(mailbox)
            }
        case "RENAME":
            try input.expectSpace()
            let from = try input.mailbox()
            try input.expectSpace()
            return .rename(from: from, to: try input.mailbox())
        case "SELECT", "EXAMINE":
            try input.expectSpace()
            let mailbox = try input.mailbox()
            return .select(mailbox, readOnly: name == "EXAMINE")
        case "STATUS":
            try input.expectSpace()
            let mailbox = try input.mailbox()
            try input.expectSpace()
            return .status(mailbox, try parseStatusAttributes(&input))
        case "APPEND":
            return try parseAppend(&input)
        case "SEARCH":
            return try parseSearch(&input, uid: false)
        case "FETCH":
            return try parseFetch(&input, uid: false)
        case "STORE":
            return try parseStore(&input, uid: false)
        case "COPY", "MOVE":
            return try parseCopy(&input, move: name == "MOVE", uid: false)
        case "UID":
            try input.expectSpace()
            let sub = try input.atom().uppercased()
            switch sub {
            case "SEARCH": return try parseSearch(&input, uid: true)
            case "FETCH": return try parseFetch(&input, uid: true)
            case "STORE": return try parseStore(&input, uid: true)
            case "COPY", "MOVE": return try parseCopy(&input, move: sub == "MOVE", uid: true)
            case "EXPUNGE":
                try input.expectSpace()
                return .uidExpunge(try parseSequenceSet(&input))
            default: throw ParseFailure("unknown UID command")
            }
        default:
            throw ParseFailure("unknown command")
        }
    }

    private static func parseIDParameters(_ input: inout ParserInput) throws -> [IDParameter]? {
        if input.keyword("NIL") { return nil }
        try input.expect(UInt8(ascii: "("), "(")
        var parameters: [IDParameter] = []
        if input.skip(UInt8(ascii: ")")) { return parameters }
        repeat {
            let key = String(decoding: try input.string(), as: UTF8.self)
            try input.expectSpace()
            let value = try input.nstring().map { String(decoding: $0, as: UTF8.self) }
            parameters.append(IDParameter(key: key, value: value))
            guard parameters.count <= 30 else { throw ParseFailure("too many ID fields") }
        } while input.skip(UInt8(ascii: " "))
        try input.expect(UInt8(ascii: ")"), ")")
        return parameters
    }

    private static func parseList(_ input: inout ParserInput) throws -> IMAPCommand {
        var options = ListOptions()
        try input.expectSpace()
        if input.skip(UInt8(ascii: "(")) {
            options.extended = true
            while !input.skip(UInt8(ascii: ")")) {
                _ = input.skip(UInt8(ascii: " "))
                switch try input.atom().uppercased() {
                case "SUBSCRIBED": options.subscribedOnly = true; options.returnSubscribed = true
                case "SPECIAL-USE": options.specialUseOnly = true; options.returnSpecialUse = true
                case "REMOTE", "RECURSIVEMATCH": break
                default: throw ParseFailure("unsupported LIST selection option")
                }
            }
            try input.expectSpace()
        }
        let reference = try input.mailbox()
        try input.expectSpace()
        var patterns: [String] = []
        if input.skip(UInt8(ascii: "(")) {
            options.extended = true
            repeat { patterns.append(try input.listMailbox()) } while input.skip(UInt8(ascii: " "))
            try input.expect(UInt8(ascii: ")"), ")")
        } else {
            patterns.append(try input.listMailbox())
        }
        if input.skip(UInt8(ascii: " ")) {
            guard input.keyword("RETURN") else { throw ParseFailure("expected RETURN") }
            options.extended = true
            try input.expectSpace()
            try input.expect(UInt8(ascii: "("), "(")
            while !input.skip(UInt8(ascii: ")")) {
                _ = input.skip(UInt8(ascii: " "))
                switch try input.atom().uppercased() {
                case "SPECIAL-USE": options.returnSpecialUse = true
                case "SUBSCRIBED": options.returnSubscribed = true
                case "CHILDREN": options.returnChildren = true
                case "STATUS":
                    try input.expectSpace()
                    options.returnStatus = try parseStatusAttributes(&input)
                default: throw ParseFailure("unsupported LIST return option")
                }
            }
        }
        return .list(reference: reference, patterns: patterns, options: options)
    }

    private static func parseStatusAttributes(_ input: inout ParserInput) throws -> [StatusAttribute] {
        try input.expect(UInt8(ascii: "("), "(")
        var attributes: [StatusAttribute] = []
        repeat {
            guard let a = StatusAttribute(rawValue: try input.atom().uppercased()) else {
                throw ParseFailure("unknown STATUS attribute")
            }
            attributes.append(a)
        } while input.skip(UInt8(ascii: " "))
        try input.expect(UInt8(ascii: ")"), ")")
        return attributes
    }

    static func parseFlagList(_ input: inout ParserInput) throws -> [String] {
        try input.expect(UInt8(ascii: "("), "(")
        var flags: [String] = []
        if input.skip(UInt8(ascii: ")")) { return flags }
        repeat { flags.append(try parseFlag(&input)) } while input.skip(UInt8(ascii: " "))
        try input.expect(UInt8(ascii: ")"), ")")
        return flags
    }

    private static func parseFlag(_ input: inout ParserInput) throws -> String {
        if input.skip(UInt8(ascii: "\\")) { return "\\" + (try input.atom()) }
        return try input.atom()
    }

    private static func parseAppend(_ input: inout ParserInput) throws -> IMAPCommand {
        try input.expectSpace()
        let mailbox = try input.mailbox()
        try input.expectSpace()
        var flags: [String] = []
        if input.peek() == UInt8(ascii: "(") {
            flags = try parseFlagList(&input)
            try input.expectSpace()
        }
        var date: Timestamp?
        if input.peek() == UInt8(ascii: "\"") {
            guard let parsed = IMAPDateParser.dateTime(String(decoding: try input.quoted(), as: UTF8.self)) else {
                throw ParseFailure("invalid date-time")
            }
            date = parsed
            try input.expectSpace()
        }
        guard input.peek() == UInt8(ascii: "{") else { throw ParseFailure("APPEND needs a literal") }
        let message = try input.literal()
        return .append(mailbox: mailbox, flags: flags, internalDate: date, message: message)
    }

    static func parseSequenceSet(_ input: inout ParserInput) throws -> SequenceSet {
        var ranges: [SequenceSet.Range] = []
        repeat {
            let first = try parseBound(&input)
            var last = first
            if input.skip(UInt8(ascii: ":")) { last = try parseBound(&input) }
            ranges.append(SequenceSet.Range(first, last))
        } while input.skip(UInt8(ascii: ","))
        return SequenceSet(ranges)
    }

    private static func parseBound(_ input: inout ParserInput) throws -> SequenceBound {
        if input.skip(UInt8(ascii: "*")) { return .last }
        return .number(try input.nzNumber())
    }

    private static func parseFetch(_ input: inout ParserInput, uid: Bool) throws -> IMAPCommand {
        try input.expectSpace()
        let set = try parseSequenceSet(&input)
        try input.expectSpace()
        var attributes: [FetchAttribute] = []
        if input.skip(UInt8(ascii: "(")) {
            repeat { attributes.append(try parseFetchAttribute(&input)) } while input.skip(UInt8(ascii: " "))
            try input.expect(UInt8(ascii: ")"), ")")
        } else if input.keyword("ALL") {
            attributes = FetchAttribute.all
        } else if input.keyword("FAST") {
            attributes = FetchAttribute.fast
        } else if input.keyword("FULL") {
            attributes = FetchAttribute.full
        } else {
            attributes = [try parseFetchAttribute(&input)]
        }
        return .fetch(set, attributes, uid: uid)
    }

    private static func parseFetchAttribute(_ input: inout ParserInput) throws -> FetchAttribute {
        let name = String(decoding: input.take { IMAPGrammar.isAtomChar($0) && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "<") },
                          as: UTF8.self).uppercased()
        switch name {
        case "ENVELOPE": return .envelope
        case "FLAGS": return .flags
        case "INTERNALDATE": return .internalDate
        case "RFC822": return .rfc822
        case "RFC822.HEADER": return .rfc822Header
        case "RFC822.SIZE": return .rfc822Size
        case "RFC822.TEXT": return .rfc822Text
        case "BODYSTRUCTURE": return .bodyStructure
        case "UID": return .uid
        case "BODY", "BODY.PEEK":
            guard input.peek() == UInt8(ascii: "[") else {
                if name == "BODY" { return .body }
                throw ParseFailure("BODY.PEEK needs a section")
            }
            input.advance()
            let section = try parseSection(&input)
            try input.expect(UInt8(ascii: "]"), "]")
            var partial: PartialRange?
            if input.skip(UInt8(ascii: "<")) {
                let offset = try input.number()
                try input.expect(UInt8(ascii: "."), ".")
                let length = try input.nzNumber()
                try input.expect(UInt8(ascii: ">"), ">")
                partial = PartialRange(offset: offset, length: length)
            }
            return .bodySection(peek: name == "BODY.PEEK", section: section, partial: partial)
        default:
            throw ParseFailure("unknown FETCH attribute")
        }
    }

    private static func parseSection(_ input: inout ParserInput) throws -> SectionSpec {
        var part: [Int] = []
        while let c = input.peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            part.append(Int(try input.nzNumber()))
            guard part.count <= 64 else { throw ParseFailure("section path too deep") }
            guard input.peek() == UInt8(ascii: ".") else { return SectionSpec(part: part) }
            input.advance()
        }
        if input.peek() == UInt8(ascii: "]") {
            guard part.isEmpty else { throw ParseFailure("invalid section") }
            return SectionSpec()
        }
        let word = String(decoding: input.take { IMAPGrammar.isAtomChar($0) && $0 != UInt8(ascii: "[") }, as: UTF8.self).uppercased()
        switch word {
        case "HEADER": return SectionSpec(part: part, text: .header)
        case "TEXT": return SectionSpec(part: part, text: .text)
        case "MIME":
            guard !part.isEmpty else { throw ParseFailure("MIME needs a part number") }
            return SectionSpec(part: part, text: .mime)
        case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
            try input.expectSpace()
            try input.expect(UInt8(ascii: "("), "(")
            var names: [String] = []
            repeat { names.append(try input.astringText()) } while input.skip(UInt8(ascii: " "))
            try input.expect(UInt8(ascii: ")"), ")")
            return SectionSpec(part: part, text: word == "HEADER.FIELDS" ? .headerFields(names) : .headerFieldsNot(names))
        default:
            throw ParseFailure("invalid section")
        }
    }

    private static func parseStore(_ input: inout ParserInput, uid: Bool) throws -> IMAPCommand {
        try input.expectSpace()
        let set = try parseSequenceSet(&input)
        try input.expectSpace()
        var mode = StoreOperation.Mode.replace
        if input.skip(UInt8(ascii: "+")) { mode = .add } else if input.skip(UInt8(ascii: "-")) { mode = .remove }
        guard input.keyword("FLAGS") else { throw ParseFailure("expected FLAGS") }
        let silent = input.keyword(".SILENT")
        try input.expectSpace()
        var flags: [String]
        if input.peek() == UInt8(ascii: "(") {
            flags = try parseFlagList(&input)
        } else {
            flags = []
            repeat { flags.append(try parseFlag(&input)) } while input.skip(UInt8(ascii: " "))
        }
        return .store(set, StoreOperation(mode: mode, silent: silent, flags: flags), uid: uid)
    }

    private static func parseCopy(_ input: inout ParserInput, move: Bool, uid: Bool) throws -> IMAPCommand {
        try input.expectSpace()
        let set = try parseSequenceSet(&input)
        try input.expectSpace()
        let mailbox = try input.mailbox()
        return move ? .move(set, mailbox: mailbox, uid: uid) : .copy(set, mailbox: mailbox, uid: uid)
    }

    private static func parseSearch(_ input: inout ParserInput, uid: Bool) throws -> IMAPCommand {
        try input.expectSpace()
        var charset: String?
        if input.keyword("CHARSET ") {
            charset = try input.astringText().uppercased()
            try input.expectSpace()
        }
        var keys: [SearchKey] = []
        repeat { keys.append(try parseSearchKey(&input, depth: 0)) } while input.skip(UInt8(ascii: " "))
        return .search(charset: charset, key: keys.count == 1 ? keys[0] : .and(keys), uid: uid)
    }

    private static func searchString(_ input: inout ParserInput) throws -> String {
        try input.expectSpace()
        return try input.astringText()
    }

    private static func searchDate(_ input: inout ParserInput) throws -> IMAPDate {
        try input.expectSpace()
        let text: String
        if input.peek() == UInt8(ascii: "\"") {
            text = String(decoding: try input.quoted(), as: UTF8.self)
        } else {
            text = try input.atom()
        }
        guard let date = IMAPDateParser.date(text) else { throw ParseFailure("invalid date") }
        return date
    }

    private static func parseSearchKey(_ input: inout ParserInput, depth: Int) throws -> SearchKey {
        guard depth < 64 else { throw ParseFailure("search key nested too deeply") }
        if input.skip(UInt8(ascii: "(")) {
            var keys: [SearchKey] = []
            repeat { keys.append(try parseSearchKey(&input, depth: depth + 1)) } while input.skip(UInt8(ascii: " "))
            try input.expect(UInt8(ascii: ")"), ")")
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if let c = input.peek(), c == UInt8(ascii: "*") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) {
            return .sequenceSet(try parseSequenceSet(&input))
        }
        let word = try input.atom().uppercased()
        switch word {
        case "ALL": return .all
        case "ANSWERED": return .answered
        case "DELETED": return .deleted
        case "DRAFT": return .draft
        case "FLAGGED": return .flagged
        case "SEEN": return .seen
        case "RECENT": return .recent
        case "NEW": return .new
        case "OLD": return .old
        case "UNANSWERED": return .unanswered
        case "UNDELETED": return .undeleted
        case "UNDRAFT": return .undraft
        case "UNFLAGGED": return .unflagged
        case "UNSEEN": return .unseen
        case "KEYWORD":
            try input.expectSpace()
            return .keyword(try input.atom())
        case "UNKEYWORD":
            try input.expectSpace()
            return .unkeyword(try input.atom())
        case "BCC": return .bcc(try searchString(&input))
        case "CC": return .cc(try searchString(&input))
        case "FROM": return .from(try searchString(&input))
        case "TO": return .to(try searchString(&input))
        case "SUBJECT": return .subject(try searchString(&input))
        case "BODY": return .body(try searchString(&input))
        case "TEXT": return .text(try searchString(&input))
        case "HEADER":
            let name = try searchString(&input)
            return .header(name: name, value: try searchString(&input))
        case "BEFORE": return .before(try searchDate(&input))
        case "ON": return .on(try searchDate(&input))
        case "SINCE": return .since(try searchDate(&input))
        case "SENTBEFORE": return .sentBefore(try searchDate(&input))
        case "SENTON": return .sentOn(try searchDate(&input))
        case "SENTSINCE": return .sentSince(try searchDate(&input))
        case "LARGER":
            try input.expectSpace()
            return .larger(try input.number())
        case "SMALLER":
            try input.expectSpace()
            return .smaller(try input.number())
        case "UID":
            try input.expectSpace()
            return .uid(try parseSequenceSet(&input))
        case "NOT":
            try input.expectSpace()
            return .not(try parseSearchKey(&input, depth: depth + 1))
        case "OR":
            try input.expectSpace()
            let a = try parseSearchKey(&input, depth: depth + 1)
            try input.expectSpace()
            return .or(a, try parseSearchKey(&input, depth: depth + 1))
        default:
            throw ParseFailure("unknown search key")
        }
    }
}
