import PluginAPI

/// A peer with `inbound_auth` must answer a digest challenge (RFC 3261 section 22.2): 401 until it does, 403
/// for a wrong answer.
package struct MustItAuthenticate: RequestStep {
    package var question: String { "must it authenticate?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        guard let peer = request.peer else { return .proceed }
        if request.peerEntry == nil { request.peerEntry = request.site.peer(peer) }
        guard let credentials = request.peerEntry?.inboundAuth else { return .proceed }
        return environment.authenticate(request, peer: peer, credentials: credentials)
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard let peer = after.peer, after.site.peer(peer)?.inboundAuth != nil else {
            return record(["no: the peer has no inbound_auth"])
        }
        if environment is OfflineEnvironment {
            return record(["yes: digest (not checked offline; a live peer gets 401 until it answers)"])
        }
        return record(["yes: \(outcome == .proceed ? "answered" : outcome.summary)"])
    }
}
