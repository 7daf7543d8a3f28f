import Foundation
import Routing

/// How `patchbay calls` shows a record: one line for people, or JSON for scripts. Here rather than in the command so
/// the tests can check the exact output without running a process.
extension CallRecord {
    /// Time, A Call-ID, source -> target, route, called number in -> as sent, result, duration, ended by, tried:
    /// `2026-11-20T10:15:02Z a=ID pbx -> gw route=national 0030987654 -> 030987654 200 12.3s ended_by=caller`
    /// `tried=gw:200`
    public var reportLine: String {
        let sent = answeringAttempt?.calledNumber ?? attempts.last?.calledNumber
        let tried = attempts.map { "\($0.peer):\($0.status == 0 ? "down" : String($0.status))" }.joined(separator: ",")
        return [
            Self.time(setupTime),
            "a=\(aCallID)",
            "\(source) -> \(target ?? "-")",
            "route=\(route ?? "-")",
            "\(calledIn ?? "-") -> \(sent ?? "-")",
            "\(result.map(String.init) ?? "-")",
            durationSeconds.map { String(format: "%.1fs", $0) } ?? "-",
            "ended_by=\(endedBy.map { $0.replacingOccurrences(of: " ", with: "_") } ?? "-")",
            "tried=\(tried.isEmpty ? "-" : tried)",
        ].joined(separator: " ")
    }

    /// The attempt whose target answered (the last one to that peer with a 2xx).
    var answeringAttempt: Attempt? {
        attempts.last { $0.peer == target && (200..<300).contains($0.status) }
    }

    /// The record as JSON-friendly values, field names as in the database.
    public var reportJSON: Report { Report(self) }

    // The JSON's field names are the database's columns, so scripts read one vocabulary.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    public struct Report: Codable, Sendable, Equatable {
        public struct Attempt: Codable, Sendable, Equatable {
            public var peer: String
            public var status: Int
            public var b_call_id: String?
            public var called_number: String?
            public var caller_number: String?
            public var note: String?
        }
        public var a_call_id: String
        public var b_call_id: String?
        public var source: String
        public var route: String?
        public var called_in: String?
        public var caller_in: String?
        public var called_house: String?
        public var caller_house: String?
        public var target: String?
        public var result: Int?
        public var setup_time: String
        public var answer_time: String?
        public var end_time: String?
        public var ended_by: String?
        public var duration: Double?
        public var attempts: [Attempt]

        package init(_ r: CallRecord) {
            a_call_id = r.aCallID
            b_call_id = r.bCallID
            source = r.source
            route = r.route
            called_in = r.calledIn
            caller_in = r.callerIn
            called_house = r.calledHouse
            caller_house = r.callerHouse
            target = r.target
            result = r.result
            setup_time = CallRecord.time(r.setupTime, fractional: true)
            answer_time = r.answerTime.map { CallRecord.time($0, fractional: true) }
            end_time = r.endTime.map { CallRecord.time($0, fractional: true) }
            ended_by = r.endedBy
            duration = r.durationSeconds.map { ($0 * 1000).rounded() / 1000 }
            attempts = r.attempts.map {
                Attempt(
                    peer: $0.peer, status: $0.status, b_call_id: $0.bCallID, called_number: $0.calledNumber,
                    caller_number: $0.callerNumber, note: $0.note)
            }
        }
    }

    /// ISO 8601 in UTC: unambiguous whatever the zone of the machine that reads the records.
    package static func time(_ date: Date, fractional: Bool = false) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return f.string(from: date)
    }

    /// `--since`: a span back from `now` (`90s`, `30m`, `1h`, `2d`, `1w`) or an ISO 8601 time (`2026-11-20T10:00:00Z`,
    /// with fractional seconds or an offset, or a date alone, `2026-11-20`, meaning its midnight UTC).
    public static func parseSince(_ text: String, now: Date = Date()) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let unit = t.last, let n = Double(t.dropLast()), n >= 0 {
            let seconds: Double? =
                switch unit {
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86_400
                case "w": 604_800
                default: nil
                }
            if let seconds { return now.addingTimeInterval(-n * seconds) }
        }
        let f = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate],
        ] {
            f.formatOptions = options
            if let d = f.date(from: t) { return d }
        }
        return nil
    }
}
