import PluginAPI

extension PSTNGatewayProfiles {
    /// AudioCodes Mediant gateways. Numbers national like `generic`; the gateway reads the redirecting number from
    /// the Diversion user part whatever the URI scheme, so Diversion passes in the house form. Comfort noise
    /// (static payload 13) is standard RTP (RFC 3389) and is kept: peers that cannot take it drop it in their own
    /// adapter (`codecs`). AudioCodes' own headers (`X-Detect` answering-machine results in 183/200, any `X-AC-*`)
    /// are stripped towards the house.
    static let audioCodes: VendorProfile = {
        var r = ProfileRules(
            name: "audiocodes", summary: "AudioCodes Mediant: national numbers, X-Detect/X-AC-* stripped, CN kept")
        r.calledFormat = .national
        r.callingFormat = .national
        r.stripHeadersFromPeer = ["X-*"]
        return VendorProfile(rules: r)
    }()
}
