import PluginAPI

/// RFC 3261 section 16.3: a request whose Max-Forwards is spent gets 483, so a routing loop between Patchbay and
/// a peer ends instead of circling.
package struct HasItHopsLeft: RequestStep {
    package var question: String { "has it hops left?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        if let hops = request.message.header("Max-Forwards").flatMap({ Int($0) }), hops <= 0 {
            return .answer(.init(483, "Too Many Hops"))
        }
        return .proceed
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        let hops = before.message.header("Max-Forwards") ?? "none"
        return record(["Max-Forwards \(hops): \(outcome.summary)"])
    }
}
