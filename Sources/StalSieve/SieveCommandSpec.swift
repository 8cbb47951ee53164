/// Argument shapes of RFC 5228 §2.6 / §8.2.
public enum SieveArgumentKind: Hashable, Sendable {
    case string
    case stringList
    case number

    var article: String {
        switch self {
        case .string: return "a string"
        case .stringList: return "a string list"
        case .number: return "a number"
        }
    }
}

/// A tagged argument: `:name` with an optional value, possibly one of an exclusive group.
public struct SieveTagSpec: Hashable, Sendable {
    public var name: String
    public var value: SieveArgumentKind?
    /// Tags sharing a group are mutually exclusive (match-type, comparator, address-part...).
    public var group: String?
    /// The extension that must be required for this tag to be accepted.
    public var requires: String?

    public init(_ name: String, value: SieveArgumentKind? = nil, group: String? = nil, requires: String? = nil) {
        self.name = name
        self.value = value
        self.group = group
        self.requires = requires
    }
}

public struct SievePositionalSpec: Hashable, Sendable {
    public var kind: SieveArgumentKind
    public var label: String
    public var optional: Bool

    public init(_ kind: SieveArgumentKind, _ label: String, optional: Bool = false) {
        self.kind = kind
        self.label = label
        self.optional = optional
    }
}

/// What a command or test accepts; validation is driven entirely by these tables.
public struct SieveCommandSpec: Hashable, Sendable {
    public enum Role: Hashable, Sendable { case command, test }
    public enum SubTests: Hashable, Sendable { case none, one, list }
    public enum Block: Hashable, Sendable { case none, required }

    public var name: String
    public var role: Role
    public var requires: String?
    public var tags: [SieveTagSpec]
    public var positional: [SievePositionalSpec]
    public var subTests: SubTests
    public var block: Block

    public init(_ name: String, _ role: Role, requires: String? = nil, tags: [SieveTagSpec] = [],
                positional: [SievePositionalSpec] = [], subTests: SubTests = .none, block: Block = .none) {
        self.name = name
        self.role = role
        self.requires = requires
        self.tags = tags
        self.positional = positional
        self.subTests = subTests
        self.block = block
    }
}

/// A host-defined extension (such as the test harness's vnd.dovecot.testsuite): its commands
/// are validated like built-ins and executed through `SieveHost.executeExtension`.
public struct SieveCustomExtension: Hashable, Sendable {
    public var name: String
    public var commands: [SieveCommandSpec]

    public init(name: String, commands: [SieveCommandSpec]) {
        self.name = name
        self.commands = commands
    }
}

enum SieveSpecs {
    static let matchTypeTags: [SieveTagSpec] = [
        SieveTagSpec("is", group: "match-type"),
        SieveTagSpec("contains", group: "match-type"),
        SieveTagSpec("matches", group: "match-type"),
        SieveTagSpec("value", value: .string, group: "match-type", requires: "relational"),
        SieveTagSpec("count", value: .string, group: "match-type", requires: "relational"),
        SieveTagSpec("regex", group: "match-type", requires: "regex"),
        SieveTagSpec("list", group: "match-type", requires: "extlists"),
    ]
    static let comparatorTag = SieveTagSpec("comparator", value: .string, group: "comparator")
    static let addressPartTags: [SieveTagSpec] = [
        SieveTagSpec("all", group: "address-part"),
        SieveTagSpec("localpart", group: "address-part"),
        SieveTagSpec("domain", group: "address-part"),
        SieveTagSpec("user", group: "address-part", requires: "subaddress"),
        SieveTagSpec("detail", group: "address-part", requires: "subaddress"),
    ]
    static let indexTags: [SieveTagSpec] = [
        SieveTagSpec("index", value: .number, requires: "index"),
        SieveTagSpec("last", requires: "index"),
    ]
    static let mimeTags: [SieveTagSpec] = [
        SieveTagSpec("mime", requires: "mime"),
        SieveTagSpec("anychild", requires: "mime"),
        SieveTagSpec("type", group: "mime-option", requires: "mime"),
        SieveTagSpec("subtype", group: "mime-option", requires: "mime"),
        SieveTagSpec("contenttype", group: "mime-option", requires: "mime"),
        SieveTagSpec("param", value: .stringList, group: "mime-option", requires: "mime"),
    ]
    static let matchTags = matchTypeTags + [comparatorTag]
    static let flagsTag = SieveTagSpec("flags", value: .stringList, requires: "imap4flags")
    static let fccTags: [SieveTagSpec] = [
        SieveTagSpec("fcc", value: .string, requires: "fcc"),
        SieveTagSpec("create", requires: "mailbox"),
        SieveTagSpec("specialuse", value: .string, requires: "special-use"),
        SieveTagSpec("mailboxid", value: .string, requires: "mailboxid"),
        flagsTag,
    ]
    static let modifierTags: [SieveTagSpec] = ["lower", "upper", "lowerfirst", "upperfirst", "quotewildcard",
                                               "quoteregex", "encodeurl", "length"].map { SieveTagSpec($0) }

