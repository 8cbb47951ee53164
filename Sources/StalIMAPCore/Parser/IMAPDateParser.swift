import StalCore

/// IMAP `date` (`1-Feb-1994`) and `date-time` (`" 1-Feb-1994 21:52:25 -0800"`).
public enum IMAPDateParser {
    public static func date(_ text: String) -> IMAPDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let day = Int(parts[0].drop { $0 == " " }), (1...31).contains(day),
              let monthIndex = CivilDateTime.monthNames.firstIndex(where: { $0.lowercased() == parts[1].lowercased() }),
              parts[2].count == 4, let year = Int(parts[2])
        else { return nil }
        return IMAPDate(year: year, month: monthIndex + 1, day: day)
    }

    public static func dateTime(_ text: String) -> Timestamp? {
        let trimmed = text.drop { $0 == " " }
        let fields = trimmed.split(separator: " ")
        guard fields.count == 3, let date = date(String(fields[0])) else { return nil }
        let time = fields[1].split(separator: ":")
        guard time.count == 3, let h = Int(time[0]), let m = Int(time[1]), let s = Int(time[2]),
              (0...23).contains(h), (0...59).contains(m), (0...60).contains(s) else { return nil }
        let zone = fields[2]
        guard zone.count == 5, let sign = zone.first, sign == "+" || sign == "-",
              let hh = Int(zone.dropFirst().prefix(2)), let mm = Int(zone.suffix(2)) else { return nil }
        let offset = (hh * 60 + mm) * (sign == "-" ? -1 : 1)
        return CivilDateTime(year: date.year, month: date.month, day: date.day, hour: h, minute: m, second: s,
                             utcOffsetMinutes: offset).timestamp
    }
}
