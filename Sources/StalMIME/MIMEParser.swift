#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds the MIME tree in one pass over the bytes. Boundaries of every open multipart
/// sit on a stack; a body ends at the first line that matches any of them, so a part
/// whose own closing boundary is missing still ends where its parent's next part begins.
struct MIMEParser {
    struct BoundaryHit {
        var level: Int
        var isClose: Bool
        var lineStart: Int
        var next: Int
    }

    let buf: UnsafeBufferPointer<UInt8>
    let base: UnsafePointer<UInt8>
    let count: Int
    let limits: MIMELimits
    var parts: [MIMEPart] = []
    var problems: [MIMEProblem] = []
    /// message/rfc822 parts with a base64 or quoted-printable body, with their depth: the
    /// message is parsed from the decoded bytes once the outer parse is done.
    var encodedMessageParts: [(part: Int, depth: Int)] = []
    /// Each entry is `--` followed by the boundary.
    var boundaries: [[UInt8]] = []
    var partsLimitReported = false
    var headerOnly = false
    var fieldsTotal = 0
    var fieldsTotalReported = false
    var depthLimitReported = false

    init(_ buf: UnsafeBufferPointer<UInt8>, base: UnsafePointer<UInt8>, limits: MIMELimits) {
        self.buf = buf
        self.base = base
        self.count = buf.count
        self.limits = limits
    }

    mutating func problem(_ kind: MIMEProblem.Kind, _ offset: Int, _ context: String = "") {
        // A hostile message can provoke a problem per line; keep the report bounded.
        if problems.count < 1000 { problems.append(MIMEProblem(kind, offset: offset, context)) }
    }

    @inline(__always) func lineEnd(from p: Int) -> Int {
        guard p < count, let hit = memchr(base + p, Int32(ASCII.lf), count - p) else { return count }
        return UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
    }

    /// Whether the line at `p` is a delimiter of an open multipart, innermost first.
    func matchBoundary(at p: Int) -> BoundaryHit? {
        var level = boundaries.count - 1
        while level >= 0 {
            let b = boundaries[level]
            if count - p >= b.count, b.withUnsafeBufferPointer({ memcmp(base + p, $0.baseAddress!, b.count) == 0 }) {
                var after = p + b.count
                var isClose = false
                if after + 1 < count, buf[after] == ASCII.dash, buf[after + 1] == ASCII.dash {
                    isClose = true
                    after += 2
                }
                var q = after
                while q < count, buf[q] == ASCII.space || buf[q] == ASCII.tab || buf[q] == ASCII.cr { q += 1 }
                if q == count || buf[q] == ASCII.lf {
                    return BoundaryHit(level: level, isClose: isClose, lineStart: p, next: q == count ? count : q + 1)
                }
                if isClose {
                    let e = lineEnd(from: q)
                    return BoundaryHit(level: level, isClose: true, lineStart: p, next: e == count ? count : e + 1)
                }
            }
            level -= 1
        }
        return nil
    }

    /// The next delimiter line at or after the line starting at `p`.
    func scanForBoundary(from start: Int) -> BoundaryHit? {
        if boundaries.isEmpty { return nil }
        var p = start
        while p < count {
            if buf[p] == ASCII.dash, p + 1 < count, buf[p + 1] == ASCII.dash, let hit = matchBoundary(at: p) {
                return hit
            }
            let e = lineEnd(from: p)
            if e >= count { return nil }
            p = e + 1
        }
        return nil
    }

    /// Where a body ends when a delimiter line starts at `lineStart`: the preceding line
    /// break belongs to the delimiter (RFC 2046 §5.1.1).
    func bodyEnd(beforeLine lineStart: Int, floor: Int) -> Int {
        var e = lineStart
        if e > floor, buf[e - 1] == ASCII.lf {
            e -= 1
            if e > floor, buf[e - 1] == ASCII.cr { e -= 1 }
        }
        return e
    }

    struct HeaderBlock {
        var fields: [MIMEHeaderField]
        var bodyStart: Int
        var hit: BoundaryHit?
    }

