import Foundation

/// When a route applies (`when:`): windows of days of the week and times of day in a time zone, from the system's
/// tz database. A route outside all its windows is passed over as if its conditions did not match. A window that
/// ends before it starts (`22:00-06:00`) runs past midnight; its days are the days it is in at the moment checked.
public struct RouteSchedule: Sendable, CustomStringConvertible {
    public struct Window: Sendable, Equatable {
        /// Calendar weekdays: 1 is Sunday, 7 Saturday.
        public var days: Set<Int>
        /// Minutes after midnight: the window is [start, end), or past midnight when end <= start.
        public var start: Int
        public var end: Int

        func contains(weekday: Int, minute: Int) -> Bool {
            guard days.contains(weekday) else { return false }
            return start < end ? (start <= minute && minute < end) : (minute >= start || minute < end)
        }
    }

    public var windows: [Window]
    public var timeZone: TimeZone
    public var description: String

    public func contains(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return false }
        return windows.contains { $0.contains(weekday: weekday, minute: hour * 60 + minute) }
    }

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// `mon-fri`, `sat`, `sun-tue` (wrapping): the calendar weekdays, or nil.
    static func days(_ text: String) -> Set<Int>? {
        let ends = text.lowercased().split(separator: "-").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(ends.count),
            let first = dayNames.firstIndex(of: ends[0]),
            let last = dayNames.firstIndex(of: ends.last!)
        else { return nil }
        var out: Set<Int> = []
        var d = first
        while true {
            out.insert(d + 1)
            if d == last { break }
            d = (d + 1) % 7
        }
        return out
    }

    /// `08:00-18:00`: minutes after midnight of both ends, or nil (`24:00` is allowed as an end).
    static func hours(_ text: String) -> (Int, Int)? {
        let ends = text.split(separator: "-").map { String($0).trimmingCharacters(in: .whitespaces) }
        func minutes(_ s: String) -> Int? {
            let hm = s.split(separator: ":")
            guard hm.count == 2, hm[1].count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...59).contains(m),
                (0...24).contains(h), h < 24 || m == 0
            else { return nil }
            return h * 60 + m
        }
        guard ends.count == 2, let start = minutes(ends[0]), let end = minutes(ends[1]), start != end,
            start < 24 * 60
        else { return nil }
        return (start, end == 24 * 60 ? 0 : end)
    }
}
