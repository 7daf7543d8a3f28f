import PluginAPI

/// RFC 3261 section 8.2.2.3: a request may require only extensions Patchbay supports with its sender, 100rel
/// (RFC 3262) where the peer's `prack` is not `off` and timer (RFC 4028) where it has a `session_timer`; anything
/// else gets 420 naming what is unsupported rather than
/// being ignored (RFC 4475 bext01).
package struct DoesItRequireAnExtensionWeLack: RequestStep {
    package var question: String { "does it require an extension we lack?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        let required = request.message.values("Require")
        guard !required.isEmpty else { return .proceed }
        let unsupported = Self.unsupported(required, request)
        guard !unsupported.isEmpty else { return .proceed }
        return .answer(
            .init(420, "Bad Extension", headers: [SIPHeader("Unsupported", unsupported.joined(separator: ", "))]))
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        let required = before.message.values("Require")
        return record([required.isEmpty ? "no" : "requires \(required.joined(separator: ", ")): \(outcome.summary)"])
    }

    /// The option tags of `required` Patchbay does not support with the request's sender.
    static func unsupported(_ required: [String], _ request: RequestState) -> [String] {
        let peer = request.peer.flatMap { request.site.peer($0) }
        return required.filter { tag in
            switch tag.lowercased() {
            case "100rel": return (peer?.prack ?? .off) == .off
            case "timer": return peer?.sessionTimer == nil
            default: return true
            }
        }
    }
}