    mutating func parseHeaders(start: Int) -> HeaderBlock {
        var fields: [MIMEHeaderField] = []
        var p = start
        var open: (name: String, start: Int, valueStart: Int)? = nil
        var recording = true
        func close(_ fields: inout [MIMEHeaderField], at end: Int) {
            if let f = open { fields.append(MIMEHeaderField(name: f.name, start: f.start, valueStart: f.valueStart, end: end)) }
            open = nil
        }
        while p < count {
            let first = buf[p]
            if first == ASCII.lf || (first == ASCII.cr && p + 1 < count && buf[p + 1] == ASCII.lf) {
                close(&fields, at: p)
                return HeaderBlock(fields: fields, bodyStart: p + (first == ASCII.lf ? 1 : 2), hit: nil)
            }
            if first == ASCII.dash, !boundaries.isEmpty, p + 1 < count, buf[p + 1] == ASCII.dash, let hit = matchBoundary(at: p) {
                close(&fields, at: p)
                return HeaderBlock(fields: fields, bodyStart: p, hit: hit)
            }
            let e = lineEnd(from: p)
            let next = e < count ? e + 1 : count
            if recording, p - start > limits.headerOctetsMax {
                recording = false
                close(&fields, at: p)
                problem(.headerTooLarge, p, "header block over \(limits.headerOctetsMax) bytes; rest skipped")
            }
            if first == ASCII.space || first == ASCII.tab {
                if open == nil && recording && fields.isEmpty { problem(.continuationWithoutField, p) }
                p = next
                continue
            }
            close(&fields, at: p)
            var colon = p
            while colon < e, buf[colon] != ASCII.colon { colon += 1 }
            var nameEnd = colon
            while nameEnd > p, ASCII.isBlank(buf[nameEnd - 1]) { nameEnd -= 1 }
            var valid = colon < e && nameEnd > p
            if valid {
                for i in p..<nameEnd where buf[i] < 33 || buf[i] > 126 { valid = false; break }
            }
            if !valid {
                if fields.isEmpty, e - p >= 5, memcmp(base + p, "From ", 5) == 0 {
                    p = next  // mbox separator line
                    continue
                }
                problem(.headerLineWithoutColon, p, "header ends without an empty line")
                return HeaderBlock(fields: fields, bodyStart: p, hit: nil)
            }
            if recording {
                if fields.count >= limits.headerFieldsMax {
                    recording = false
                    problem(.tooManyHeaderFields, p, "more than \(limits.headerFieldsMax) fields; rest skipped")
                } else if fieldsTotal >= limits.headerFieldsTotalMax {
                    recording = false
                    if !fieldsTotalReported {
                        fieldsTotalReported = true
                        problem(.tooManyHeaderFields, p, "more than \(limits.headerFieldsTotalMax) fields in the message; rest skipped")
                    }
                } else {
                    fieldsTotal += 1
                    let name = String(decoding: UnsafeBufferPointer(rebasing: buf[p..<nameEnd]), as: UTF8.self)
                    open = (name, p, colon + 1)
                }
            }
            p = next
        }
        close(&fields, at: count)
        return HeaderBlock(fields: fields, bodyStart: count, hit: nil)
    }

