import StalCore

/// One complete client command as the framing stage delivers it: the command text split at
/// its literals. `lines[i]` for `i < literals.count` ends with the `{n}` / `{n+}` marker whose
/// octets are `literals[i]`; the last line is the text after the last literal. CRLF removed.
public struct IMAPFrame: Hashable, Sendable {
    public var lines: [[UInt8]]
    public var literals: [[UInt8]]

    public init(lines: [[UInt8]], literals: [[UInt8]] = []) {
        precondition(lines.count == literals.count + 1, "a frame has one more line than literals")
        self.lines = lines
        self.literals = literals
    }

    /// A frame with no literals, for tests and raw continuation lines (IDLE's DONE, SASL).
    public init(text: String) { self.init(lines: [Array(text.utf8)]) }

    /// The first line's text, for lines that are not commands (IDLE DONE, SASL responses).
    public var firstLineText: String { String(decoding: lines[0], as: UTF8.self) }

    /// Best-effort tag of the command, so that even an unparsable command gets `tag BAD`.
    public var tag: String? { IMAPFrame.tag(of: lines[0]) }

    static func tag(of line: [UInt8]) -> String? {
        var end = 0
        while end < line.count, IMAPGrammar.isTagChar(line[end]) { end += 1 }
        guard end > 0, end < line.count, line[end] == UInt8(ascii: " ") else { return nil }
        return String(decoding: line[0..<end], as: UTF8.self)
    }
}

/// Why the framing stage refused a command before the grammar parser saw it.
public enum IMAPFrameError: Hashable, Sendable {
    /// The command text (outside literals) exceeded the line limit.
    case lineTooLong(limit: Int)
    /// A literal announced more octets than allowed; nothing was allocated for it.
    case literalTooLarge(announced: UInt64, limit: Int)
    /// The command carried more literals than allowed.
    case tooManyLiterals(limit: Int)
}

/// The first parsing stage: finds complete commands (lines plus `{n}` / `{n+}` literals) in
/// a byte stream and enforces the size limits before any memory is spent on a frame.
/// The caller appends received bytes and then drains `next()` until it returns nil.
public struct IMAPFrameDecoder: Sendable {
    public struct Configuration: Hashable, Sendable {
        /// The command text outside literals, summed over all its lines.
        public var commandOctetsMax: Int
        /// One literal of any command other than APPEND.
        public var literalOctetsMax: Int
        /// The message literal of APPEND.
        public var appendOctetsMax: Int
        public var literalsPerCommandMax: Int

        public init(commandOctetsMax: Int, literalOctetsMax: Int, appendOctetsMax: Int, literalsPerCommandMax: Int = 32) {
            self.commandOctetsMax = commandOctetsMax
            self.literalOctetsMax = literalOctetsMax
            self.appendOctetsMax = appendOctetsMax
            self.literalsPerCommandMax = literalsPerCommandMax
        }

        public init(limits: Limits) {
            self.init(commandOctetsMax: limits.imapCommandLineOctetsMax,
                      literalOctetsMax: limits.imapLiteralOctetsMax,
                      appendOctetsMax: limits.imapAppendOctetsMax)
        }
    }

    public enum Event: Hashable, Sendable {
        case frame(IMAPFrame)
        /// The client announced a synchronising literal that fits: send `+ ...` now.
        case continuationRequested
        /// The command was refused by the framing stage; answer `tag BAD` (or NO).
        case rejected(tag: String?, IMAPFrameError)
    }

    private enum State: Sendable {
        case line
        case literal(remaining: Int)
        /// Skipping an oversize non-synchronising literal the client sends regardless.
        case discardingLiteral(remaining: UInt64)
        /// Skipping the rest of a refused command up to its line end.
        case discardingLine
    }

    public let configuration: Configuration
    private var state: State = .line
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// Where the LF search resumes, so a line arriving byte by byte is scanned once.
    private var scanIndex = 0
    private var lines: [[UInt8]] = []
    private var literals: [[UInt8]] = []
    private var literal: [UInt8] = []
    private var commandOctets = 0
    /// A raw line is expected next (IDLE's DONE, an AUTHENTICATE response): no literals.
    public var expectsRawLine = false

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Octets received but not yet consumed; the handler stops reading when this grows.
    public var bufferedOctets: Int { buffer.count - readIndex }

    /// True while a command has started but is not complete.
    public var isInsideCommand: Bool {
        if case .line = state { return !lines.isEmpty || scanIndex > readIndex }
        return true
    }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() -> Event? {
        let event = decodeNext()
        if event == nil && readIndex == buffer.count && buffer.capacity > Self.retainedCapacityMax {
            // An idle connection should not keep the largest read it ever saw.
            buffer = []
            readIndex = 0
            scanIndex = 0
        }
        return event
    }

    private static let retainedCapacityMax = 4096

