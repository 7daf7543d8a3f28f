import PluginAPI

/// RFC 3261 section 8.2.2.3: Patchbay supports no extension a request may require (100rel and timer are not
/// built), so a Require gets 420 naming what is unsupported rather than being ignored (RFC 4475 bext01).
package struct DoesItRequireAnExtensionWeLack: RequestStep {
    package var question: String { "does it require an extension we lack?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        let required = request.message.values("Require")
        guard !required.isEmpty else { return .proceed }
        return .answer(
            .init(420, "Bad Extension", headers: [SIPHeader("Unsupported", required.joined(separator: ", "))]))
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        let required = before.message.values("Require")
        return record([required.isEmpty ? "no" : "requires \(required.joined(separator: ", ")): \(outcome.summary)"])
    }
}
