/// One leg's session timer as negotiated (RFC 4028): the interval, who refreshes, and how Patchbay refreshes.
struct LegSessionTimer: Equatable {
    /// Seconds.
    var interval: Int
    /// Patchbay refreshes the leg (at half the interval); otherwise the peer must, and the call ends when its
    /// refresh does not come.
    var patchbayRefreshes: Bool
    /// The peer said it supports `timer`: Patchbay's responses to it carry `Require: timer`.
    var peerSupportsTimer: Bool
    /// The peer allows UPDATE: Patchbay refreshes with an UPDATE without SDP rather than a re-INVITE.
    var useUpdate: Bool

    /// When the timer fires after a refresh: half the interval for Patchbay's own refresh; for the peer's, the
    /// interval less the smaller of 32 s and a third of it (section 10), when Patchbay gives up and hangs up.
    var wait: Int {
        patchbayRefreshes ? max(1, interval / 2) : max(1, interval - min(32, interval / 3))
    }

    /// The Session-Expires value for a message Patchbay sends on this leg, which says who refreshes from the
    /// point of view of that message's transaction: Patchbay as UAC (`asUAC`) or as UAS.
    func header(asUAC: Bool) -> String {
        let patchbay = asUAC ? "uac" : "uas"
        let peer = asUAC ? "uas" : "uac"
        return "\(interval);refresher=\(patchbayRefreshes ? patchbay : peer)"
    }
}
