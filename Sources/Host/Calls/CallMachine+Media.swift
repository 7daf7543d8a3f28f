import Logging
import PluginAPI
import Routing
import SIPCore

/// Media anchored through rtpengine: every SDP that crosses an anchored call goes to rtpengine first (an offer or
/// an answer, per the offer/answer state) and crosses with what rtpengine wrote, so each peer sees only
/// rtpengine's address on its side. The INVITE's offer is made per target, before the target's leg is built; any
/// later SDP (18x, 2xx, ACK, re-INVITE, UPDATE, PRACK) is held as the event that carries it.
///
/// ```
///  caller (A)          Patchbay            rtpengine          target (B)
///     | INVITE+SDP ---> | offer(caller) ----> |                    |
///     |                 | <------- SDP(B side)|                    |
///     |                 | INVITE+SDP(rtpengine's B address) ------>|
///     |                 | <------------------------------- 200+SDP |
///     |                 | answer(callee) ---> |                    |
///     | <-- 200+SDP --- | <------ SDP(A side) |                    |
///     | BYE ----------> | delete -----------> |  BYE ------------->|
/// ```
extension CallMachine {
    typealias MediaPolicy = PatchbayConfiguration.MediaPolicy

    /// Whether a call to `target` is anchored: either peer anchors its media, and rtpengine is configured.
    func anchors(target: String) -> Bool { site.anchors(source: sourcePeer, target: target) }

    func mediaPolicy(_ side: MediaAnchor.Side, target: String) -> MediaPolicy {
        site.callSettings[side == .a ? sourcePeer : target]?.media ?? MediaPolicy()
    }

    /// The INVITE to `name` is anchored: its offer goes to rtpengine first, and the INVITE waits for the answer.
    /// An INVITE without SDP (delayed offer) goes at once; the offer then comes in the target's 2xx.
    mutating func offerToTarget(_ name: String, house: SIPMessage, parsed: ParsedSDP?) {
        let callID = context.newCallID()
        var anchor = MediaAnchor(target: name, callID: callID)
        anchor.held = self.anchor?.held ?? []
        guard !house.body.isEmpty else {
            self.anchor = anchor
            return sendToTarget(name, house: house, parsed: parsed, callID: callID)
        }
        anchor.offerFrom = .a
        anchor.wait = .targetOffer(target: name, callID: callID, parsed: parsed)
        self.anchor = anchor
        actions.append(.media(mediaCommand(.offer, from: .a, sdp: house.body, anchor: anchor)))
    }

    /// The request to rtpengine for SDP from `side`: flags for the side that receives what rtpengine writes.
    func mediaCommand(_ kind: MediaCommand.Kind, from side: MediaAnchor.Side, sdp: [UInt8], anchor: MediaAnchor)
        -> MediaCommand
    {
        let receiver = kind == .offer ? side.other : anchor.offerFrom ?? side.other
        let offerer = kind == .offer ? side : receiver
        var command = MediaCommand(
            kind: kind, callID: anchor.callID ?? "", fromTag: offerer.tag,
            toTag: kind == .offer && anchor.instance == nil ? nil : offerer.other.tag, sdp: sdp,
            instance: anchor.instance)
        let to = mediaPolicy(receiver, target: anchor.target)
        command.flags = to.flags
        let info = [MediaAnchor.Side.a, .b].contains {
            let policy = mediaPolicy($0, target: anchor.target)
            return policy.mode == .anchor && policy.dtmf == .info
        }
        // `play DTMF` (an INFO's digit into the media) needs the streams set up for injection.
        if info { command.flags.append("inject-DTMF") }
        guard kind == .offer else { return command }
        let from = mediaPolicy(side, target: anchor.target)
        if let first = site.configuration.rtpengine?.interfaces.first {
            command.direction = [from.interface ?? first, to.interface ?? first]
        }
        switch to.srtp {
        case .off?: command.transportProtocol = "RTP/AVP"
        case .sdes?: command.transportProtocol = "RTP/SAVP"
        case .dtls?: command.transportProtocol = "UDP/TLS/RTP/SAVP"
        case .optional?:
            command.transportProtocol = "RTP/AVP"
            command.flags.append("OSRTP-offer")
        case nil: break
        }
        switch to.ice {
        case .remove?: command.ice = "remove"
        case .force?: command.ice = "force"
        case .lite?:
            command.ice = "force"
            command.iceLite = "forward"
        case nil: break
        }
        if !to.codecs.isEmpty {
            command.codecMask = ["all"]
            command.codecTranscode = to.codecs
        }
        command.codecTranscode += to.transcode.filter { !command.codecTranscode.contains($0) }
        if to.dtmf == .rfc2833, !to.codecs.isEmpty, !command.codecTranscode.contains("telephone-event") {
            // A codec list masks everything else: telephone-events stay offered to a peer that takes them.
            command.codecTranscode.append("telephone-event")
        }
        return command
    }

