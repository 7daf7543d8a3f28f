import PluginAPI

/// A new request's admission and routing as a chain of steps, each named after the question it answers, run in
/// order until one answers the request or forwards it. The engine runs `standard` for every request that is not
/// a retransmission; `patchbay route` and `patchbay process` run the same chain with `OfflineEnvironment` and a
/// recorder, and the recorder is all `--explain` prints: steps never ask whether they are being explained.
///
/// The rate budget is not a step: it is spent on the raw datagram, before parsing, so that a flood costs no
/// parse (`Shard.admit`).
package struct RequestChain: Sendable {
    package let steps: [any RequestStep]

    package init(steps: [any RequestStep]) {
        self.steps = steps
    }

    /// Every request outside a transaction Patchbay already has.
    package static let standard = RequestChain(steps: [
        WhichPeerSentIt(), IsItForACallInProgress(), DoesItRequireAnExtensionWeLack(), AreWeDraining(),
        DoWeServeThisMethod(), AreWeOverloaded(), MustItAuthenticate(), IsTheSessionIntervalLongEnough(),
        HasItHopsLeft(), WhatIsItInHouseFormat(),
        WhichRoute(), IsItAnEmergency(), IsThePeerWithinItsLimits(), HowIsItsMediaCarried(),
        WhatDoesEachTargetReceive(),
    ])

    /// A request already in the house format, from a known peer: a redirect's new number.
    package static let routing = RequestChain(steps: [
        WhichRoute(), HowIsItsMediaCarried(), WhatDoesEachTargetReceive(),
    ])

    /// Runs the steps until one does not proceed, and returns what it decided. With `record`, every step run
    /// describes what it found (`RequestStep.explain`) and `record` gets each description in order.
    package func run(
        _ state: inout RequestState, in environment: any RequestEnvironment,
        record: ((RequestProcessor.Step) -> Void)? = nil
    ) -> StepOutcome {
        for step in steps {
            let before: RequestState? = record == nil ? nil : state
            let outcome = step.answer(&state, in: environment)
            if let record, let before {
                for entry in step.explain(before, state, outcome, in: environment) { record(entry) }
            }
            if case .proceed = outcome { continue }
            return outcome
        }
        return .proceed
    }
}