    /// Every command and test of the supported extensions, keyed by name.
    static let all: [String: SieveCommandSpec] = {
        let specs: [SieveCommandSpec] = [
            // RFC 5228 control and actions
            SieveCommandSpec("require", .command, positional: [.init(.stringList, "capabilities")]),
            SieveCommandSpec("if", .command, subTests: .one, block: .required),
            SieveCommandSpec("elsif", .command, subTests: .one, block: .required),
            SieveCommandSpec("else", .command, block: .required),
            SieveCommandSpec("stop", .command),
            SieveCommandSpec("keep", .command, tags: [flagsTag]),
            SieveCommandSpec("discard", .command),
            SieveCommandSpec("redirect", .command, tags: [
                SieveTagSpec("copy", requires: "copy"),
                SieveTagSpec("list", requires: "extlists"),
                SieveTagSpec("notify", value: .string, requires: "redirect-dsn"),
                SieveTagSpec("ret", value: .string, requires: "redirect-dsn"),
                SieveTagSpec("bytimerelative", value: .number, group: "bytime", requires: "redirect-deliverby"),
                SieveTagSpec("bytimeabsolute", value: .string, group: "bytime", requires: "redirect-deliverby"),
                SieveTagSpec("bymode", value: .string, requires: "redirect-deliverby"),
                SieveTagSpec("bytrace", requires: "redirect-deliverby"),
            ], positional: [.init(.string, "address")]),
            SieveCommandSpec("fileinto", .command, requires: "fileinto", tags: [
                SieveTagSpec("copy", requires: "copy"),
                flagsTag,
                SieveTagSpec("create", requires: "mailbox"),
                SieveTagSpec("specialuse", value: .string, requires: "special-use"),
                SieveTagSpec("mailboxid", value: .string, requires: "mailboxid"),
            ], positional: [.init(.string, "folder")]),
            SieveCommandSpec("reject", .command, requires: "reject", positional: [.init(.string, "reason")]),
            SieveCommandSpec("ereject", .command, requires: "ereject", positional: [.init(.string, "reason")]),

            SieveCommandSpec("address", .test, tags: matchTags + addressPartTags + indexTags + mimeTags,
                             positional: [.init(.stringList, "header list"), .init(.stringList, "key list")]),
            SieveCommandSpec("envelope", .test, requires: "envelope", tags: matchTags + addressPartTags,
                             positional: [.init(.stringList, "envelope part"), .init(.stringList, "key list")]),
            SieveCommandSpec("header", .test, tags: matchTags + indexTags + mimeTags,
                             positional: [.init(.stringList, "header names"), .init(.stringList, "key list")]),
            SieveCommandSpec("exists", .test, tags: mimeTags, positional: [.init(.stringList, "header names")]),
            SieveCommandSpec("size", .test, tags: [SieveTagSpec("over", group: "size"), SieveTagSpec("under", group: "size")],
                             positional: [.init(.number, "limit")]),
            SieveCommandSpec("not", .test, subTests: .one),
            SieveCommandSpec("allof", .test, subTests: .list),
            SieveCommandSpec("anyof", .test, subTests: .list),
            SieveCommandSpec("true", .test),
            SieveCommandSpec("false", .test),

            // RFC 5173 body
            SieveCommandSpec("body", .test, requires: "body", tags: matchTags + [
                SieveTagSpec("raw", group: "body-transform"),
                SieveTagSpec("content", value: .stringList, group: "body-transform"),
                SieveTagSpec("text", group: "body-transform"),
            ], positional: [.init(.stringList, "key list")]),
            // RFC 5260 date
            SieveCommandSpec("date", .test, requires: "date", tags: matchTags + indexTags + [
                SieveTagSpec("zone", value: .string, group: "zone"),
                SieveTagSpec("originalzone", group: "zone"),
            ], positional: [.init(.string, "header name"), .init(.string, "date part"), .init(.stringList, "key list")]),
            SieveCommandSpec("currentdate", .test, requires: "date", tags: matchTags + [
                SieveTagSpec("zone", value: .string, group: "zone"),
            ], positional: [.init(.string, "date part"), .init(.stringList, "key list")]),
            // RFC 5183 environment
            SieveCommandSpec("environment", .test, requires: "environment", tags: matchTags,
                             positional: [.init(.string, "name"), .init(.stringList, "key list")]),
            // RFC 5463 ihave
            SieveCommandSpec("ihave", .test, requires: "ihave", positional: [.init(.stringList, "capabilities")]),
            SieveCommandSpec("error", .command, requires: "ihave", positional: [.init(.string, "message")]),
            // RFC 5232 imap4flags
            SieveCommandSpec("setflag", .command, requires: "imap4flags",
                             positional: [.init(.string, "variable name", optional: true), .init(.stringList, "list of flags")]),
            SieveCommandSpec("addflag", .command, requires: "imap4flags",
                             positional: [.init(.string, "variable name", optional: true), .init(.stringList, "list of flags")]),
            SieveCommandSpec("removeflag", .command, requires: "imap4flags",
                             positional: [.init(.string, "variable name", optional: true), .init(.stringList, "list of flags")]),
            SieveCommandSpec("hasflag", .test, requires: "imap4flags", tags: matchTags,
                             positional: [.init(.stringList, "variable list", optional: true), .init(.stringList, "list of flags")]),
            // RFC 6609 include
            SieveCommandSpec("include", .command, requires: "include", tags: [
                SieveTagSpec("personal", group: "location"),
                SieveTagSpec("global", group: "location"),
                SieveTagSpec("once"),
                SieveTagSpec("optional"),
            ], positional: [.init(.string, "script name")]),
            SieveCommandSpec("return", .command, requires: "include"),
            SieveCommandSpec("global", .command, requires: "include", positional: [.init(.stringList, "variable names")]),
            // RFC 5490 mailbox, mboxmetadata, servermetadata
            SieveCommandSpec("mailboxexists", .test, requires: "mailbox", positional: [.init(.stringList, "mailbox names")]),
            SieveCommandSpec("metadata", .test, requires: "mboxmetadata", tags: matchTags,
                             positional: [.init(.string, "mailbox"), .init(.string, "annotation name"), .init(.stringList, "key list")]),
            SieveCommandSpec("metadataexists", .test, requires: "mboxmetadata",
                             positional: [.init(.string, "mailbox"), .init(.stringList, "annotation names")]),
            SieveCommandSpec("servermetadata", .test, requires: "servermetadata", tags: matchTags,
                             positional: [.init(.string, "annotation name"), .init(.stringList, "key list")]),
            SieveCommandSpec("servermetadataexists", .test, requires: "servermetadata",
                             positional: [.init(.stringList, "annotation names")]),
            // RFC 8579 special-use, RFC 9042 mailboxid
            SieveCommandSpec("specialuse_exists", .test, requires: "special-use",
                             positional: [.init(.string, "mailbox", optional: true), .init(.stringList, "special-use flags")]),
            SieveCommandSpec("mailboxidexists", .test, requires: "mailboxid", positional: [.init(.stringList, "mailbox ids")]),
            // RFC 5230 vacation, RFC 6131 vacation-seconds
            SieveCommandSpec("vacation", .command, requires: "vacation", tags: [
                SieveTagSpec("days", value: .number, group: "period"),
                SieveTagSpec("seconds", value: .number, group: "period", requires: "vacation-seconds"),
                SieveTagSpec("subject", value: .string),
                SieveTagSpec("from", value: .string),
                SieveTagSpec("addresses", value: .stringList),
                SieveTagSpec("mime"),
                SieveTagSpec("handle", value: .string),
            ] + fccTags, positional: [.init(.string, "reason")]),
            // RFC 5229 variables
            SieveCommandSpec("set", .command, requires: "variables", tags: modifierTags,
                             positional: [.init(.string, "name"), .init(.string, "value")]),
            SieveCommandSpec("string", .test, requires: "variables", tags: matchTags,
                             positional: [.init(.stringList, "source"), .init(.stringList, "key list")]),
            // RFC 5293 editheader
            SieveCommandSpec("addheader", .command, requires: "editheader", tags: [SieveTagSpec("last")],
                             positional: [.init(.string, "field name"), .init(.string, "value")]),
            SieveCommandSpec("deleteheader", .command, requires: "editheader", tags: matchTags + [
                SieveTagSpec("index", value: .number), SieveTagSpec("last"),
            ], positional: [.init(.string, "field name"), .init(.stringList, "value patterns", optional: true)]),
            // RFC 7352 duplicate
            SieveCommandSpec("duplicate", .test, requires: "duplicate", tags: [
                SieveTagSpec("handle", value: .string),
                SieveTagSpec("header", value: .string, group: "duplicate-id"),
                SieveTagSpec("uniqueid", value: .string, group: "duplicate-id"),
                SieveTagSpec("seconds", value: .number),
                SieveTagSpec("last"),
            ]),
            // RFC 5435 enotify
            SieveCommandSpec("notify", .command, requires: "enotify", tags: [
                SieveTagSpec("from", value: .string),
                SieveTagSpec("importance", value: .string),
                SieveTagSpec("options", value: .stringList),
                SieveTagSpec("message", value: .string),
            ] + fccTags, positional: [.init(.string, "method")]),
            SieveCommandSpec("valid_notify_method", .test, requires: "enotify", positional: [.init(.stringList, "notification uris")]),
            SieveCommandSpec("notify_method_capability", .test, requires: "enotify", tags: matchTags,
                             positional: [.init(.string, "notification uri"), .init(.string, "capability"), .init(.stringList, "key list")]),
            // RFC 5703 foreverypart, mime, replace, enclose, extracttext
            SieveCommandSpec("foreverypart", .command, requires: "foreverypart", tags: [SieveTagSpec("name", value: .string)], block: .required),
            SieveCommandSpec("break", .command, requires: "foreverypart", tags: [SieveTagSpec("name", value: .string)]),
            SieveCommandSpec("replace", .command, requires: "replace", tags: [
                SieveTagSpec("mime"), SieveTagSpec("subject", value: .string), SieveTagSpec("from", value: .string),
            ], positional: [.init(.string, "replacement")]),
            SieveCommandSpec("enclose", .command, requires: "enclose", tags: [
                SieveTagSpec("subject", value: .string), SieveTagSpec("headers", value: .stringList),
            ], positional: [.init(.string, "text")]),
            SieveCommandSpec("extracttext", .command, requires: "extracttext",
                             tags: modifierTags + [SieveTagSpec("first", value: .number)], positional: [.init(.string, "variable name")]),
            // RFC 6558 convert (command and test; conversions are the host's)
            SieveCommandSpec("convert", .command, requires: "convert", positional: [
                .init(.string, "quoted from media type"), .init(.string, "quoted to media type"), .init(.stringList, "transcoding params"),
            ]),
            SieveCommandSpec("convert", .test, requires: "convert", positional: [
                .init(.string, "quoted from media type"), .init(.string, "quoted to media type"), .init(.stringList, "transcoding params"),
            ]),
            // RFC 3685 spamtest/virustest, RFC 3685 spamtestplus
            SieveCommandSpec("spamtest", .test, requires: "spamtest", tags: matchTags + [SieveTagSpec("percent", requires: "spamtestplus")],
                             positional: [.init(.string, "value")]),
            SieveCommandSpec("virustest", .test, requires: "virustest", tags: matchTags, positional: [.init(.string, "value")]),
            // RFC 6134 extlists
            SieveCommandSpec("valid_ext_list", .test, requires: "extlists", positional: [.init(.stringList, "list names")]),
        ]
        var map: [String: SieveCommandSpec] = [:]
        for s in specs { map[s.role == .test ? "test:" + s.name : s.name] = s }
        return map
    }()

    static func command(_ name: String) -> SieveCommandSpec? { all[name] }
    static func test(_ name: String) -> SieveCommandSpec? { all["test:" + name] }
}
