import Foundation
import Logging
import NIOCore
import PluginAPI
import Records
import Routing
import SIPCore

/// The confirmed call: the 2xx's reliability, requests inside either dialog, and how the call ends.
extension CallMachine {
    // MARK: 2xx reliability on the A leg (RFC 3261 section 13.3.1.4: the UAS core retransmits 2xx until ACK)

    mutating func start200Retransmission() {
        let retransmission = Retransmission(context.settings)
        retransmission200 = retransmission
        actions.append(.startTimer(.retransmit200, retransmission.interval))
    }

    mutating func retransmit200Fired() {
        guard var retransmission = retransmission200 else { return }
        retransmission200 = nil
        guard let ok = answer200, state == .confirmed else { return }
        guard let wait = retransmission.next(context.settings) else {
            answer200 = nil
            if !ackSentB { sendAckB() }
            logger.warning("no ACK from the caller", metadata: ["a": "\(a.callID)"])
            hangUpBoth(reason: "no ACK")
            return
        }
        actions.append(.sendStateless(ok, to: a.destination))
        retransmission200 = retransmission
        actions.append(.startTimer(.retransmit200, wait))
    }

    mutating func stop200Retransmission() {
        guard retransmission200 != nil else { return }
        retransmission200 = nil
        actions.append(.cancelTimer(.retransmit200))
    }

    /// `answer`: the caller's ACK, whose SDP (delayed offer) goes to the target through both adapters.
    mutating func sendAckB(answer: SIPMessage? = nil) {
        guard let bLeg = b, let cseq = inviteB?.cseq?.number else { return }
        var ack = bLeg.makeACK(cseq: cseq, via: context.via(for: bLeg.destination))
        // RFC 3261 section 22.1: the ACK for a 2xx carries the credentials the INVITE carried.
        ack.headers += (inviteB?.headers ?? []).filter {
            $0.hasName("authorization") || $0.hasName("proxy-authorization")
        }
        if let answer, !answer.body.isEmpty, let target = currentTarget {
            let content = Relay.forward(
                answer, from: sourcePeer, to: target.peer, site: site, localHost: context.localHost)
            ack.headers += content.headers.filter { $0.hasName("content-type") }
            ack.body = content.body
            sentSDP(ack.body, onA: false)
        }
        ackB = ack
        actions.append(.sendStateless(ack, to: bLeg.destination))
    }

    // MARK: Requests inside the dialogs

    /// A request inside the A dialog or the B dialog (the shard found this call by Call-ID).
    mutating func inDialogRequest(_ request: SIPMessage, fromA: Bool) {
        switch request.method {
        case "ACK":
            if let pending = reInvite, pending.fromA == fromA, request.cseq?.number == pending.request.cseq?.number {
                reInviteAcked(request)
            } else if fromA {
                answer200 = nil
                stop200Retransmission()
                if delayedOffer, !ackSentB { sendAckB(answer: request) }
            }
        case "BYE":
            actions.append(.respond(Relay.response(200, "OK", to: request, toTag: nil, contact: nil), to: request))
            guard state == .confirmed || state == .early else { return }
            record.endedBy = fromA ? "caller" : "callee"
            if fromA { hangUpB(reason: "caller hung up") } else { hangUpA() }
        case "CANCEL":
            cancelFromA(request)
        case "PRACK" where fromA:
            prackFromA(request)
        case "INFO" where dtmfToMedia(request, fromA: fromA):
            break
        case "REFER":
            // Transfer through a B2BUA needs Patchbay to act on the REFER (replace a leg), not pass it on: a REFER
            // relayed as is would point the far peer at the near peer's topology. Refused until it is built.
            var r = Relay.response(405, "Method Not Allowed", to: request, toTag: nil, contact: nil)
            r.headers.append(SIPHeader("Allow", Relay.allow))
            actions.append(.respond(r, to: request))
        default:
            relay(request, fromA: fromA)
        }
    }

    /// Patchbay is shutting down and the drain time is over.
    mutating func shutdown() {
        switch state {
        case .routing, .early:
            cancelled = true
            if bProvisional { sendCancelB() }
            finishFailed(503, "Service Unavailable")
        case .confirmed:
            hangUpBoth(reason: "shutdown")
        case .ending, .ended:
            break
        }
    }

    /// The caller sent its INVITE again after the final answer: repeat the 2xx (the transaction is gone).
    mutating func retransmittedInvite() {
        if let ok = answer200 { actions.append(.sendStateless(ok, to: a.destination)) }
    }

