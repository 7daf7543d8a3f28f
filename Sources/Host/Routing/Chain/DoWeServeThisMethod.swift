import PluginAPI

/// What Patchbay does with a request outside any call, by method: an INVITE starts a call, OPTIONS is answered
/// here, a request that only makes sense inside a dialog gets 481, one Patchbay does not take 405, and a method it
/// does not know 501, each with Allow (RFC 3261 sections 8.2.1 and 21.5.2).
package struct DoWeServeThisMethod: RequestStep {
    package var question: String { "do we serve this method?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        switch request.message.method {
        case "INVITE":
            return .proceed
        case "OPTIONS":
            return .answer(
                .init(200, "OK", headers: [SIPHeader("Allow", Relay.allow), SIPHeader("Accept", "application/sdp")]))
        case "BYE", "INFO", "UPDATE", "PRACK", "NOTIFY":
            return .answer(.init(481, "Call/Transaction Does Not Exist"))
        case "REGISTER", "SUBSCRIBE", "PUBLISH", "MESSAGE", "REFER":
            return .answer(.init(405, "Method Not Allowed", headers: [SIPHeader("Allow", Relay.allow)]))
        default:
            return .answer(.init(501, "Not Implemented", headers: [SIPHeader("Allow", Relay.allow)]))
        }
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        let method = before.message.method
        return record([outcome == .proceed ? "\(method): a new call" : "\(method): \(outcome.summary)"])
    }
}
