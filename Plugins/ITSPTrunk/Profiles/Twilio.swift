import PluginAPI

extension ITSPTrunkProfiles {
    /// Twilio Elastic SIP Trunking: +E.164 everywhere, G.711 only (G.729, Opus and AMR-NB are "Limited
    /// Availability" that an account must have enabled, so offering them by default invites a 488).
    static let twilio: VendorProfile = {
        var r = ProfileRules(
            name: "twilio",
            summary: "Twilio Elastic SIP Trunking: +E.164 From/PAI, PCMU/PCMA + telephone-event, X-Twilio-* stripped")
        r.calledFormat = .e164
        r.callingFormat = .e164
        r.stripHeadersToPeer = ["X-*", "Remote-Party-ID", "P-Preferred-Identity"]
        // Covers Twilio's own X-Twilio-* headers: they describe Twilio's call record, not the call.
        r.stripHeadersFromPeer = ["X-*"]
        // Twilio offers PCMU before PCMA on origination and takes the first it supports on termination.
        r.codecs = ["PCMU", "PCMA", "telephone-event"]
        return VendorProfile(rules: r) { rules, peer, options in
            _ = try TwilioAuthentication(&options)
            return TrunkAdapter(rules: rules, peer: peer, assertIdentity: try options.bool("assert_identity") ?? true)
        }
    }()
}

/// How the site authenticates to a Twilio termination URI, validated so a typo fails at load time. The digest
/// answers themselves come from the host (the peer's `auth:` block): credentials never cross into a plugin.
/// Twilio trunks take no REGISTER in either mode.
struct TwilioAuthentication: Equatable {
    enum Mode: String, CaseIterable {
        case credentials
        case ipACL = "ip-acl"
    }

    let mode: Mode
    let username: String?

    init(_ options: inout PeerOptions) throws {
        let raw = try options.choice("auth_mode", Mode.allCases.map(\.rawValue))
        mode = raw.flatMap(Mode.init(rawValue:)) ?? .ipACL
        username = try options.string("username")
        if let username, username.isEmpty {
            throw PeerOptionError(option: "username", "must not be empty")
        }
        if username != nil, mode == .ipACL {
            throw PeerOptionError(option: "username", "only applies with auth_mode: credentials")
        }
    }
}
