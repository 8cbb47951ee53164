/// Bytes received from the client and not yet consumed. Command lines are cut out of it
/// under a length limit that is enforced before the bytes are kept: an over-long line is
/// discarded as it arrives, so a client cannot make the server buffer more than one
/// limit's worth of command text.
struct SMTPInputBuffer: Sendable {
    enum LineResult: Equatable {
        /// A complete line without its CRLF.
        case line([UInt8])
        /// An over-long line has now been discarded up to and including its CRLF.
        case tooLong
        case needMoreBytes
    }

    private var bytes: [UInt8] = []
    private var readIndex = 0
    /// Set while the rest of an over-long line is being thrown away.
    private var discardingLine = false
    /// While discarding, whether the last discarded byte was CR (the LF may arrive later).
    private var discardedCR = false

    var unreadCount: Int { bytes.count - readIndex }
    var isEmpty: Bool { unreadCount == 0 && !discardingLine }

    mutating func append(_ new: some Collection<UInt8>) {
        if readIndex > 0 && readIndex >= bytes.count / 2 {
            bytes.removeFirst(readIndex)
            readIndex = 0
        }
        bytes.append(contentsOf: new)
    }

    /// Drops everything buffered, e.g. plaintext pipelined after STARTTLS (RFC 3207 §6).
    mutating func discardAll() {
        bytes.removeAll(keepingCapacity: true)
        readIndex = 0
        discardingLine = false
        discardedCR = false
    }

    /// Cuts the next CRLF-terminated line. `octetsMax` counts the CRLF, as RFC 5321 does.
    mutating func nextLine(octetsMax: Int) -> LineResult {
        if discardingLine {
            return skipRestOfLongLine()
        }
        var i = readIndex
        let searchEnd = min(bytes.count, readIndex + octetsMax)
        while i < searchEnd {
            if bytes[i] == 10 && i > readIndex && bytes[i - 1] == 13 {
                let line = Array(bytes[readIndex..<(i - 1)])
                readIndex = i + 1
                return .line(line)
            }
            i += 1
        }
        if unreadCount >= octetsMax {
            // Keep scanning from the last byte inside the limit: the CRLF that ends the
            // long line may already be buffered, followed by pipelined commands.
            readIndex += octetsMax - 1
            discardedCR = false
            discardingLine = true
            return skipRestOfLongLine()
        }
        return .needMoreBytes
    }

    private mutating func skipRestOfLongLine() -> LineResult {
        var previousCR = discardedCR
        var i = readIndex
        while i < bytes.count {
            if bytes[i] == 10 && previousCR {
                readIndex = i + 1
                discardingLine = false
                discardedCR = false
                return .tooLong
            }
            previousCR = bytes[i] == 13
            i += 1
        }
        discardedCR = previousCR
        readIndex = bytes.count
        return .needMoreBytes
    }

    /// The unread bytes, for decoders that then `skip` what they used (BDAT, DATA).
    var unread: ArraySlice<UInt8> { bytes[readIndex...] }

    mutating func skip(_ count: Int) {
        precondition(count <= unreadCount, "skipping more than is buffered")
        readIndex += count
    }
}
