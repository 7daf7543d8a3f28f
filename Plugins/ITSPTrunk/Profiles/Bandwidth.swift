import PluginAPI

extension ITSPTrunkProfiles {
    /// Bandwidth.com: +E.164 towards Bandwidth; from Bandwidth, the called number arrives in whatever "Inbound
    /// Calls Number Format" each number is set to (10 digits, 11 digits or +E.164), so all three are read.
    static let bandwidth: VendorProfile = {
        var r = ProfileRules(
            name: "bandwidth",
            summary: "Bandwidth.com: +E.164 out, NANP 10/11-digit or +E.164 in, G.711 + telephone-event")
        r.calledFormat = .e164
        r.callingFormat = .e164
        // NANP shapes only (area code and exchange start 2-9), so they hold whatever numbering the peer has.
        r.numberRulesIn = NumberRules([
            try! NumberRule(match: #"1([2-9]\d{2}[2-9]\d{6})"#, replace: "+1$1"),
            try! NumberRule(match: #"[2-9]\d{2}[2-9]\d{6}"#, replace: "+1$0"),
        ])
        r.stripHeadersToPeer = ["X-*", "Remote-Party-ID", "P-Preferred-Identity"]
        r.stripHeadersFromPeer = ["X-*"]
        // A US carrier: PCMU first.
        r.codecs = ["PCMU", "PCMA", "telephone-event"]
        return VendorProfile(rules: r) { rules, peer, options in
            TrunkAdapter(rules: rules, peer: peer, assertIdentity: try options.bool("assert_identity") ?? true)
        }
    }()
}
