import PluginAPI

extension ITSPTrunkProfiles {
    /// A provider that wants +E.164, G.711 and RFC 4733 DTMF, and must not see the site's internal headers.
    static let generic: VendorProfile = {
        var r = ProfileRules(
            name: "generic",
            summary: "+E.164, P-Asserted-Identity/Privacy, internal X- headers stripped, G.711 + telephone-event")
        r.calledFormat = .e164
        r.callingFormat = .e164
        // Internal headers must not leak to a provider, and its own X- headers mean nothing inside.
        r.stripHeadersToPeer = ["X-*", "Remote-Party-ID", "P-Preferred-Identity"]
        r.stripHeadersFromPeer = ["X-*"]
        r.codecs = ["PCMA", "PCMU", "telephone-event"]
        return VendorProfile(rules: r) { rules, peer, options in
            TrunkAdapter(rules: rules, peer: peer, assertIdentity: try options.bool("assert_identity") ?? true)
        }
    }()
}

/// Adds what providers need to present the caller id: P-Asserted-Identity from From when the site did not assert
/// one, and `Privacy: id` when the caller is anonymous (the provider then withholds it from the callee).
final class TrunkAdapter: RuleAdapter, @unchecked Sendable {
    let assertIdentity: Bool

    init(rules: ProfileRules, peer: PeerConfiguration, assertIdentity: Bool) {
        self.assertIdentity = assertIdentity
        super.init(rules: rules, peer: peer)
    }

    override func headersToPeer(_ message: inout SIPMessage) {
        super.headersToPeer(&message)
        guard message.isRequest, let from = message.from else { return }
        let anonymous = from.uri.user?.lowercased() == "anonymous" || from.displayName?.lowercased() == "anonymous"
        if assertIdentity, !anonymous, !message.hasHeader("P-Asserted-Identity") {
            message.setNameAddresses("P-Asserted-Identity", [NameAddress(displayName: from.displayName, uri: from.uri)])
        }
        if anonymous, !message.hasHeader("Privacy") { message.setHeader("Privacy", "id") }
    }
}
