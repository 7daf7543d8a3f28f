import PluginAPI
import Routing
import SIPCore

/// A call's media through rtpengine: the session of the attempt in progress, who made the offer in force, and
/// what waits for rtpengine's answer. While a request to rtpengine is out, every event of the call waits behind
/// it, in order: to the machine that is the same as the message arriving a little later.
struct MediaAnchor {
    enum Side: Sendable {
        case a, b

        var other: Side { self == .a ? .b : .a }
        /// rtpengine's tag for the side's monologue.
        var tag: String { self == .a ? "caller" : "callee" }
    }

    enum Wait {
        /// The offer for `target`'s INVITE, whose B leg will have `callID`.
        case targetOffer(target: String, callID: String, parsed: ParsedSDP?)
        /// An event whose SDP rtpengine is rewriting; it is handled with the new SDP when the answer comes.
        case event(CallEvent)
    }

    /// The target whose session this is (its `media` settings are the B side's).
    var target: String
    /// The session's key (the attempt's B-leg Call-ID); nil once deleted or when the attempt is not anchored.
    var callID: String?
    /// The instance holding the session; nil until a request succeeded (delayed offer: until the 2xx's offer).
    var instance: String?
    var offerFrom: Side?
    var wait: Wait?
    var held: [CallEvent] = []
}
