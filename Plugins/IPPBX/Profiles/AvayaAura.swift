import PluginAPI

extension IPPBXProfiles {
    /// Avaya Aura (Communication Manager behind Session Manager). Aura reports forwarding in History-Info, the house
    /// in Diversion; Session Manager's own adaptation modules convert the same way for peers that read only
    /// Diversion. Headers Aura adds for its own elements are removed towards the house.
    static let avayaAura: VendorProfile = {
        var r = ProfileRules(
            name: "avaya-aura",
            summary: "History-Info <-> Diversion, Avaya-private headers removed")
        r.calledFormat = .extensionOrNational
        r.callingFormat = .extensionOrNational
        // P-Location is the header Session Manager's documentation names as one to remove for non-Avaya elements.
        // `P-AV-*` and `Av-*` are Avaya's prefixes for its own headers (P-AV-Message-Id, Av-Global-Session-ID);
        // no public Avaya document found describes them, so they go as vendor headers the house does not carry.
        r.stripHeadersFromPeer = ["P-Location", "P-AV-*", "Av-*"]
        return VendorProfile(rules: r) { rules, peer, _ in AvayaAuraAdapter(rules: rules, peer: peer) }
    }()
}

final class AvayaAuraAdapter: RuleAdapter, @unchecked Sendable {
    override func headersFromPeer(_ message: inout SIPMessage) {
        super.headersFromPeer(&message)
        message.convertHistoryInfoToDiversion()
    }

    override func headersToPeer(_ message: inout SIPMessage) {
        super.headersToPeer(&message)
        // After the numbers: the History-Info chain then carries Aura's extensions, and its last entry the
        // Request-URI as Aura receives it.
        message.convertDiversionToHistoryInfo()
    }
}
