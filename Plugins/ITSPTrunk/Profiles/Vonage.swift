import PluginAPI

extension ITSPTrunkProfiles {
    /// Vonage SIP Trunking: E.164 digits without `+` in every number, and G.729 without Annex B, which Vonage
    /// does not support (an implicit fmtp means annexb=yes, RFC 4856).
    static let vonage: VendorProfile = {
        var r = ProfileRules(
            name: "vonage",
            summary: "Vonage SIP Trunking: E.164 without '+', G.729 annexb=no, internal X- headers stripped")
        r.calledFormat = .e164
        r.callingFormat = .e164
        r.numberRulesOut = NumberRules([NumberRule(stripPrefix: "+")])
        // Vonage writes every number as country code and digits; shorter numbers (and `anonymous`) are left to
        // the peer's numbering context.
        r.numberRulesIn = NumberRules([try! NumberRule(match: #"[1-9]\d{7,14}"#, replace: "+$0")])
        r.stripHeadersToPeer = ["X-*", "Remote-Party-ID", "P-Preferred-Identity"]
        r.stripHeadersFromPeer = ["X-*"]
        // Vonage's list; Opus and others a site offers would only be refused.
        r.codecs = ["PCMA", "PCMU", "G722", "G729", "iLBC", "speex/16000", "telephone-event"]
        // Both directions: what Vonage sends has no Annex B either, and the house wants that explicit.
        r.formatParametersToPeer = [FormatParameterRule(codec: "G729", name: "annexb", value: "no")]
        r.formatParametersFromPeer = [FormatParameterRule(codec: "G729", name: "annexb", value: "no")]
        return VendorProfile(rules: r) { rules, peer, options in
            TrunkAdapter(rules: rules, peer: peer, assertIdentity: try options.bool("assert_identity") ?? true)
        }
    }()
}