    func fieldValue(_ f: MIMEHeaderField) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: buf[f.valueStart..<f.end])
    }

    func firstField(_ fields: [MIMEHeaderField], _ name: StaticString) -> MIMEHeaderField? {
        let n = name.utf8CodeUnitCount
        for f in fields where f.name.utf8.count == n {
            if ASCII.equalsIgnoringCase(f.name.utf8, name) { return f }
        }
        return nil
    }

    /// Parses one entity starting at `start`: header, then body up to the next delimiter
    /// of an open multipart (returned so the caller knows which level it closed).
    mutating func parseEntity(start: Int, depth: Int, parent: Int?, defaultType: ContentType) -> (index: Int, hit: BoundaryHit?) {
        let index = parts.count
        let header = parseHeaders(start: start)
        var contentType = defaultType
        var hasContentType = false
        if let f = firstField(header.fields, "Content-Type"), let ct = ContentType.parse(fieldValue(f)) {
            contentType = ct
            hasContentType = true
            if ct.subtype.isEmpty { contentType = defaultType }
        }
        var encoding = TransferEncoding.sevenBit
        if let f = firstField(header.fields, "Content-Transfer-Encoding") {
            var s = StructuredScanner(Array(fieldValue(f)))
            s.skipCFWS()
            let token = s.readWhile { !ASCII.isWhitespace($0) && $0 != ASCII.openParen && $0 != ASCII.semicolon }
            encoding = TransferEncoding(label: String(decoding: token, as: UTF8.self))
            switch encoding {
            case .other(let name), .malformed(let name): problem(.unknownTransferEncoding, f.start, name)
            default: break
            }
        }
        parts.append(MIMEPart(headerStart: start, bodyStart: header.bodyStart, end: header.bodyStart,
                              headers: header.fields, contentType: contentType, hasContentTypeField: hasContentType,
                              transferEncoding: encoding, body: .leaf, parent: parent, depth: depth))
        if let hit = header.hit {
            return (index, hit)
        }
        let bodyStart = header.bodyStart
        if headerOnly {
            parts[index].end = count
            return (index, nil)
        }
        if contentType.isMultipart {
            let boundary = contentType.parameter("boundary") ?? ""
            if boundary.isEmpty || boundary.utf8.count > 998 {
                problem(.missingBoundaryParameter, start, contentType.mimeType)
            } else if depth >= limits.nestingDepthMax {
                reportDepth(start)
            } else {
                return parseMultipart(index: index, boundary: boundary, bodyStart: bodyStart, depth: depth)
            }
        } else if contentType.isEncapsulatedMessage {
            switch encoding {
            case .base64, .quotedPrintable:
                problem(.encodedMessage, start, encoding.name)
                encodedMessageParts.append((index, depth))
            case .other:
                problem(.encodedMessageNotParsed, start, encoding.name)
            default:
                if depth >= limits.nestingDepthMax {
                    reportDepth(start)
                } else if parts.count >= limits.partsMax {
                    reportParts(start)
                } else {
                    let (child, hit) = parseEntity(start: bodyStart, depth: depth + 1, parent: index, defaultType: .textPlain)
                    parts[index].body = .message(child)
                    parts[index].end = max(bodyStart, parts[child].end)
                    return (index, hit)
                }
            }
        }
        let hit = scanForBoundary(from: bodyStart)
        parts[index].end = hit.map { bodyEnd(beforeLine: $0.lineStart, floor: bodyStart) } ?? count
        return (index, hit)
    }

    mutating func reportDepth(_ offset: Int) {
        if !depthLimitReported {
            depthLimitReported = true
            problem(.nestingTooDeep, offset, "deeper than \(limits.nestingDepthMax) levels kept as one leaf")
        }
    }

    mutating func reportParts(_ offset: Int) {
        if !partsLimitReported {
            partsLimitReported = true
            problem(.tooManyParts, offset, "more than \(limits.partsMax) parts; the rest stays inside its parent's body")
        }
    }

    mutating func parseMultipart(index: Int, boundary: String, bodyStart: Int, depth: Int) -> (index: Int, hit: BoundaryHit?) {
        boundaries.append(Array("--".utf8) + Array(boundary.utf8))
        let level = boundaries.count - 1
        let childDefault: ContentType = parts[index].contentType.subtype == "digest" ? .messageRFC822 : .textPlain
        var children: [Int] = []
        var hit = scanForBoundary(from: bodyStart)
        parts[index].preamble = bodyStart..<(hit.map { bodyEnd(beforeLine: $0.lineStart, floor: bodyStart) } ?? count)
        if hit == nil || hit!.level != level { problem(.missingOpenBoundary, bodyStart, boundary) }
        while let h = hit, h.level == level, !h.isClose {
            if parts.count >= limits.partsMax {
                reportParts(h.lineStart)
                // Skip further delimiters of this level without creating parts.
                var skip = scanForBoundary(from: h.next)
                while let s = skip, s.level == level, !s.isClose { skip = scanForBoundary(from: s.next) }
                hit = skip
                break
            }
            let (child, childHit) = parseEntity(start: h.next, depth: depth + 1, parent: index, defaultType: childDefault)
            children.append(child)
            hit = childHit
        }
        parts[index].body = .multipart(children)
        if let h = hit, h.level == level, h.isClose {
            boundaries.removeLast()
            let after = scanForBoundary(from: h.next)
            let end = after.map { bodyEnd(beforeLine: $0.lineStart, floor: h.lineStart) } ?? count
            parts[index].epilogue = min(h.next, end)..<end
            parts[index].end = end
            return (index, after)
        }
        boundaries.removeLast()
        if hit == nil || hit!.level < level {
            problem(.missingCloseBoundary, parts[index].headerStart, boundary)
        }
        parts[index].end = hit.map { bodyEnd(beforeLine: $0.lineStart, floor: bodyStart) } ?? count
        return (index, hit)
    }
}
