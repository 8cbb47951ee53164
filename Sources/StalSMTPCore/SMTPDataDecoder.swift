/// Decodes the content that follows `DATA` (RFC 5321 §4.1.1.4, §4.5.2): removes dot
/// stuffing and finds the end-of-data marker.
///
/// Smuggling policy: the end of data is `CRLF . CRLF` and nothing else. The CRLF that ends
/// the DATA command line counts as the first CRLF, so a lone `.` line right after DATA ends an
/// empty message. A bare LF or bare CR (one not part of a CRLF pair) never ends a line here,
/// so `LF . LF`, `LF . CRLF` and `CRLF . LF` are ordinary content; the decoder records that it
/// saw one and the session rejects the whole message with 550 5.5.2 (see docs/smtp.md).
/// Bytes beyond `octetsMax` are counted but not kept, so an oversized message costs no memory
/// beyond the limit; the session answers 552 5.3.4 once the terminator arrives.
struct SMTPDataDecoder: Sendable {
    enum Progress: Equatable {
        case needMoreBytes
        /// The terminator was consumed; bytes after it belong to the next command.
        case finished
    }

    private enum Position: Sendable {
        /// At the start of a line (just after CRLF).
        case lineStart
        /// A `.` was the first byte of the line.
        case dotAtLineStart
        /// `.` then CR at the start of a line: LF completes the terminator.
        case dotThenCR
        case inLine
        /// A CR inside a line; only LF makes it a line ending.
        case afterCR
    }

    let octetsMax: Int
    let lineOctetsMax: Int
    private(set) var content: [UInt8] = []
    /// Every decoded octet, including those dropped after `octetsMax`.
    private(set) var decodedOctets = 0
    private(set) var sawBareLineEnding = false
    private(set) var sawOverlongLine = false
    private var position = Position.lineStart
    private var lineOctets = 0

    init(octetsMax: Int, lineOctetsMax: Int) {
        self.octetsMax = octetsMax
        self.lineOctetsMax = lineOctetsMax
    }

    var exceededSize: Bool { decodedOctets > octetsMax }

    /// Consumes bytes up to and including the terminator; returns how many were consumed.
    mutating func decode(_ input: ArraySlice<UInt8>) -> (consumed: Int, progress: Progress) {
        var index = input.startIndex
        while index < input.endIndex {
            let byte = input[index]
            index += 1
            switch position {
            case .lineStart:
                if byte == UInt8(ascii: ".") {
                    position = .dotAtLineStart
                } else {
                    inLine(byte)
                }
            case .dotAtLineStart:
                if byte == 13 {
                    position = .dotThenCR
                } else {
                    // A leading dot followed by more text was stuffed: drop it (§4.5.2).
                    lineOctets = 1
                    inLine(byte)
                }
            case .dotThenCR:
                if byte == 10 {
                    return (index - input.startIndex, .finished)
                }
                // `.` CR x: the dot was stuffing and the CR is bare.
                lineOctets = 1
                sawBareLineEnding = true
                emit(13)
                position = .inLine
                inLine(byte)
            case .inLine:
                inLine(byte)
            case .afterCR:
                if byte == 10 {
                    emit(13)
                    emit(10)
                    lineOctets = 0
                    position = .lineStart
                } else {
                    sawBareLineEnding = true
                    emit(13)
                    position = .inLine
                    inLine(byte)
                }
            }
        }
        return (index - input.startIndex, .needMoreBytes)
    }

    private mutating func inLine(_ byte: UInt8) {
        switch byte {
        case 13:
            position = .afterCR
        case 10:
            sawBareLineEnding = true
            emit(10)
            position = .inLine
        default:
            emit(byte)
            position = .inLine
        }
    }

    private mutating func emit(_ byte: UInt8) {
        decodedOctets += 1
        if byte != 10 && byte != 13 {
            lineOctets += 1
            if lineOctets + 2 > lineOctetsMax { sawOverlongLine = true }
        }
        if decodedOctets <= octetsMax { content.append(byte) }
    }
}
