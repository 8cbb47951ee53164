/// One header field as it sits in the message: offsets only, so parsing a header block
/// allocates nothing but the names.
public struct MIMEHeaderField: Sendable, Hashable {
    /// The name as written (case preserved, trailing blanks before the colon removed).
    public var name: String
    /// Offset of the first byte of the name.
    public var start: Int
    /// Offset just after the colon.
    public var valueStart: Int
    /// Offset just after the line break that ends the field (folded lines included).
    public var end: Int

    public func hasName(_ other: String) -> Bool {
        guard name.utf8.count == other.utf8.count else { return false }
        return zip(name.utf8, other.utf8).allSatisfy { ASCII.lower($0) == ASCII.lower($1) }
    }
}

/// One entity of the MIME tree. Part 0 of a message is the message itself; the tree is
/// a flat array linked by indexes so that deep trees cost no recursion to walk.
public struct MIMEPart: Sendable {
    public enum Body: Sendable, Hashable {
        case leaf
        /// Child part indexes in order.
        case multipart([Int])
        /// message/rfc822 or message/global: the index of the encapsulated message's root.
        case message(Int)
    }

    /// Offset of the first header byte.
    public internal(set) var headerStart: Int
    /// Offset of the first body byte (just after the empty line ending the header).
    public internal(set) var bodyStart: Int
    /// Offset just past the body. The line break before a boundary belongs to the boundary.
    public internal(set) var end: Int
    public internal(set) var headers: [MIMEHeaderField]
    /// The effective type: the header's, or the default of the context (text/plain, or
    /// message/rfc822 inside multipart/digest).
    public internal(set) var contentType: ContentType
    public internal(set) var hasContentTypeField: Bool
    public internal(set) var transferEncoding: TransferEncoding
    public internal(set) var body: Body
    public internal(set) var parent: Int?
    public internal(set) var depth: Int
    /// For multiparts: the text before the first boundary and after the closing one.
    public internal(set) var preamble: Range<Int>?
    public internal(set) var epilogue: Range<Int>?

    public var headerRange: Range<Int> { headerStart..<bodyStart }
    public var bodyRange: Range<Int> { bodyStart..<end }
    public var range: Range<Int> { headerStart..<end }

    public var children: [Int] {
        switch body {
        case .multipart(let c): return c
        case .message(let m): return [m]
        case .leaf: return []
        }
    }

    public var isMultipart: Bool { if case .multipart = body { return true } else { return false } }
}