    /// A target whose INVITE timed out (Timer B, a peer's `invite_timeout`) answered after all. The call has moved
    /// on, but RFC 3261 section 13.2.2.4 has every 2xx ACKed; the dialog it created is then ended with a BYE, so
    /// the target does not hold a call nobody is on.
    mutating func hangUpAbandoned(_ response: SIPMessage, callID: String) {
        guard let attempt = record.attempts.last(where: { $0.bCallID.map { OctetText.equal($0, callID) } ?? false }),
            let destination = context.address(of: attempt.peer)
        else { return }
        if let ack = abandonedAcks[OctetKey(callID)] { return actions.append(.sendStateless(ack, to: destination)) }
        guard let from = response.from, let to = response.to, let cseq = response.cseq else { return }
        var leg = CallLeg(
            peer: attempt.peer, destination: destination, callID: callID, localTag: from.tag ?? "",
            remoteTag: to.tag, localURI: from, remoteURI: to,
            remoteTarget: response.nameAddresses("Contact").first?.uri ?? to.uri, localCSeq: cseq.number)
        leg.routeSet = response.values("Record-Route").reversed()
        let ack = leg.makeACK(cseq: cseq.number, via: context.via(for: destination))
        abandonedAcks[OctetKey(callID)] = ack
        actions.append(.sendStateless(ack, to: destination))
        let bye = leg.makeRequest(
            "BYE", via: context.via(for: destination), contact: context.contact(user: nil, for: destination))
        actions.append(.sendRequest(bye, to: destination, peer: attempt.peer, role: .oneShot))
        logger.info(
            "late answer from a target the call had given up on: hung up",
            metadata: [
                "a": "\(a.callID)", "b": "\(callID)", "peer": "\(attempt.peer)",
                "status": "\(response.statusCode ?? 0)",
            ])
    }

    mutating func cancelFromA(_ cancel: SIPMessage) {
        actions.append(.respond(Relay.response(200, "OK", to: cancel, toTag: a.localTag, contact: nil), to: cancel))
        guard state == .routing || state == .early else { return }
        cancelled = true
        record.endedBy = "caller (cancel)"
        if bProvisional { sendCancelB() }
        finishFailed(487, "Request Terminated")
    }

    mutating func sendCancelB() {
        // Several provisional responses may arrive after the caller cancelled; one CANCEL is enough.
        guard !cancelSent, let invite = inviteB, let bLeg = b else { return }
        cancelSent = true
        // RFC 3261 section 9.1: CANCEL copies the INVITE's Request-URI, top Via, Call-ID, From, To and CSeq number.
        var headers = invite.headers.filter { ["via", "route", "from", "call-id"].contains($0.canonicalName) }
        headers.append(SIPHeader("To", invite.header("To") ?? ""))
        headers.append(SIPHeader("CSeq", "\(invite.cseq?.number ?? 1) CANCEL"))
        headers.append(SIPHeader("Max-Forwards", "70"))
        let cancel = SIPMessage(
            startLine: .request(method: "CANCEL", uri: invite.requestURI?.description ?? "", version: "SIP/2.0"),
            headers: headers)
        actions.append(.sendRequest(cancel, to: bLeg.destination, peer: nil, role: .oneShot))
    }

    mutating func relay(_ request: SIPMessage, fromA: Bool) {
        // Inside the confirmed dialog anything is relayed; inside the early one (after a 1xx with a To tag) what
        // RFC 3311 and 6086 allow there: UPDATE, INFO, PRACK. A re-INVITE needs the confirmed dialog (14.1).
        let early =
            state == .early && request.method != "INVITE" && (fromA ? b?.remoteTag != nil : true)
        if early, fromA { enterEarlyDialogB() }
        guard state == .confirmed || early, var other = fromA ? b : a, let target = currentTarget else {
            actions.append(
                .respond(
                    Relay.response(481, "Call/Transaction Does Not Exist", to: request, toTag: nil, contact: nil),
                    to: request))
            return
        }
        if request.method == "INVITE", let refusal = reInviteRefusal(fromA: fromA) {
            return actions.append(.respond(refusal(request), to: request))
        }
        let (fromPeer, toPeer) = fromA ? (sourcePeer, target.peer) : (target.peer, sourcePeer)
        var out = other.makeRequest(
            request.method, via: context.via(for: other.destination),
            contact: context.contact(user: nil, for: other.destination))
        let content = Relay.forward(request, from: fromPeer, to: toPeer, site: site, localHost: context.localHost)
        out.headers += content.headers
        out.body = content.body
        if request.method == "INVITE" || request.method == "UPDATE" {
            out.headers += sessionHeaders(legA: !fromA, asUAC: true)
            sentSDP(out.body, onA: !fromA)
        }
        if fromA { b = other } else { a = other }
        if request.method == "INVITE" {
            reInvite = MidCallInvite(fromA: fromA, request: request, hasOffer: !request.body.isEmpty)
        }
        actions.append(
            .sendRequest(out, to: other.destination, peer: other.peer, role: .relay(original: request, fromA: fromA)))
    }

