import NIOCore
import PluginAPI
import Routing
import SIPCore

/// The shard as the request chain's environment: the peer by source address, its calls, its drain and load, and
/// the digest verifier of inbound authentication.
extension Shard: RequestEnvironment {
    package func peer(sending request: RequestState) -> String? {
        request.source.flatMap { routing.classify($0.address) }
    }

    package func hasCall(_ request: RequestState) -> Bool { calls[request.callKey] != nil }

    package var name: String { "engine" }

    /// RFC 3261 section 22.2 as a UAS: 401 with a challenge until the request carries a right answer. A wrong
    /// answer gets 403 (challenging again would only invite a loop), a stale one a new challenge.
    package func authenticate(
        _ state: RequestState, peer: String, credentials auth: PatchbayConfiguration.Credentials
    ) -> StepOutcome {
        let request = state.message
        let realm = auth.realm ?? "patchbay"
        let now = NIODeadline.now().uptimeNanoseconds / 1_000_000_000
        guard case .request(let method, _, _) = request.startLine else { return .answer(.init(400, "Bad Request")) }
        let outcome = verifier.verify(
            request, method: method, username: auth.username, password: auth.password, realm: realm, now: now)
        switch outcome {
        case .accepted:
            return .proceed
        case .missing, .stale:
            let challenge = verifier.challenge(realm: realm, now: now, stale: outcome == .stale)
            return .answer(.init(401, "Unauthorized", headers: [SIPHeader("WWW-Authenticate", challenge)]))
        case .refused(let why):
            logger.warning(
                "inbound authentication failed",
                metadata: ["peer": "\(peer)", "reason": "\(why)", "a": "\(request.callID ?? "")"])
            return .answer(.init(403, "Forbidden").countedAs("auth"))
        }
    }
}
