import PluginAPI

/// The chain's environment for the offline commands: the request comes from the peer named on the command line,
/// there is no call in progress, no drain and no load, and inbound authentication is taken as passed (it is
/// said so in `--explain`: a digest exchange needs a live peer).
package struct OfflineEnvironment: RequestEnvironment {
    package let source: String

    package init(source: String) {
        self.source = source
    }

    package func peer(sending request: RequestState) -> String? {
        // Every configured peer has an adapter: a dictionary lookup, where `site.peer` copies the peer's entry.
        request.site.adapters[source] == nil ? nil : source
    }

    package func hasCall(_ request: RequestState) -> Bool { false }
    package var draining: Bool { false }
    package func overloadReason() -> String? { nil }

    package func authenticate(
        _ request: RequestState, peer: String, credentials: PatchbayConfiguration.Credentials
    ) -> StepOutcome { .proceed }

    package func admitCall(from peer: String, limits: PatchbayConfiguration.PeerLimits) -> Bool { true }

    package var name: String { "offline" }
}