    /// What a relayed request got back from the far leg, answered to the peer that sent it.
    mutating func relayOutcome(_ event: ClientEvent, original: SIPMessage, fromA: Bool) {
        guard let target = currentTarget else { return }
        let (fromPeer, toPeer) = fromA ? (sourcePeer, target.peer) : (target.peer, sourcePeer)
        let near = (fromA ? a : b)?.destination
        if original.method == "INVITE", case .response(let r) = event, let status = r.statusCode, status < 200 {
            return
        }
        if original.method == "INVITE", case .response(let r) = event, let status = r.statusCode, status < 300 {
            return reInviteAnswered(r, fromPeer: fromPeer, toPeer: toPeer, near: near)
        }
        if original.method == "INVITE" { reInvite = nil }
        switch event {
        case .response(let r):
            guard let status = r.statusCode, status >= 200 else { return }
            let content = Relay.forward(r, from: toPeer, to: fromPeer, site: site, localHost: context.localHost)
            var response = Relay.response(
                status, Relay.reasonPhrase(of: r), to: original, toTag: nil,
                contact: context.contact(user: nil, for: near),
                content: content)
            if original.method == "UPDATE", status < 300 {
                // An UPDATE's 2xx refreshes both legs' sessions (RFC 4028 section 10).
                response.headers += sessionHeaders(legA: fromA, asUAC: false)
                sentSDP(response.body, onA: fromA)
                if state == .confirmed { sessionsRefreshed() }
            }
            actions.append(.respond(response, to: original))
        case .timeout:
            actions.append(
                .respond(Relay.response(408, "Request Timeout", to: original, toTag: nil, contact: nil), to: original))
        case .transportError:
            actions.append(
                .respond(
                    Relay.response(503, "Service Unavailable", to: original, toTag: nil, contact: nil), to: original))
        }
    }

    // MARK: Teardown

    mutating func hangUpB(reason: String) {
        guard var bLeg = b else { return end(by: reason) }
        state = .ending
        let bye = bLeg.makeRequest(
            "BYE", via: context.via(for: bLeg.destination), contact: context.contact(user: nil, for: bLeg.destination))
        b = bLeg
        actions.append(.sendRequest(bye, to: bLeg.destination, peer: bLeg.peer, role: .byeEnding(reason: reason)))
    }

    mutating func hangUpA() {
        state = .ending
        stop200Retransmission()
        let bye = a.makeRequest(
            "BYE", via: context.via(for: a.destination), contact: context.contact(user: nil, for: a.destination))
        actions.append(.sendRequest(bye, to: a.destination, peer: a.peer, role: .byeEnding(reason: "callee hung up")))
    }

    mutating func hangUpBoth(reason: String) {
        hangUpA()
        if var leg = b {
            let bye = leg.makeRequest(
                "BYE", via: context.via(for: leg.destination), contact: context.contact(user: nil, for: leg.destination)
            )
            b = leg
            actions.append(.sendRequest(bye, to: leg.destination, peer: leg.peer, role: .oneShot))
        }
        record.endedBy = reason
    }

    mutating func end(by reason: String) {
        guard state != .ended else { return }
        cancelRingTimer()
        stopReliableProvisionals()
        state = .ended
        stop200Retransmission()
        if record.endedBy == nil { record.endedBy = reason }
        // A target still being tried when the call ends (the caller cancelled) has no answer of its own.
        if attemptOpen { closeAttempt(cancelled ? 487 : 0) }
        releaseMedia()
        releaseOutbound()
        record.endTime = context.now
        // Built only at `info`, so at the usual `warning` level a call costs no formatting; and outside any closure,
        // which would capture (copy) the whole machine.
        if logger.logLevel <= .info {
            var meta = setupMetadata()
            meta["duration_s"] = "\(String(format: "%.1f", record.durationSeconds ?? 0))"
            meta["ended_by"] = "\(record.endedBy ?? reason)"
            logger.info(record.answered ? "call ended" : "call failed", metadata: meta)
        }
        actions.append(.ended)
    }

    func setupMetadata() -> Logger.Metadata {
        [
            "a": "\(record.aCallID)", "b": "\(record.bCallID ?? "-")", "from": "\(record.source)",
            "route": "\(record.route ?? "-")", "target": "\(record.target ?? "-")", "result": "\(record.result ?? 0)",
            "tried":
                "\(record.attempts.map { "\($0.peer):\($0.status == 0 ? ($0.bCallID == nil ? "down" : "-") : String($0.status))" }.joined(separator: ","))",
        ]
    }
}
