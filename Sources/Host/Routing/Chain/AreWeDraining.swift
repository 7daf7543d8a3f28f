import PluginAPI

/// While Patchbay drains (SIGTERM), a new call gets 503 with Retry-After (RFC 3261 section 21.5.4), and so does
/// a peer's OPTIONS keepalive, so its failover moves new calls elsewhere while the calls in progress finish here.
package struct AreWeDraining: RequestStep {
    package var question: String { "are we draining?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        let method = request.message.method
        guard environment.draining, method == "INVITE" || method == "OPTIONS" else { return .proceed }
        let refusal = StepOutcome.Answer(503, "Service Unavailable", headers: [SIPHeader("Retry-After", "30")])
        if method == "INVITE", request.site.routes.hasEmergencyRoutes {
            // An emergency call still goes through: the route decides (`IsItAnEmergency`).
            request.deferredRefusal = refusal
            return .proceed
        }
        return .answer(refusal)
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        record([environment.draining ? "yes: \(outcome.summary)" : "no"])
    }
}
