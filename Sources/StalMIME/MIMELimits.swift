import StalCore

/// The bounds every parse enforces before it spends memory. Defaults come from the
/// project-wide `Limits`; the two extra ones are specific to header blocks.
public struct MIMELimits: Sendable, Hashable {
    /// Multiparts and encapsulated messages nested deeper than this are kept as opaque leaves.
    public var nestingDepthMax: Int
    /// Parts beyond this count are not created; their bytes stay inside the enclosing body.
    public var partsMax: Int
    /// Bytes of one header block that are parsed into fields; the rest is skipped.
    public var headerOctetsMax: Int
    /// Fields kept per header block.
    public var headerFieldsMax: Int
    /// Fields kept in the whole message. A field record is ~40 bytes while the shortest
    /// field is 3 (`a:` LF), so without this cap a 50 MB message of tiny fields spread
    /// over many parts could cost 13 times its size.
    public var headerFieldsTotalMax: Int

    public init(nestingDepthMax: Int = Limits.default.mimeNestingDepthMax,
                partsMax: Int = Limits.default.mimePartsMax,
                headerOctetsMax: Int = Limits.default.mimeHeaderOctetsMax,
                headerFieldsMax: Int = 10_000,
                headerFieldsTotalMax: Int = 100_000) {
        // The parser and renderers recurse per level: 64 levels fit a 512 KB thread stack
        // even in a debug build (StackDepthTests), 128 did not.
        self.nestingDepthMax = min(max(nestingDepthMax, 1), 64)
        self.partsMax = max(partsMax, 1)
        self.headerOctetsMax = max(headerOctetsMax, 1)
        self.headerFieldsMax = max(headerFieldsMax, 1)
        self.headerFieldsTotalMax = max(headerFieldsTotalMax, 1)
    }

    public init(_ limits: Limits) {
        self.init(nestingDepthMax: limits.mimeNestingDepthMax, partsMax: limits.mimePartsMax,
                  headerOctetsMax: limits.mimeHeaderOctetsMax)
    }

    public static let `default` = MIMELimits()
}

/// Something the parser had to repair or skip. Parsing never fails; problems say what
/// was recovered so operators can see why a message looks the way it does.
public struct MIMEProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case headerTooLarge
        case tooManyHeaderFields
        case headerLineWithoutColon
        case continuationWithoutField
        case missingBoundaryParameter
        case missingCloseBoundary
        case missingOpenBoundary
        case nestingTooDeep
        case tooManyParts
        case unknownTransferEncoding
        /// message/rfc822 with base64/QP (RFC 2046 §5.2.1 forbids it): parsed after decoding.
        case encodedMessage
        case encodedMessageNotParsed
        case bodyDecodingProblem
        case charsetProblem
    }

    public var kind: Kind
    /// Byte offset in the message where the problem was found.
    public var offset: Int
    public var context: String

    public init(_ kind: Kind, offset: Int, _ context: String = "") {
        self.kind = kind
        self.offset = offset
        self.context = context
    }

    public var description: String {
        context.isEmpty ? "\(kind.rawValue) at \(offset)" : "\(kind.rawValue) at \(offset): \(context)"
    }
}
