import PluginAPI
import Routing

/// The INVITE a target receives, built from the target's translated request (`RequestProcessor.leg(for:)`) and the
/// caller's INVITE: Patchbay's own dialog headers (From with our host, To, Call-ID, CSeq, Via, Contact, Max-Forwards
/// one less than the caller's), then the relayable content with no internal host in an identity or, towards an
/// external peer, redirection URI. The engine's `Call` sends what this builds and `patchbay process` prints it.
public struct OutboundInvite: Sendable {
    public var from: NameAddress
    public var to: NameAddress
    public var requestURI: SIPURI
    public var message: SIPMessage

    /// - Parameters:
    ///   - callID, localTag, branch: the B leg's identifiers (the engine's carry the shard).
    ///   - transport: how the target is reached, for Via and Contact.
    ///   - prack: the target's `prack`: 100rel offered (Supported) or required (Require) in the INVITE.
    ///   - sessionTimer: the target's `session_timer`, asked for in the INVITE (RFC 4028).
    public init(
        leg: RequestProcessor.Leg, callerInvite: SIPMessage, local: LocalAddress,
        transport: PatchbayConfiguration.Transport?,
        callID: String, localTag: String, branch: String, external: Bool,
        prack: PatchbayConfiguration.PrackPolicy = .supported, sessionTimer: PatchbayConfiguration.SessionTimer? = nil
    ) {
        var from = leg.message.from ?? NameAddress(uri: SIPURI(host: local.host))
        from.uri.host = local.host
        from.uri.port = local.udpPort
        from.tag = nil
        var to = leg.message.to ?? NameAddress(uri: leg.message.requestURI ?? SIPURI(host: "invalid"))
        to.tag = nil
        if let ruri = leg.message.requestURI {
            to.uri.host = ruri.host
            to.uri.port = ruri.port
        }
        let target = leg.message.requestURI ?? to.uri
        var localURI = from
        localURI.tag = localTag
        let maxForwards = max(0, (Int(callerInvite.header("Max-Forwards") ?? "70") ?? 70) - 1)
        var invite = CallLeg.request(
            "INVITE", uri: target, from: localURI, to: to, callID: callID, cseq: 1,
            via: local.via(for: transport, branch: branch), contact: local.contact(user: from.uri.user, for: transport),
            maxForwards: maxForwards)
        var content = Relay.content(of: leg.message)
        Relay.hideTopology(&content, localHost: local.host, external: external)
        invite.headers += content.headers
        invite.headers.append(SIPHeader("Allow", Relay.allow))
        // One Supported and one Require line with every option tag, as most stacks write them.
        var supported: [String] = []
        var required: [String] = []
        if prack != .off { supported.append("100rel") }
        if prack == .required { required.append("100rel") }
        if let sessionTimer {
            // RFC 4028 section 7.1: the interval asked for, who Patchbay would like to refresh, and the least it
            // accepts.
            supported.append("timer")
            let refresher = sessionTimer.refresher == .patchbay ? "uac" : "uas"
            invite.headers += [
                SIPHeader("Session-Expires", "\(sessionTimer.expires);refresher=\(refresher)"),
                SIPHeader("Min-SE", String(sessionTimer.minSE)),
            ]
        }
        if !supported.isEmpty { invite.headers.append(SIPHeader("Supported", supported.joined(separator: ", "))) }
        if !required.isEmpty { invite.headers.append(SIPHeader("Require", required.joined(separator: ", "))) }
        invite.body = leg.message.body
        self.from = from
        self.to = to
        self.requestURI = target
        self.message = invite
    }
}
