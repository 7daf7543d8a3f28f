import NIOCore
import PluginAPI
import Routing
import SIPCore

/// Re-INVITEs relayed across the legs (RFC 3261 section 14): one at a time, the 2xx to the near peer retransmitted
/// until its ACK, and an offer that comes in the far peer's 2xx answered in the near peer's ACK.
extension CallMachine {
    /// Why a re-INVITE from the near leg (`fromA`) must wait, as the response it gets; nil when it can go.
    func reInviteRefusal(fromA: Bool) -> ((SIPMessage) -> SIPMessage)? {
        guard let pending = reInvite else { return nil }
        if pending.fromA != fromA {
            // Glare: Patchbay has an INVITE of its own outstanding on this leg (section 14.2). The peer retries
            // after a random time (14.1), and so does the one whose re-INVITE crossed it, if it got 491 too.
            return { Relay.response(491, "Request Pending", to: $0, toTag: nil, contact: nil) }
        }
        // A second INVITE before the first one's final response (14.2): 500 with Retry-After.
        return { request in
            var r = Relay.response(500, "Server Internal Error", to: request, toTag: nil, contact: nil)
            r.headers.append(SIPHeader("Retry-After", "1"))
            return r
        }
    }

    /// The far peer accepted the re-INVITE: its 2xx goes to the near peer, retransmitted until the near ACK.
    /// With an offer in the re-INVITE the far leg is ACKed now; without one the far peer's 2xx carried the offer,
    /// and the far leg's ACK waits for the near peer's answer.
    mutating func reInviteAnswered(
        _ response: SIPMessage, fromPeer: String, toPeer: String, near: SIPDestination?
    ) {
        guard var pending = reInvite, let status = response.statusCode else { return }
        let content = Relay.forward(response, from: toPeer, to: fromPeer, site: site, localHost: context.localHost)
        var ok = Relay.response(
            status, Relay.reasonPhrase(of: response), to: pending.request, toTag: nil,
            contact: context.contact(user: nil, for: near), content: content)
        ok.headers += sessionHeaders(legA: pending.fromA, asUAC: false)
        sentSDP(ok.body, onA: pending.fromA)
        sessionsRefreshed()
        actions.append(.respond(ok, to: pending.request))
        pending.farAnswer = response
        pending.answer = ok
        let retransmission = Retransmission(context.settings)
        pending.retransmission = retransmission
        reInvite = pending
        actions.append(.startTimer(.reInvite200, retransmission.interval))
        if pending.hasOffer { ackFarLeg(answering: response, with: nil, fromA: pending.fromA) }
    }

    /// The near peer's ACK for Patchbay's 2xx: the retransmissions stop, and without an offer in the re-INVITE
    /// its answer goes to the far peer in the far leg's ACK.
    mutating func reInviteAcked(_ ack: SIPMessage) {
        guard let pending = reInvite else { return }
        reInvite = nil
        actions.append(.cancelTimer(.reInvite200))
        guard !pending.hasOffer, let farAnswer = pending.farAnswer else { return }
        ackFarLeg(answering: farAnswer, with: ack, fromA: pending.fromA)
    }

    mutating func reInvite200Fired() {
        guard var pending = reInvite, let ok = pending.answer, var retransmission = pending.retransmission,
            let leg = pending.fromA ? a : b
        else { return }
        guard let wait = retransmission.next(context.settings) else {
            // Section 13.3.1.4: no ACK for the 2xx within 64*T1 ends the dialog.
            reInvite = nil
            logger.warning("no ACK for a re-INVITE's 2xx", metadata: ["a": "\(a.callID)"])
            hangUpBoth(reason: "no ACK")
            return
        }
        actions.append(.sendStateless(ok, to: leg.destination))
        pending.retransmission = retransmission
        reInvite = pending
        actions.append(.startTimer(.reInvite200, wait))
    }

    /// The ACK for the far peer's 2xx, on the far leg: with the near peer's answer (translated) when the near ACK
    /// carried one. Kept to answer the far peer's retransmissions of its 2xx.
    private mutating func ackFarLeg(answering response: SIPMessage, with nearAck: SIPMessage?, fromA: Bool) {
        guard let far = fromA ? b : a, let cseq = response.cseq?.number, let target = currentTarget else { return }
        var ack = far.makeACK(cseq: cseq, via: context.via(for: far.destination))
        if let nearAck, !nearAck.body.isEmpty {
            let (fromPeer, toPeer) = fromA ? (sourcePeer, target.peer) : (target.peer, sourcePeer)
            let content = Relay.forward(nearAck, from: fromPeer, to: toPeer, site: site, localHost: context.localHost)
            ack.headers += content.headers.filter { $0.hasName("content-type") }
            ack.body = content.body
            sentSDP(ack.body, onA: !fromA)
        }
        if fromA { reInviteAckB = ack } else { reInviteAckA = ack }
        actions.append(.sendStateless(ack, to: far.destination))
    }
}
