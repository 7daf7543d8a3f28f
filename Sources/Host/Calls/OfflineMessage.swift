import PluginAPI
import Routing

/// What `patchbay process` prints: the message Patchbay sends for a raw message received from a peer, built by the
/// code the engine runs, so a dry run shows the headers that really leave (Patchbay's own Via, Contact and From
/// host, none of the sender's). Only the per-call identifiers differ from a live call: `callID`, `tag` and `branch`.
public enum OfflineMessage {
    public static let callID = "process-call-id"
    public static let tag = "process-tag"
    public static let branch = "z9hG4bK-process"

    public enum ProcessingError: Error, CustomStringConvertible {
        case notInitialInvite(String)
        public var description: String {
            switch self {
            case .notInitialInvite(let what):
                "\(what): process takes an initial INVITE (no To tag) or a response; in-dialog requests follow a call"
            }
        }
    }

    /// An initial INVITE from `source`: the routing result, and the INVITE its first target receives (nil when
    /// the route rejects the call).
    public static func request(
        _ invite: SIPMessage, from source: String, site: Site
    ) throws -> (result: RequestProcessor.Result, sent: SIPMessage?) {
        guard invite.method == "INVITE", invite.toTag == nil else {
            throw ProcessingError.notInitialInvite(invite.method + (invite.toTag == nil ? "" : " with a To tag"))
        }
        let processor = RequestProcessor(site: site)
        let result = try processor.process(invite, from: source)
        guard case .forwarded(let route) = result.outcome, let house = result.house else { return (result, nil) }
        // The engine skips a target whose codec policy leaves no audio codec (`MediaRefusal`), and answers 488
        // when that was every target.
        let legs = result.targets.compactMap { processor.leg(for: $0, house: house, parsed: result.houseSDP) }
        guard let leg = legs.first(where: { $0.mediaRefusal == nil }) else {
            var refused = result
            if !legs.isEmpty { refused.outcome = .rejected(route: route, status: 488, reason: "Not Acceptable Here") }
            return (refused, nil)
        }
        let target = leg.peer
        let peer = site.peer(target)
        let out = OutboundInvite(
            leg: leg, callerInvite: invite, local: LocalAddress(configuration: site.configuration),
            transport: peer?.transport, callID: callID, localTag: tag, branch: branch,
            external: peer?.kind == .external,
            prack: peer?.prack ?? .supported, sessionTimer: peer?.sessionTimer)
        return (result, out.message)
    }

    /// A response from the target `target` to the INVITE of a call from `caller`, as the caller receives it: through
    /// both adapters and the caller's header policy, with the caller's INVITE's Via, From, To, Call-ID and CSeq
    /// (`callerInvite`, else a synthetic one from `caller`) and for 1xx/2xx/3xx Patchbay's Contact. Only what a
    /// response carries goes through routing's neighbours: no route, no codec policy of the caller's target.
    public static func response(
        _ response: SIPMessage, from target: String, to caller: String, callerInvite: SIPMessage? = nil, site: Site
    ) -> SIPMessage {
        let status = response.statusCode ?? 500
        let callerPeer = site.peer(caller)
        let invite =
            callerInvite
            ?? callerPeer.map { SyntheticCall.invite(from: $0, to: "patchbay", caller: nil, callID: callID) }
            ?? SIPMessage(startLine: .request(method: "INVITE", uri: "sip:patchbay.invalid", version: "SIP/2.0"))
        let local = LocalAddress(configuration: site.configuration)
        let content = Relay.forward(response, from: target, to: caller, site: site, localHost: local.host)
        return Relay.response(
            status, Relay.reasonPhrase(of: response), to: invite, toTag: tag,
            contact: status < 400 ? local.contact(user: nil, for: callerPeer?.transport) : nil, content: content)
    }
}
