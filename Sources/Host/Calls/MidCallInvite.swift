import NIOCore
import PluginAPI

/// A re-INVITE relayed from one leg (the near one, `fromA`) to the other and not finished: until the near peer's
/// ACK for Patchbay's 2xx, another INVITE on either leg would cross it (RFC 3261 section 14).
struct MidCallInvite {
    var fromA: Bool
    /// The re-INVITE as the near peer sent it: the 2xx answers it, and its CSeq is the one the near ACK carries.
    var request: SIPMessage
    /// Whether it carried an offer. Without one (RFC 3261 section 14.1, 13.2.1) the far peer's 2xx carries the
    /// offer and the near peer's ACK the answer, so the far leg's ACK waits for the near one's.
    var hasOffer: Bool
    /// The far peer's 2xx, kept until the near ACK so the far leg's ACK can be made then.
    var farAnswer: SIPMessage?
    /// Patchbay's 2xx to the near peer, retransmitted until its ACK (section 13.3.1.4).
    var answer: SIPMessage?
    /// Its schedule, from the 2xx on.
    var retransmission: Retransmission?
}
