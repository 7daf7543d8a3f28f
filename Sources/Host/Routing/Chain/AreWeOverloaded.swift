import PluginAPI

/// Saturated (too many calls or transactions on this loop, or messages waiting too long): a quick 503 with
/// Retry-After lets the caller's side fail over now, instead of an INVITE that queues, times out and is
/// retransmitted into the overload (RFC 3261 section 21.5.4, RFC 7339 in spirit).
package struct AreWeOverloaded: RequestStep {
    package var question: String { "are we overloaded?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        guard request.deferredRefusal == nil, let reason = environment.overloadReason() else { return .proceed }
        let refusal = StepOutcome.Answer(503, "Service Unavailable", headers: [SIPHeader("Retry-After", "5")])
            .countedAs("overload", note: reason)
        if request.message.method == "INVITE", request.site.routes.hasEmergencyRoutes {
            request.deferredRefusal = refusal
            return .proceed
        }
        return .answer(refusal)
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard case .answer(let a) = outcome else { return record(["no"]) }
        return record(["yes (\(a.note ?? "")): \(outcome.summary)"])
    }
}
