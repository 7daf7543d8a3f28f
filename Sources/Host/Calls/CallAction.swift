import NIOCore
import PluginAPI
import Records
import SIPCore

/// What a call's machine asks its `Call` to do.
package enum CallAction {
    /// A response to `request` through its server transaction.
    case respond(SIPMessage, to: SIPMessage)
    /// A message outside any transaction: an ACK for a 2xx, a 2xx retransmitted by the call itself.
    case sendStateless(SIPMessage, to: SIPDestination)
    /// A request in a client transaction of its own, to `peer` (which answers a digest challenge with its
    /// credentials) or, with no peer, as it is (a CANCEL). What comes back reaches the machine as events for `role`.
    case sendRequest(SIPMessage, to: SIPDestination, peer: String?, role: CallRequestRole)
    case startTimer(CallTimer, TimeAmount)
    case cancelTimer(CallTimer)
    /// In-dialog requests and responses with this Call-ID belong to the call from now on.
    case track(callID: String)
    /// The slot of `peer`'s `limits` this call held is free again.
    case releasePeer(String)
    /// A target gave its final answer (or none: status 0).
    case attemptEnded(peer: String, status: Int)
    /// A request to rtpengine; its outcome comes back as `CallEvent.media`.
    case media(MediaCommand)
    /// rtpengine plays a DTMF digit into the media the side with `fromTag` sends (nothing comes back).
    case playDTMF(callID: String, instance: String, fromTag: String, code: String, durationMilliseconds: Int)
    /// The session `callID` on `instance` is over (nothing comes back).
    case deleteMedia(callID: String, instance: String)
    /// The call is over: it leaves the shard, and its record (`CallMachine.record`) goes to the store.
    case ended
}

/// Why a call sent a request, so that what comes back finds its way.
package enum CallRequestRole: Sendable {
    /// The INVITE to the target being tried.
    case invite
    /// A request relayed from one leg (`fromA`) to the other; `original` is what the peer sent.
    case relay(original: SIPMessage, fromA: Bool)
    /// A BYE whose end (any answer, or none) ends the call with `reason`.
    case byeEnding(reason: String)
    /// A session refresh (RFC 4028) Patchbay sent on the A leg or the B leg.
    case refresh(legA: Bool)
    /// A request whose outcome changes nothing (a CANCEL, a BYE to one leg of a call that is ending anyway).
    case oneShot
}