    private mutating func decodeNext() -> Event? {
        while true {
            switch state {
            case .line:
                return nextLine()
            case .literal(let remaining):
                let available = buffer.count - readIndex
                if available == 0 && remaining > 0 { return nil }
                let take = min(available, remaining)
                literal.append(contentsOf: buffer[readIndex..<(readIndex + take)])
                readIndex += take
                scanIndex = readIndex
                if take < remaining {
                    state = .literal(remaining: remaining - take)
                    return nil
                }
                literals.append(literal)
                literal = []
                state = .line
            case .discardingLiteral(let remaining):
                let available = UInt64(buffer.count - readIndex)
                if available == 0 && remaining > 0 { return nil }
                let take = min(available, remaining)
                readIndex += Int(take)
                scanIndex = readIndex
                if take < remaining {
                    state = .discardingLiteral(remaining: remaining - take)
                    return nil
                }
                state = .discardingLine
            case .discardingLine:
                guard let lf = findLineFeed() else {
                    readIndex = buffer.count
                    scanIndex = readIndex
                    return nil
                }
                let line = Array(buffer[readIndex..<lf])
                readIndex = lf + 1
                scanIndex = readIndex
                if let marker = LiteralMarker(lineEnd: line), !marker.synchronising {
                    state = .discardingLiteral(remaining: marker.octets)
                } else {
                    state = .line
                }
            }
        }
    }

    private mutating func findLineFeed() -> Int? {
        var i = scanIndex
        while i < buffer.count {
            if buffer[i] == UInt8(ascii: "\n") { return i }
            i += 1
        }
        scanIndex = i
        return nil
    }

    private mutating func resetCommand() {
        lines = []
        literals = []
        literal = []
        commandOctets = 0
    }

    private mutating func nextLine() -> Event? {
        guard let lf = findLineFeed() else {
            if commandOctets + (buffer.count - readIndex) > configuration.commandOctetsMax {
                let tag = lines.first.flatMap(IMAPFrame.tag(of:)) ?? IMAPFrame.tag(of: Array(buffer[readIndex..<buffer.count]))
                resetCommand()
                readIndex = buffer.count
                scanIndex = readIndex
                state = .discardingLine
                return .rejected(tag: tag, .lineTooLong(limit: configuration.commandOctetsMax))
            }
            return nil
        }
        var end = lf
        if end > readIndex && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = Array(buffer[readIndex..<end])
        readIndex = lf + 1
        scanIndex = readIndex
        commandOctets += line.count
        if commandOctets > configuration.commandOctetsMax {
            let tag = IMAPFrame.tag(of: lines.first ?? line)
            resetCommand()
            return .rejected(tag: tag, .lineTooLong(limit: configuration.commandOctetsMax))
        }
        lines.append(line)
        guard !expectsRawLine, let marker = LiteralMarker(lineEnd: line) else {
            let frame = IMAPFrame(lines: lines, literals: literals)
            resetCommand()
            return .frame(frame)
        }
        let tag = IMAPFrame.tag(of: lines[0])
        let limit = isAppend(lines[0]) ? configuration.appendOctetsMax : configuration.literalOctetsMax
        if literals.count >= configuration.literalsPerCommandMax {
            return refuse(tag: tag, marker: marker, .tooManyLiterals(limit: configuration.literalsPerCommandMax))
        }
        if marker.octets > UInt64(limit) {
            return refuse(tag: tag, marker: marker, .literalTooLarge(announced: marker.octets, limit: limit))
        }
        let octets = Int(marker.octets)
        literal.reserveCapacity(octets)
        state = .literal(remaining: octets)
        if marker.synchronising { return .continuationRequested }
        return decodeNext()
    }

    /// A refused synchronising literal is never sent by the client; a non-synchronising
    /// one arrives anyway and is skipped without being stored.
    private mutating func refuse(tag: String?, marker: LiteralMarker, _ error: IMAPFrameError) -> Event {
        resetCommand()
        state = marker.synchronising ? .line : .discardingLiteral(remaining: marker.octets)
        return .rejected(tag: tag, error)
    }

    private func isAppend(_ firstLine: [UInt8]) -> Bool {
        guard let space = firstLine.firstIndex(of: UInt8(ascii: " ")) else { return false }
        let rest = firstLine[(space + 1)...]
        let word = rest.prefix { $0 != UInt8(ascii: " ") }
        return word.count == 6 && String(decoding: word, as: UTF8.self).uppercased() == "APPEND"
    }
}

/// The `{n}` or `{n+}` that ends a line announcing a literal.
struct LiteralMarker: Hashable {
    var octets: UInt64
    var synchronising: Bool

    init?(lineEnd line: [UInt8]) {
        guard line.last == UInt8(ascii: "}") else { return nil }
        var i = line.count - 2
        var synchronising = true
        if i >= 0 && line[i] == UInt8(ascii: "+") {
            synchronising = false
            i -= 1
        }
        var value: UInt64 = 0
        var multiplier: UInt64 = 1
        var digits = 0
        while i >= 0, line[i] >= UInt8(ascii: "0"), line[i] <= UInt8(ascii: "9") {
            // Announced sizes beyond 19 digits are refused like any oversize literal.
            if digits >= 19 { return nil }
            value += UInt64(line[i] - UInt8(ascii: "0")) * multiplier
            multiplier = multiplier &* 10
            digits += 1
            i -= 1
        }
        guard digits > 0, i >= 0, line[i] == UInt8(ascii: "{") else { return nil }
        self.octets = value
        self.synchronising = synchronising
    }
}
