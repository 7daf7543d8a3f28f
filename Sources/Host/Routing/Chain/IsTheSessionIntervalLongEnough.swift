import PluginAPI

/// RFC 4028 section 8.1: an INVITE whose Session-Expires is below what the peer's `session_timer` accepts
/// (`min_se`) gets 422 with that Min-SE, and the caller may retry with a longer interval.
package struct IsTheSessionIntervalLongEnough: RequestStep {
    package var question: String { "is the session interval long enough?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        // The peer's setting first: most peers have none, and then no header needs finding.
        guard let peer = request.peer, let minSE = request.site.callSettings[peer]?.sessionTimer?.minSE,
            let asked = Self.interval(request.message), asked < minSE
        else { return .proceed }
        return .answer(.init(422, "Session Interval Too Small", headers: [SIPHeader("Min-SE", String(minSE))]))
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard let asked = Self.interval(before.message) else { return record(["no Session-Expires"]) }
        guard let peer = after.peer, after.site.callSettings[peer]?.sessionTimer != nil else {
            return record(["Session-Expires \(asked): the peer has no session_timer, so it is not used"])
        }
        return record(["Session-Expires \(asked): \(outcome.summary)"])
    }

    /// The delta-seconds of a message's Session-Expires (RFC 4028 section 4), or nil.
    package static func interval(_ message: SIPMessage) -> Int? { deltaSeconds(message, "Session-Expires") }

    /// The delta-seconds a Session-Expires or Min-SE header starts with (before any parameter), or nil.
    package static func deltaSeconds(_ message: SIPMessage, _ header: String) -> Int? {
        guard let value = message.header(header) else { return nil }
        let digits = value.drop { $0 == " " }.prefix { $0.isASCII && $0.isNumber }
        return Int(digits)
    }
}
