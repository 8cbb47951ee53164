/// A point in time as milliseconds since the Unix epoch, UTC. Commands carry these so that
/// apply never reads a clock.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public init(secondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = secondsSinceEpoch * 1000
    }

    public var secondsSinceEpoch: Int64 {
        millisecondsSinceEpoch >= 0
            ? millisecondsSinceEpoch / 1000
            : -((-millisecondsSinceEpoch + 999) / 1000)
    }

    public func adding(milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public var description: String { "\(millisecondsSinceEpoch)ms" }
}

/// Civil (proleptic Gregorian) date arithmetic without Foundation, so pure targets can
/// format and parse dates deterministically.
public struct CivilDateTime: Hashable, Sendable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// Offset east of UTC in minutes (e.g. -300 for -0500).
    public var utcOffsetMinutes: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, utcOffsetMinutes: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    /// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    public init(_ timestamp: Timestamp, utcOffsetMinutes: Int = 0) {
        let local = timestamp.secondsSinceEpoch + Int64(utcOffsetMinutes) * 60
        var days = Int(local / 86400)
        var rem = Int(local % 86400)
        if rem < 0 { rem += 86400; days -= 1 }
        let (y, m, d) = Self.civilFromDays(days)
        self.init(year: y, month: m, day: d, hour: rem / 3600, minute: rem % 3600 / 60, second: rem % 60,
                  utcOffsetMinutes: utcOffsetMinutes)
    }

    public var timestamp: Timestamp {
        let days = Int64(Self.daysFromCivil(year: year, month: month, day: day))
        let secs = days * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(utcOffsetMinutes * 60)
        return Timestamp(secondsSinceEpoch: secs)
    }

    public static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    public static let weekdayNames = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]

    private static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    private var offsetText: String {
        let sign = utcOffsetMinutes < 0 ? "-" : "+"
        let a = abs(utcOffsetMinutes)
        return sign + Self.pad2(a / 60) + Self.pad2(a % 60)
    }

    /// RFC 5322 date-time, e.g. `Wed, 25 Nov 2026 00:46:53 +0000`.
    public var rfc5322: String {
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let wd = Self.weekdayNames[((days % 7) + 7) % 7]
        return "\(wd), \(day) \(Self.monthNames[month - 1]) \(year) \(Self.pad2(hour)):\(Self.pad2(minute)):\(Self.pad2(second)) \(offsetText)"
    }

    /// IMAP date-time (RFC 3501 §9), e.g. `25-Nov-2026 00:46:53 +0000` (day space-padded).
    public var imapDateTime: String {
        let d = day < 10 ? " \(day)" : "\(day)"
        return "\(d)-\(Self.monthNames[month - 1])-\(year) \(Self.pad2(hour)):\(Self.pad2(minute)):\(Self.pad2(second)) \(offsetText)"
    }
}
