import PluginAPI

/// One question a new request's admission and routing answers, in the way of reSIProcate repro's request
/// processors: the step looks at the request (and at where the chain runs, through `RequestEnvironment`) and says
/// whether the chain goes on, answers the request, or forwards it. Steps know nothing of `--explain`: the runner
/// asks a step to describe what it did only when it records (`RequestChain`).
package protocol RequestStep: Sendable {
    /// The question, as `--explain` prints it.
    var question: String { get }

    func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome

    /// What the step found, for `--explain`: one record, or one per target. `before` is the state the step got.
    func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step]
}

extension RequestStep {
    /// One record titled with the question, noting `notes`.
    func record(_ notes: [String], diff: MessageDiff? = nil) -> [RequestProcessor.Step] {
        [RequestProcessor.Step(title: question, notes: notes, diff: diff)]
    }
}
