import PluginAPI
import SIPCore

/// What happens to a call: requests from either leg, what its own requests got back, its timers, and the
/// shard's administrative acts.
package enum CallEvent {
    /// The route is decided: the first target gets the call.
    case start
    /// A request inside the A dialog (`fromA`) or the B dialog: ACK, BYE, CANCEL, re-INVITE, UPDATE, INFO, ...
    case request(SIPMessage, fromA: Bool)
    /// The caller's INVITE again, after the final answer (its transaction is gone).
    case retransmittedInvite
    /// What a request the call sent got back.
    case outcome(ClientEvent, role: CallRequestRole)
    /// A request the call sent was sent again with the answer to a digest challenge.
    case resent(SIPMessage, role: CallRequestRole)
    case timer(CallTimer)
    /// The drain time is over (SIGTERM).
    case shutdown
    /// rtpengine saw a telephone-event (RFC 4733) in the media the side with `sourceTag` sends.
    case dtmf(event: Int, durationMilliseconds: Int, sourceTag: String)
    /// What rtpengine made of the call's last `CallAction.media`.
    case media(MediaOutcome)
}
