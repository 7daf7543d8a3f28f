import PluginAPI

/// The calling peer's `limits` (calls in progress with it, new calls per second): over a limit, its new call gets
/// the peer's `limits.status` (503) with Retry-After. An emergency route is exempt. Admitting counts the call.
package struct IsThePeerWithinItsLimits: RequestStep {
    package var question: String { "is the peer within its limits?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        guard request.message.method == "INVITE", request.route?.emergency != true, let peer = request.peer,
            let limits = request.site.callSettings[peer]?.limits,
            limits.maxCalls != nil || limits.maxCallsPerSecond != nil
        else { return .proceed }
        guard environment.admitCall(from: peer, limits: limits) else {
            return .answer(
                StepOutcome.Answer(
                    limits.status, Relay.reasonPhrase(limits.status), headers: [SIPHeader("Retry-After", "5")]
                ).countedAs("peer_limit", note: "peer \(peer) at its limit"))
        }
        request.countedPeer = limits.maxCalls == nil ? nil : peer
        return .proceed
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard let peer = after.peer, let limits = after.site.callSettings[peer]?.limits,
            limits.maxCalls != nil || limits.maxCallsPerSecond != nil
        else { return record(["\(after.peer ?? "the peer") has no limits"]) }
        if after.route?.emergency == true { return record(["exempt: emergency route"]) }
        let parts = [
            limits.maxCalls.map { "\($0) calls in progress" },
            limits.maxCallsPerSecond.map { "\($0) new calls per second" },
        ].compactMap { $0 }
        let verdict = if case .answer = outcome { outcome.summary } else { "within (\(environment.name))" }
        return record(["\(peer)'s limits: \(parts.joined(separator: ", ")); \(verdict)"])
    }
}
