import PluginAPI

extension IPPBXProfiles {
    /// Any standards-following PBX: numbers as the PBX's users see them (extensions inside the DID block, national
    /// numbers outside), identity from Remote-Party-ID accepted as P-Asserted-Identity.
    static let generic: VendorProfile = {
        var r = ProfileRules(
            name: "generic",
            summary: "extensions <-> DID block, national numbers, Remote-Party-ID -> P-Asserted-Identity")
        r.calledFormat = .extensionOrNational
        r.callingFormat = .extensionOrNational
        return VendorProfile(rules: r) { rules, peer, _ in GenericPBXAdapter(rules: rules, peer: peer) }
    }()
}

final class GenericPBXAdapter: RuleAdapter, @unchecked Sendable {
    override func headersFromPeer(_ message: inout SIPMessage) {
        super.headersFromPeer(&message)
        message.convertRemotePartyIDToAssertedIdentity()
    }
}
