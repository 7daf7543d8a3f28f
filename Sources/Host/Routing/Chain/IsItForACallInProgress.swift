import PluginAPI

/// Whether the request belongs to a call Patchbay has: a request inside a dialog, a CANCEL, an ACK, or an INVITE
/// retransmitted because its 200 was lost (the INVITE server transaction ends with the 2xx, RFC 3261 without
/// RFC 6026, so the retransmission arrives as new and the call answers it again). A request inside a dialog
/// Patchbay does not know gets 481; an ACK that matches nothing is dropped.
package struct IsItForACallInProgress: RequestStep {
    package var question: String { "is it for a call in progress?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        let message = request.message
        let method = message.method
        if message.toTag != nil || method == "CANCEL" || method == "ACK" {
            if environment.hasCall(request) { return .toCall }
            if method == "ACK" { return .drop(counted: nil) }
            return .answer(.init(481, "Call/Transaction Does Not Exist").untagged)
        }
        if method == "INVITE", environment.hasCall(request) { return .toCall }
        return .proceed
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        record([outcome == .proceed ? "no: a new request" : outcome.summary])
    }
}
