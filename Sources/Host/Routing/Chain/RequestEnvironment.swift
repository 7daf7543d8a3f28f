import PluginAPI

/// What the chain asks of the place it runs. The engine's shard answers from its sockets, calls and load; the
/// offline commands (`route`, `process`) from `OfflineEnvironment`, so a dry run takes the same steps as a call.
package protocol RequestEnvironment {
    /// The configured peer the request came from, or nil for an unknown source.
    func peer(sending request: RequestState) -> String?
    /// Whether a call in progress has the request's Call-ID (`RequestState.callKey`).
    func hasCall(_ request: RequestState) -> Bool
    /// Set on SIGTERM: new calls get 503 while the calls in progress finish.
    var draining: Bool { get }
    /// Why a new call must be refused now (`calls`, `transactions`, `queue delay`), or nil.
    func overloadReason() -> String?
    /// RFC 3261 section 22 as a UAS for a peer with `inbound_auth`: `.proceed` once the request carries the right
    /// answer, otherwise the challenge or the refusal.
    func authenticate(
        _ request: RequestState, peer: String, credentials: PatchbayConfiguration.Credentials
    ) -> StepOutcome
    /// Admits a new call from `peer` under its `limits` (calls in progress, calls per second) and counts it; false
    /// when a limit is reached.
    func admitCall(from peer: String, limits: PatchbayConfiguration.PeerLimits) -> Bool
    /// How `--explain` describes the environment's answers (the engine never asks).
    var name: String { get }
}
