import Foundation
import PluginAPI
import SIPCore

/// A request on its way through the chain: what arrived, and what each step has found so far.
package struct RequestState: Sendable {
    package let site: Site
    /// The request as it arrived.
    package let message: SIPMessage
    /// Where it came from on the network; nil offline.
    package let source: SIPDestination?
    /// The Call-ID's octets, made once: every lookup of the call uses it.
    package let callKey: OctetKey
    /// Orders a route's weighted targets; nil: the Call-ID's hash (made only for a request that is routed).
    package var seed: UInt64?
    /// Whether to build every target's request now (the offline commands print them all); the engine builds a
    /// target's request only when it tries that target.
    package var everyTargetsRequest: Bool

    /// Which peer sent it, and its configuration entry: looked up once, by the first step of a new call that
    /// needs it (`MustItAuthenticate`), since a request inside a call needs only the name.
    package var peer: String?
    package var peerEntry: PatchbayConfiguration.Peer?
    /// The request in the house format, and its SDP as the inbound adapter left it (parsed once per call).
    package var house: SIPMessage?
    package var houseSDP: ParsedSDP?
    /// What the inbound adapter did to the numbers.
    package var numberChanges: [NumberTranslation.Change] = []
    /// The route that took it, and what the route decided.
    package var route: Route?
    package var ringTimeout: Double?
    /// The targets' peer names in the order they are tried.
    package var targets: [String] = []
    /// The time routes' `when:` are checked against; nil: the clock (route tests set it).
    package var now: Date?
    /// A refusal (drain, overload) that waits for the route: an emergency route is exempt from it.
    package var deferredRefusal: StepOutcome.Answer?
    /// The peer whose `limits` counted this call when it was admitted; the call gives the slot back when it ends.
    package var countedPeer: String?
    /// Every target's request, with `everyTargetsRequest`.
    package var legs: [RequestProcessor.Leg] = []

    package init(
        site: Site, message: SIPMessage, source: SIPDestination? = nil, seed: UInt64? = nil,
        everyTargetsRequest: Bool = false
    ) {
        self.site = site
        self.message = message
        self.source = source
        self.callKey = OctetKey(message.callID ?? "")
        self.seed = seed
        self.everyTargetsRequest = everyTargetsRequest
    }
}
