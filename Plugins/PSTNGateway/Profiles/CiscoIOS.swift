import PluginAPI

extension PSTNGatewayProfiles {
    /// Cisco IOS / IOS XE voice gateways and CUBE. They identify the caller in Remote-Party-ID (IOS translates it
    /// to and from the ISDN calling number and presentation), offer G.729 without an `annexb` fmtp (which RFC 3555
    /// and RFC 4856 read as annexb=yes), and add Cisco-only SDP: NSE payloads (`X-NSE/8000`, usually 100) and
    /// `a=X-sqn`, `a=X-cap`, `a=X-cpar` lines. Option `remote_party_id: false` sends P-Asserted-Identity instead,
    /// for gateways configured with `asserted-id pai`.
    static let ciscoIOS: VendorProfile = {
        var r = ProfileRules(
            name: "cisco-ios",
            summary: "Cisco IOS/CUBE: Remote-Party-ID <-> P-Asserted-Identity, explicit G.729 annexb, no NSE or X- SDP")
        r.calledFormat = .national
        r.callingFormat = .national
        // Cisco's own attributes mean nothing to other peers, and a house offer carries none for the gateway.
        r.stripAttributes = ["X-"]
        // Cisco-Guid only correlates calls between Cisco boxes; the house has its own Call-IDs.
        r.stripHeadersFromPeer = ["X-*", "Cisco-Guid"]
        return VendorProfile(rules: r) { rules, peer, options in
            CiscoIOSAdapter(rules: rules, peer: peer, remotePartyID: try options.bool("remote_party_id") ?? true)
        }
    }()
}

final class CiscoIOSAdapter: RuleAdapter, @unchecked Sendable {
    /// Whether the gateway is sent Remote-Party-ID (IOS default) rather than P-Asserted-Identity.
    let remotePartyID: Bool

    init(rules: ProfileRules, peer: PeerConfiguration, remotePartyID: Bool) {
        self.remotePartyID = remotePartyID
        super.init(rules: rules, peer: peer)
    }

    override func headersFromPeer(_ message: inout SIPMessage) {
        super.headersFromPeer(&message)
        message.convertRemotePartyIDToAssertedIdentity()
    }

    override func sdpFromPeer(_ sdp: inout SessionDescription, in message: SIPMessage) {
        super.sdpFromPeer(&sdp, in: message)
        // NSE is Cisco's proprietary alternative to RFC 4733 events; no other peer can use the payload type.
        sdp.removeCodecs(["X-NSE"])
        // G.729 without annexb is made explicit by the house format itself (`HouseFormat.normaliseSDP`), for
        // every peer.
    }

    override func headersToPeer(_ message: inout SIPMessage) {
        super.headersToPeer(&message)
        if remotePartyID { message.convertAssertedIdentityToRemotePartyID() }
    }
}
