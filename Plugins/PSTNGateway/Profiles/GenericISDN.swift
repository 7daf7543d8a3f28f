import PluginAPI

extension PSTNGatewayProfiles {
    /// An ISDN gateway that maps the calling party's presentation indicator to SIP privacy (RFC 3323/3325): CLIR
    /// (presentation restricted) is `Privacy: id` with the number kept in P-Asserted-Identity for the trusted
    /// network, CLIP is no Privacy. Numbers are written national inside the country, with the international
    /// prefix outside, which is what ISDN type-of-number "unknown" expects.
    static let genericISDN: VendorProfile = {
        var r = ProfileRules(
            name: "generic-isdn", summary: "ISDN: national/international formats, CLIP/CLIR <-> Privacy: id")
        r.calledFormat = .national
        r.callingFormat = .national
        return VendorProfile(rules: r) { rules, peer, _ in GenericISDNAdapter(rules: rules, peer: peer) }
    }()
}

final class GenericISDNAdapter: RuleAdapter, @unchecked Sendable {
    override func headersFromPeer(_ message: inout SIPMessage) {
        super.headersFromPeer(&message)
        message.convertRemotePartyIDToAssertedIdentity()
        // Gateways that only anonymise From for a restricted caller still mean CLIR; say so the RFC 3323 way.
        if message.isRequest, message.from.map(Self.isAnonymous) == true, !Self.restrictsIdentity(message) {
            message.setHeader("Privacy", "id")
        }
    }

    override func headersToPeer(_ message: inout SIPMessage) {
        super.headersToPeer(&message)
        // `header` and `user` privacy hide the identity too; the gateway sets presentation restricted only on `id`.
        let values = Self.privacyValues(message)
        guard message.isRequest, !values.contains("id"), !Set(values).isDisjoint(with: ["header", "user"]) else {
            return
        }
        message.setHeader("Privacy", (values.filter { $0 != "none" } + ["id"]).joined(separator: ";"))
    }

    static func privacyValues(_ message: SIPMessage) -> [String] {
        message.values("Privacy").flatMap { $0.split(separator: ";") }.map {
            String($0.filter { $0 != " " && $0 != "\t" }).lowercased()
        }
    }

    static func restrictsIdentity(_ message: SIPMessage) -> Bool {
        !Set(privacyValues(message)).isDisjoint(with: ["id", "header", "user"])
    }

    static func isAnonymous(_ from: NameAddress) -> Bool {
        from.uri.user?.lowercased() == "anonymous" || from.uri.host.lowercased() == "anonymous.invalid"
    }
}