    /// Holds an event whose SDP must go through rtpengine first; false for an event that goes on as it is.
    mutating func holdForMedia(_ event: CallEvent) -> Bool {
        guard var anchor, anchor.callID != nil else { return false }
        let message: SIPMessage
        let side: MediaAnchor.Side
        switch event {
        case .request(let r, let fromA):
            guard state == .confirmed || state == .early else { return false }
            if r.method == "INVITE", reInviteRefusal(fromA: fromA) != nil { return false }
            if r.method == "INVITE", r.body.isEmpty {
                // An offerless re-INVITE: its 2xx brings the next offer.
                anchor.offerFrom = nil
                self.anchor = anchor
                return false
            }
            (message, side) = (r, fromA ? .a : .b)
        case .outcome(.response(let r), .invite):
            guard let status = r.statusCode, status > 100, status < 300 else { return false }
            (message, side) = (r, .b)
        case .outcome(.response(let r), .relay(_, let fromA)):
            guard let status = r.statusCode, status > 100, status < 300 else { return false }
            (message, side) = (r, fromA ? .b : .a)
        default:
            return false
        }
        guard !message.body.isEmpty, message.contentType?.lowercased().hasPrefix("application/sdp") ?? false
        else { return false }
        let offers = message.isRequest && (message.method == "INVITE" || message.method == "UPDATE")
        let kind: MediaCommand.Kind = !offers && anchor.offerFrom == side.other ? .answer : .offer
        if kind == .offer { anchor.offerFrom = side }
        anchor.wait = .event(event)
        self.anchor = anchor
        actions.append(.media(mediaCommand(kind, from: side, sdp: message.body, anchor: anchor)))
        return true
    }

    /// rtpengine answered (or failed) the request the call was waiting for.
    mutating func mediaAnswered(_ outcome: MediaOutcome) {
        guard var anchor, let wait = anchor.wait else { return }
        anchor.wait = nil
        if case .sdp(_, let instance) = outcome, anchor.instance == nil { anchor.instance = instance }
        self.anchor = anchor
        switch (wait, outcome) {
        case (.targetOffer(let target, let callID, _), .sdp(let sdp, _)):
            guard var offered = house else { return }
            offered.body = sdp
            sendToTarget(target, house: offered, parsed: nil, callID: callID)
        case (.targetOffer(let target, let callID, let parsed), .failed(let reason)):
            let optional = site.mediaRelayIsOptional(source: sourcePeer, target: target)
            self.anchor?.callID = nil
            self.anchor?.offerFrom = nil
            guard optional, let house else {
                logger.error(
                    "media relay failed: target not tried",
                    metadata: ["a": "\(a.callID)", "peer": "\(target)", "reason": "\(reason)"])
                record.attempts.append(.init(peer: target, status: 503, note: "media relay: \(reason)"))
                lastFailure = (503, "Service Unavailable")
                return tryNextTarget()
            }
            logger.warning(
                "media relay failed: the call goes on unanchored",
                metadata: ["a": "\(a.callID)", "peer": "\(target)", "reason": "\(reason)"])
            sendToTarget(target, house: house, parsed: parsed, callID: callID)
        case (.event(let event), .sdp(let sdp, _)):
            dispatch(Self.replacingSDP(event, with: sdp), gated: false)
        case (.event(let event), .failed(let reason)):
            mediaFailed(event, reason: reason)
        }
    }

    /// rtpengine could not rewrite an event's SDP: what the event asked for cannot be done with the media
    /// anchored, and nothing of the peer's own SDP crosses unanchored.
    mutating func mediaFailed(_ event: CallEvent, reason: String) {
        logger.error("media relay failed", metadata: ["a": "\(a.callID)", "reason": "\(reason)"])
        switch event {
        case .request(let r, _) where r.method != "ACK":
            var refusal = Relay.response(500, "Media Relay Failed", to: r, toTag: nil, contact: nil)
            refusal.headers.append(SIPHeader("Retry-After", "5"))
            actions.append(.respond(refusal, to: r))
        case .outcome(.response(let r), .invite) where (r.statusCode ?? 0) >= 200:
            // The target answered, but its media cannot be anchored: it is hung up, and the next target tried.
            guard let callID = b?.callID else { return }
            hangUpAbandoned(r, callID: callID)
            cancelRingTimer()
            closeAttempt(503)
            lastFailure = (503, "Service Unavailable")
            state = .routing
            tryNextTarget()
        case .outcome(.response(var r), .invite):
            // Early media cannot be anchored: the caller hears its own ringback, not the target's.
            r.body = []
            r.removeHeader("Content-Type")
            dispatch(.outcome(.response(r), role: .invite), gated: false)
        default:
            dispatch(event, gated: false)
        }
    }

    /// The session of the attempt in progress is over (its target failed, or the call ended).
    mutating func releaseMedia() {
        guard var anchor, let callID = anchor.callID else { return }
        if let instance = anchor.instance { actions.append(.deleteMedia(callID: callID, instance: instance)) }
        anchor.callID = nil
        anchor.instance = nil
        anchor.offerFrom = nil
        self.anchor = anchor
    }

    static func replacingSDP(_ event: CallEvent, with sdp: [UInt8]) -> CallEvent {
        switch event {
        case .request(var r, let fromA):
            r.body = sdp
            return .request(r, fromA: fromA)
        case .outcome(.response(var r), let role):
            r.body = sdp
            return .outcome(.response(r), role: role)
        default:
            return event
        }
    }
}
