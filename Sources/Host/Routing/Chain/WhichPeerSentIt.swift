import PluginAPI

/// Which configured peer sent the request: by its source address live, by name offline. A stranger gets 403 or
/// silence, as the site's `unknown_sources` says; an ACK is never answered.
package struct WhichPeerSentIt: RequestStep {
    package var question: String { "which peer sent it?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        if let peer = environment.peer(sending: request) {
            request.peer = peer
            return .proceed
        }
        if request.message.method == "ACK" || request.site.configuration.unknownSources != .reject {
            return .drop(counted: "unknown_source")
        }
        return .answer(.init(403, "Forbidden").countedAs("unknown_source"))
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard let name = after.peer, let peer = after.site.peer(name) else {
            return record(["no configured peer: \(outcome.summary)"])
        }
        return record(["peer '\(peer.name)' (\(peer.kind.rawValue), plugin \(peer.plugin), profile \(peer.profile))"])
    }
}
