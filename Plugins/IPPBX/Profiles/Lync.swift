import PluginAPI

extension IPPBXProfiles {
    /// Microsoft Lync / Skype for Business through its Mediation Server. Lync routes on +E.164 numbers (its
    /// normalisation rules produce them, its reverse number lookup matches them) and writes them as
    /// `sip:+...;user=phone`, which is also what it is sent. Its `ms-` headers describe Lync's own topology.
    static let lync: VendorProfile = {
        var r = ProfileRules(
            name: "lync",
            summary: "+E.164 with ;user=phone towards Lync/Skype for Business, ms-* headers removed")
        r.calledFormat = .e164
        r.callingFormat = .e164
        // An outside-line code in the site's numbering context belongs to dialled numbers, not to +E.164 ones.
        r.calledAccessCode = false
        r.callingAccessCode = false
        r.stripHeadersFromPeer = ["ms-*"]
        return VendorProfile(rules: r) { rules, peer, _ in LyncAdapter(rules: rules, peer: peer) }
    }()
}

final class LyncAdapter: RuleAdapter, @unchecked Sendable {
    override func headersToPeer(_ message: inout SIPMessage) {
        super.headersToPeer(&message)
        // After the numbers: every URI that now holds a +E.164 number is marked as a telephone number
        // (RFC 3261 section 19.1.1), the form Lync itself sends and expects.
        if var ruri = message.requestURI, Self.markPhone(&ruri) { message.requestURI = ruri }
        if var to = message.to, Self.markPhone(&to.uri) { message.to = to }
        if var from = message.from, Self.markPhone(&from.uri) { message.from = from }
        var pai = message.nameAddresses("P-Asserted-Identity")
        if pai.indices.map({ Self.markPhone(&pai[$0].uri) }).contains(true) {
            message.setNameAddresses("P-Asserted-Identity", pai)
        }
    }

    /// Adds `user=phone` to a SIP URI whose user part is `+` and digits; true when it changed.
    static func markPhone(_ uri: inout SIPURI) -> Bool {
        guard !uri.isTel, let user = uri.user, user.hasPrefix("+"), user.count > 1,
            user.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }), !uri.parameters.has("user")
        else { return false }
        uri.parameters.append(SIPParameter("user", "phone"))
        return true
    }
}
