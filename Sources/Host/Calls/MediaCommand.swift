/// One request to rtpengine about a call's media, as the call's machine asks for it: plain values, which the
/// engine encodes in the ng protocol (`MediaRelay`). The machine says what it wants on each side; which instance
/// answers is the engine's choice for a new session, then the session's.
package struct MediaCommand: Sendable, Equatable {
    package enum Kind: String, Sendable {
        /// SDP from the side with `fromTag`, rewritten for the other side.
        case offer
        /// The answer from the side with `toTag` to the offer from `fromTag`, rewritten for the offerer.
        case answer
    }

    package var kind: Kind
    /// rtpengine's key for the session: the attempt's B-leg Call-ID, so each target tried has its own session and
    /// an abandoned one is deleted alone.
    package var callID: String
    package var fromTag: String
    package var toTag: String?
    package var sdp: [UInt8]
    /// The instance holding the session; nil for its first request (the engine chooses, with failover).
    package var instance: String?
    /// rtpengine's interfaces, the sender's side first (`direction`); empty: rtpengine's default.
    package var direction: [String] = []
    /// What the receiving side's SDP says (`RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVP`); nil: as offered.
    package var transportProtocol: String?
    /// `ICE`: `remove` or `force`; nil: as offered.
    package var ice: String?
    /// `ICE-lite`: `forward` makes rtpengine an ICE-lite agent towards the receiver.
    package var iceLite: String?
    package var flags: [String] = []
    /// `replace`: the SDP's `o=` and session `c=` are rtpengine's, so no address of one side reaches the other.
    package var replace: [String] = ["origin", "session-connection"]
    /// `codec.mask`: offered to the receiver only if transcoded; `codec.transcode`: added, transcoded.
    package var codecMask: [String] = []
    package var codecTranscode: [String] = []

    package init(kind: Kind, callID: String, fromTag: String, toTag: String?, sdp: [UInt8], instance: String?) {
        self.kind = kind
        self.callID = callID
        self.fromTag = fromTag
        self.toTag = toTag
        self.sdp = sdp
        self.instance = instance
    }
}
