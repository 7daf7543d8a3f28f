import PluginAPI

/// A drain or an overload refusal waits here when the site has emergency routes: a call on an `emergency: true`
/// route goes through, any other gets the refusal it would have got at once.
package struct IsItAnEmergency: RequestStep {
    package var question: String { "is it an emergency call?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        guard let refusal = request.deferredRefusal else { return .proceed }
        return request.route?.emergency == true ? .proceed : .answer(refusal)
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard after.route?.emergency == true else {
            return record([after.deferredRefusal == nil ? "no" : "no: \(outcome.summary)"])
        }
        return record(
            ["yes (route \(after.route?.name ?? "")): exempt from the peers' limits, overload and drain"])
    }
}
