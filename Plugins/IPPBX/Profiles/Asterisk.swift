import PluginAPI

extension IPPBXProfiles {
    /// Asterisk and FreePBX (chan_pjsip). FreePBX trunks can send P-Asserted-Identity, Remote-Party-ID or both; the
    /// house keeps only P-Asserted-Identity. Asterisk writes `a=maxptime` into its SDP, which the house format does
    /// not carry (packet time is set per peer with `ptime`).
    static let asterisk: VendorProfile = {
        var r = ProfileRules(
            name: "asterisk",
            summary: "Remote-Party-ID -> P-Asserted-Identity, a=maxptime removed, Contact with a user part")
        r.calledFormat = .extensionOrNational
        r.callingFormat = .extensionOrNational
        return VendorProfile(rules: r) { rules, peer, _ in AsteriskAdapter(rules: rules, peer: peer) }
    }()
}

final class AsteriskAdapter: RuleAdapter, @unchecked Sendable {
    override func headersFromPeer(_ message: inout SIPMessage) {
        super.headersFromPeer(&message)
        // When FreePBX sends both, P-Asserted-Identity wins and Remote-Party-ID is only removed.
        message.convertRemotePartyIDToAssertedIdentity()
    }

    override func sdpFromPeer(_ sdp: inout SessionDescription, in message: SIPMessage) {
        super.sdpFromPeer(&sdp, in: message)
        sdp.setMaxPacketTime(nil)
    }

    override func headersToPeer(_ message: inout SIPMessage) {
        super.headersToPeer(&message)
        Self.giveContactAUserPart(&message)
    }

    /// A Contact without a user part (`<sip:192.0.2.1:5060>`) gets the party it stands for: the caller in requests,
    /// the called party in responses, already in Asterisk's number format, so that Asterisk sees a number wherever
    /// it reads the remote Contact. The Asterisk documentation found does not say what it does with a Contact
    /// without a user part; an existing user part is therefore never replaced, only an empty one filled.
    static func giveContactAUserPart(_ message: inout SIPMessage) {
        var contacts = message.nameAddresses("Contact")
        guard contacts.count == 1, !contacts[0].isWildcard, contacts[0].uri.user == nil,
            let user = (message.isRequest ? message.from : message.to)?.uri.user
        else { return }
        contacts[0].uri.user = user
        message.setNameAddresses("Contact", contacts)
    }
}
