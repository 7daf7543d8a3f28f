/// The timers a call runs besides its transactions'.
package enum CallTimer: Hashable, Sendable, CaseIterable {
    /// The route's ring timeout for the target being tried.
    case ring
    /// The 2xx to the caller's INVITE, retransmitted until the ACK (RFC 3261 section 13.3.1.4).
    case retransmit200
    /// The 2xx to a re-INVITE Patchbay relayed, retransmitted until the near peer's ACK.
    case reInvite200
    /// A reliable 18x to the caller, retransmitted until its PRACK (RFC 3262 section 3).
    case reliableProvisional
    /// A leg's session timer (RFC 4028): Patchbay's refresh, or the peer's refresh that did not come.
    case sessionA, sessionB
    /// The call's maximum duration (route `max_duration`, peers' `max_call_duration`).
    case maxDuration
}
