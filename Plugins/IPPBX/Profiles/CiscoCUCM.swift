import PluginAPI

extension IPPBXProfiles {
    /// Cisco Unified Communications Manager over a SIP trunk. CUCM identifies the caller (and, in responses, the
    /// connected party) with Remote-Party-ID and advertises Cisco-private option tags; its SIP profiles default to
    /// payload type 101 for RFC 2833/4733 telephone-event. Delayed-offer INVITEs (no SDP) need nothing here: the
    /// engine carries the late offer and answer, and every edit below leaves the body alone.
    static let ciscoCUCM: VendorProfile = {
        var r = ProfileRules(
            name: "cisco-cucm",
            summary: "Remote-Party-ID <-> P-Asserted-Identity, X-cisco-* headers and option tags removed, "
                + "telephone-event 101")
        // Same numbering as `generic`: CUCM dial plans are usually built on extensions and national numbers; a
        // +E.164 dial plan sets `number_format: e164`.
        r.calledFormat = .extensionOrNational
        r.callingFormat = .extensionOrNational
        r.stripHeadersFromPeer = ["X-cisco-*"]
        r.telephoneEvent = 101
        return VendorProfile(rules: r) { rules, peer, _ in CiscoCUCMAdapter(rules: rules, peer: peer) }
    }()
}

final class CiscoCUCMAdapter: RuleAdapter, @unchecked Sendable {
    /// Option tags no one but Cisco equipment understands (`X-cisco-srtp-fallback`, `X-cisco-original-called`, ...).
    /// Standard tags CUCM also sends (`timer`, `replaces`, `resource-priority`, `Geolocation` of RFC 6442) stay.
    static let privateOptionTagPrefix = "x-cisco-"

    /// Event packages CUCM offers in Allow-Events. `kpml` (RFC 4730) and `presence` (RFC 3856) are standards, but
    /// Patchbay relays no SUBSCRIBE/NOTIFY, so advertising them to the far side would invite subscriptions that fail.
    static let unrelayedEventPackages: Set<String> = ["kpml", "presence"]

    override func headersFromPeer(_ message: inout SIPMessage) {
        super.headersFromPeer(&message)
        message.convertRemotePartyIDToAssertedIdentity()
        Self.removeValues(from: &message, "Supported") { $0.lowercased().hasPrefix(Self.privateOptionTagPrefix) }
        Self.removeValues(from: &message, "Allow-Events") {
            Self.unrelayedEventPackages.contains($0.lowercased())
        }
    }

    override func headersToPeer(_ message: inout SIPMessage) {
        super.headersToPeer(&message)
        // Runs after the numbers are written in CUCM's format, so Remote-Party-ID carries them too.
        message.convertAssertedIdentityToRemotePartyID()
    }

    /// Removes the entries of a list header that `drop` matches, and the header once none are left.
    static func removeValues(from message: inout SIPMessage, _ name: String, where drop: (String) -> Bool) {
        let values = message.values(name)
        let kept = values.filter { !drop($0) }
        if kept.count != values.count { message.setValues(name, kept) }
    }
}
