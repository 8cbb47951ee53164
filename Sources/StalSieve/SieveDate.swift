import StalCore

/// Date parsing and the date-parts of RFC 5260 §4.
enum SieveDate {
    /// `+hhmm` / `-hhmm` → minutes east of UTC.
    static func parseZone(_ s: String) -> Int? {
        let u = Array(s.utf8)
        guard u.count == 5, u[0] == UInt8(ascii: "+") || u[0] == UInt8(ascii: "-"),
              u[1...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let h = Int(u[1] - 0x30) * 10 + Int(u[2] - 0x30)
        let m = Int(u[3] - 0x30) * 10 + Int(u[4] - 0x30)
        guard h <= 23 || (h <= 99), m < 60 else { return nil }
        return (h * 60 + m) * (u[0] == UInt8(ascii: "-") ? -1 : 1)
    }

    private static let zoneNames: [String: Int] = [
        "UT": 0, "GMT": 0, "Z": 0, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
        "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    ]

    /// RFC 5322 §3.3 date-time, lenient about the day name, seconds and zone.
    static func parse(_ text: String) -> CivilDateTime? {
        var s = Substring(text)
        if let comma = s.firstIndex(of: ",") { s = s[s.index(after: comma)...] }
        var words = s.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        words = words.filter { !$0.hasPrefix("(") }
        guard words.count >= 4 else { return nil }
        guard let day = Int(words[0]), (1...31).contains(day) else { return nil }
        guard let monthIndex = CivilDateTime.monthNames.firstIndex(where: { $0.lowercased() == words[1].lowercased() }) else { return nil }
        guard var year = Int(words[2]) else { return nil }
        if words[2].count == 2 { year += year < 50 ? 2000 : 1900 } else if words[2].count == 3 { year += 1900 }
        let timeParts = words[3].split(separator: ":")
        guard timeParts.count == 2 || timeParts.count == 3, let hour = Int(timeParts[0]), let minute = Int(timeParts[1]),
              hour < 24, minute < 60 else { return nil }
        let second = timeParts.count == 3 ? Int(timeParts[2]) ?? -1 : 0
        guard second >= 0, second <= 60 else { return nil }
        var offset = 0
        if words.count >= 5 {
            if let z = parseZone(words[4]) {
                offset = z
            } else if let z = zoneNames[words[4].uppercased()] {
                offset = z
            } else if words[4].count == 1 {
                offset = 0
            } else {
                return nil
            }
        }
        guard day <= daysIn(month: monthIndex + 1, year: year) else { return nil }
        return CivilDateTime(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: min(second, 59), utcOffsetMinutes: offset)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func shifted(_ date: CivilDateTime, toOffset offset: Int) -> CivilDateTime {
        CivilDateTime(date.timestamp, utcOffsetMinutes: offset)
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(abs(n))
        return (n < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func zoneString(_ offset: Int) -> String {
        (offset < 0 ? "-" : "+") + pad(abs(offset) / 60, 2) + pad(abs(offset) % 60, 2)
    }

    static func part(_ name: String, of d: CivilDateTime) -> String? {
        switch name.lowercased() {
        case "year": return pad(d.year, 4)
        case "month": return pad(d.month, 2)
        case "day": return pad(d.day, 2)
        case "date": return "\(pad(d.year, 4))-\(pad(d.month, 2))-\(pad(d.day, 2))"
        case "julian":
            let days = CivilDateTime.daysFromCivil(year: d.year, month: d.month, day: d.day)
            return String(days + 40587)
        case "hour": return pad(d.hour, 2)
        case "minute": return pad(d.minute, 2)
        case "second": return pad(d.second, 2)
        case "time": return "\(pad(d.hour, 2)):\(pad(d.minute, 2)):\(pad(d.second, 2))"
        case "iso8601":
            let z = d.utcOffsetMinutes
            let zone = (z < 0 ? "-" : "+") + pad(abs(z) / 60, 2) + ":" + pad(abs(z) % 60, 2)
            return "\(pad(d.year, 4))-\(pad(d.month, 2))-\(pad(d.day, 2))T\(pad(d.hour, 2)):\(pad(d.minute, 2)):\(pad(d.second, 2))\(zone)"
        case "std11":
            let days = CivilDateTime.daysFromCivil(year: d.year, month: d.month, day: d.day)
            let weekday = CivilDateTime.weekdayNames[((days % 7) + 7) % 7]
            return "\(weekday), \(d.day) \(CivilDateTime.monthNames[d.month - 1]) \(pad(d.year, 4)) \(pad(d.hour, 2)):\(pad(d.minute, 2)):\(pad(d.second, 2)) \(zoneString(d.utcOffsetMinutes))"
        case "zone": return zoneString(d.utcOffsetMinutes)
        case "weekday":
            let days = CivilDateTime.daysFromCivil(year: d.year, month: d.month, day: d.day)
            return String((((days + 4) % 7) + 7) % 7)
        default: return nil
        }
    }
}
