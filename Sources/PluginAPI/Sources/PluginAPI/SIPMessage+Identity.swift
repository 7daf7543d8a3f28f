/// Conversions between the identity headers peers use. The house format carries the caller's identity in
/// P-Asserted-Identity (RFC 3325) with Privacy (RFC 3323); older PBXs and Cisco equipment use the expired
/// Remote-Party-ID draft (draft-ietf-sip-privacy-04), whose `privacy` and `screen` parameters map onto those.
extension SIPMessage {
    /// Turns Remote-Party-ID entries for the calling party (party=calling or no party; in responses party=called,
    /// the connected party) into P-Asserted-Identity, unless the message already has one, and removes every
    /// Remote-Party-ID. `privacy=full|name|uri` becomes `Privacy: id`.
    public mutating func convertRemotePartyIDToAssertedIdentity() {
        let rpids = nameAddresses("Remote-Party-ID")
        guard !rpids.isEmpty else { return }
        removeHeader("Remote-Party-ID")
        let wanted = isRequest ? "calling" : "called"
        let relevant = rpids.filter { ($0.parameters[parameter: "party"] ?? wanted).lowercased() == wanted }
        guard let rpid = relevant.first, !hasHeader("P-Asserted-Identity") else { return }
        let privacy = rpid.parameters[parameter: "privacy"]?.lowercased()
        setNameAddresses("P-Asserted-Identity", [NameAddress(displayName: rpid.displayName, uri: rpid.uri)])
        if let privacy, privacy != "off", !hasHeader("Privacy") { setHeader("Privacy", "id") }
    }

    /// The reverse, for peers that only read Remote-Party-ID: P-Asserted-Identity becomes Remote-Party-ID with
    /// party, screen and privacy parameters, and is removed.
    public mutating func convertAssertedIdentityToRemotePartyID() {
        guard let pai = nameAddresses("P-Asserted-Identity").first else { return }
        removeHeader("P-Asserted-Identity")
        let privacy = header("Privacy")?.lowercased().contains("id") == true ? "full" : "off"
        var rpid = NameAddress(displayName: pai.displayName, uri: pai.uri)
        rpid.parameters = [
            SIPParameter("party", isRequest ? "calling" : "called"), SIPParameter("screen", "yes"),
            SIPParameter("privacy", privacy),
        ]
        setNameAddresses("Remote-Party-ID", [rpid])
    }
}
