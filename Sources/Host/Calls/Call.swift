import Foundation
import Logging
import NIOCore
import PluginAPI
import Records
import Routing
import SIPCore

/// A signalling B2BUA call: the A leg (caller -> Patchbay) and the B leg (Patchbay -> the target that answered,
/// or the one being tried). Owned by one shard and touched only on its event loop, so it needs no locks.
///
/// ```
///  caller (A)            Patchbay                 target (B)
///     | INVITE ----------> | 100 Trying             |
///     |                    | INVITE (translated) -> |
///     | <---- 180/183 ---- | <-------------- 180/183|
///     | <------- 200 ----- | <------------------ 200|
///     |                    | ACK ------------------>|
///     | ACK -------------> |                        |
///     | BYE -------------> | BYE ------------------>|
///     | <------- 200 ----- | <------------------ 200|
/// ```
package final class Call {
    package enum State { case routing, early, confirmed, ending, ended }

    /// The shard that owns the call (`CallHost`).
    package unowned let shard: any CallHost
    package let site: Site
    package let inviteA: SIPMessage
    package let sourcePeer: String
    let sourceAdapter: any PeerAdapter
    package var state: State = .routing
    package var a: CallLeg
    package var b: CallLeg?
    /// The targets still to try, in order; each one's request is made when it is tried.
    package var pending: [String]
    package var currentTarget: RequestProcessor.Leg?
    package var inviteB: SIPMessage?
    var bProvisional = false
    var cancelled = false
    private var cancelSent = false
    package var ringTimeout: TimeAmount?
    /// The INVITE in the house format, kept to route a redirect's new number.
    package var house: SIPMessage? {
        didSet {
            record.calledHouse = house?.requestURIUser.map(String.init)
            record.callerHouse = house?.fromUser.map(String.init)
        }
    }
    /// `house`'s SDP as parsed on arrival, for the targets still to try; dropped with the last one, so an
    /// established call does not hold it (a redirect after that parses the body again).
    package var houseSDP: ParsedSDP?
    private var redirectsFollowed = 0
    private var ringTimer: TimerQueue.Handle?
    /// The target rang too long and was cancelled by Patchbay: its 487 means "try the next one".
    private var ringExpired = false
    var lastFailure: (Int, String)? {
        didSet { lastFailureWarning = nil }
    }
    /// A `Warning` for the caller when the last failure was Patchbay's own refusal (`MediaRefusal`).
    private var lastFailureWarning: String?
    var answer200: SIPMessage?
    /// Delayed offer (RFC 3261 section 13.2.1): the INVITE had no SDP, the 2xx carries the offer and the caller's
    /// ACK the answer, so the B leg's ACK must wait for the caller's and carry its SDP.
    private var delayedOffer = false
    private var ackSentB: Bool { ackB != nil }
    /// Kept to answer the callee's 2xx retransmissions with the same ACK (with the SDP answer, if any).
    private var ackB: SIPMessage?
    /// The ACK sent for each late 2xx from a target the call had given up on (by B-leg Call-ID), so that the
    /// target's retransmissions of it get the ACK again and not another BYE.
    private var abandonedAcks: [OctetKey: SIPMessage] = [:]
    var retransmit200: TimerQueue.Handle?
    var retransmitInterval: TimeAmount = .milliseconds(500)
    var retransmitDeadline: NIODeadline = .now()
    package var record: CallRecord
    /// The last entry of `record.attempts` is the target being tried and has no answer yet.
    private var attemptOpen = false

    package init(
        shard: any CallHost, site: Site, invite: SIPMessage, source: String, from address: SIPDestination,
        route: String,
        targets: [String]
    ) {
        self.shard = shard
        self.site = site
        self.inviteA = invite
        self.sourcePeer = source
        self.sourceAdapter = site.adapters[source]!
        self.pending = targets
        let from = invite.from ?? NameAddress(uri: SIPURI(host: "invalid"))
        let to = invite.to ?? NameAddress(uri: SIPURI(host: "invalid"))
        let target = invite.nameAddresses("Contact").first?.uri ?? from.uri
        a = CallLeg(
            peer: source, destination: address, callID: invite.callID ?? "", localTag: shard.newTag(),
            remoteTag: from.tag, localURI: to, remoteURI: from, remoteTarget: target,
            routeSet: invite.values("Record-Route"), localCSeq: 0, remoteCSeq: invite.cseq?.number ?? 0)
        a.localURI.tag = nil
        a.remoteURI.tag = nil
        record = CallRecord(invite: invite, source: source, route: route)
    }

    package var logger: Logger { shard.logger }

    // MARK: Setup

    /// Sends the INVITE to the next target, or answers the caller with the last failure when none is left.
    package func tryNextTarget() {
        guard !cancelled else { return finishFailed(487, "Request Terminated") }
        guard !pending.isEmpty else {
            let (status, reason) = lastFailure ?? (404, "Not Found")
            let warning = lastFailureWarning.map {
                SIPMessage(startLine: inviteA.startLine, headers: [SIPHeader("Warning", $0)])
            }
            return finishFailed(status, reason, content: warning)
        }
        let name = pending.removeFirst()
        let parsed = houseSDP
        if pending.isEmpty { houseSDP = nil }
        guard let house,
            let leg = RequestProcessor(site: site).leg(for: name, house: house, parsed: parsed)
        else {
            lastFailure = (503, "Service Unavailable")
            record.attempts.append(.init(peer: name, status: 503))
            return tryNextTarget()
        }
        if shard.downPeers.contains(leg.peer) || shard.drainedPeers.contains(leg.peer) {
            record.attempts.append(
                .init(peer: leg.peer, status: 0, calledNumber: leg.calledNumber, callerNumber: leg.callerNumber))
            if lastFailure == nil { lastFailure = (503, "Service Unavailable") }
            return tryNextTarget()
        }
        if let refusal = leg.mediaRefusal {
            logger.info(
                "target not tried", metadata: ["a": "\(a.callID)", "peer": "\(leg.peer)", "reason": "\(refusal)"])
            record.attempts.append(
                .init(
                    peer: leg.peer, status: 488, calledNumber: leg.calledNumber, callerNumber: leg.callerNumber,
                    note: "\(refusal)"))
            lastFailure = (488, "Not Acceptable Here")
            lastFailureWarning = refusal.warning(host: shard.localHost)
            return tryNextTarget()
        }
        guard let destination = shard.address(of: leg.peer) else {
            lastFailure = (503, "Service Unavailable")
            record.attempts.append(
                .init(peer: leg.peer, status: 503, calledNumber: leg.calledNumber, callerNumber: leg.callerNumber))
            return tryNextTarget()
        }
        currentTarget = leg
        bProvisional = false
        cancelSent = false
        ringExpired = false
        let callID = shard.newCallID()
        let localTag = shard.newTag()
        let out = OutboundInvite(
            leg: leg, callerInvite: inviteA, local: shard.local, transport: destination.transport, callID: callID,
            localTag: localTag, branch: shard.newBranch(), external: site.egress[leg.peer]?.external == true)
        let bLeg = CallLeg(
            peer: leg.peer, destination: destination, callID: callID, localTag: localTag,
            remoteTag: nil,
            localURI: out.from, remoteURI: out.to, remoteTarget: out.requestURI, localCSeq: 1)
        let invite = out.message
        b = bLeg
        inviteB = invite
        record.attempts.append(
            .init(
                peer: leg.peer, status: 0, bCallID: callID, calledNumber: leg.calledNumber,
                callerNumber: leg.callerNumber))
        attemptOpen = true
        shard.track(self, callID: callID)
        // Held strongly: a call whose caller gave up must still ACK and hang up a late answer from the target.
        shard.sendRequest(
            invite, to: destination, peer: leg.peer,
            resent: { again in
                // Answering a challenge: the new INVITE is the one a CANCEL and the ACK must match.
                self.inviteB = again
                self.b?.localCSeq = again.cseq?.number ?? bLeg.localCSeq
            },
            handler: { event in self.inviteEvent(event) })
    }

    private func inviteEvent(_ event: ClientEvent) {
        switch event {
        case .response(let r): bResponse(r)
        case .timeout, .transportError:
            let timedOut = if case .timeout = event { true } else { false }
            let (status, reason) = timedOut ? (408, "Request Timeout") : (503, "Service Unavailable")
            closeAttempt(status)
            lastFailure = (status, reason)
            if state == .routing || state == .early {
                // RFC 3261 Timer B: nothing came back, so the next target gets the call.
                state = .routing
                tryNextTarget()
            }
        }
    }

    private func bResponse(_ r: SIPMessage) {
        guard let status = r.statusCode, var bLeg = b, let target = currentTarget else { return }
        guard let targetAdapter = site.adapters[target.peer] else { return }
        if status == 100 { return }
        if status < 200 {
            if !bProvisional, let ringTimeout { startRingTimer(ringTimeout) }
            bProvisional = true
            if cancelled || ringExpired { return sendCancelB() }
            if let tag = r.toTag {
                bLeg.remoteTag = tag
                b = bLeg
            }
            state = .early
            let content = relay(r, from: target.peer, to: sourcePeer)
            shard.respond(
                Relay.response(
                    status, reasonOf(r), to: inviteA, toTag: a.localTag,
                    contact: shard.contact(user: nil, for: a.destination), content: content), to: inviteA)
            return
        }
        if let t = ringTimer { shard.timers.cancel(t) }
        if status < 300 {
            bLeg.remoteTag = r.toTag
            if let contact = r.nameAddresses("Contact").first?.uri { bLeg.remoteTarget = contact }
            bLeg.routeSet = r.values("Record-Route").reversed()
            b = bLeg
            // With an offer in the INVITE, ACK the B leg at once: the answer is final for Patchbay, and waiting for
            // the caller's ACK would only make the callee retransmit. With a delayed offer the caller's ACK
            // carries the answer, so the B leg's ACK waits for it.
            delayedOffer = inviteB?.body.isEmpty ?? false
            if cancelled || !delayedOffer { sendAckB() }
            if cancelled { return hangUpB(reason: "cancelled while answered") }
            record.target = target.peer
            closeAttempt(status)
            record.result = status
            record.answerTime = Date()
            state = .confirmed
            let content = relay(r, from: target.peer, to: sourcePeer)
            let ok = Relay.response(
                status, reasonOf(r), to: inviteA, toTag: a.localTag,
                contact: shard.contact(user: nil, for: a.destination),
                content: content)
            answer200 = ok
            shard.respond(ok, to: inviteA)
            start200Retransmission()
            logger.info("call setup", metadata: setupMetadata())
            return
        }
        if ringExpired, !cancelled {
            // Our own CANCEL after the ring timeout: the target did not answer, the next one gets the call.
            closeAttempt(480)
            lastFailure = (480, "Temporarily Unavailable")
            state = .routing
            return tryNextTarget()
        }
        closeAttempt(status)
        if site.failoverCodes.contains(status), !cancelled {
            lastFailure = (status, reasonOf(r))
            state = .routing
            return tryNextTarget()
        }
        if (300..<400).contains(status), site.configuration.redirects == .follow, redirectsFollowed < 3,
            !cancelled, follow(r, from: targetAdapter)
        {
            return
        }
        // A final answer from the target that is not a reason to try elsewhere (busy, rejected) goes back. A 3xx is
        // passed back with its Contact (the redirect target), translated like any other number.
        var content = relay(r, from: target.peer, to: sourcePeer)
        if (300..<400).contains(status) {
            var contacts = r.nameAddresses("Contact")
            for i in contacts.indices {
                guard let user = contacts[i].uri.user, NumberTranslation.looksLikeNumber(user) else { continue }
                let house = targetAdapter.numberFromPeer(user, role: .called)
                contacts[i].uri.user = sourceAdapter.numberToPeer(house, role: .called)
            }
            content.setNameAddresses("Contact", contacts)
        }
        finishFailed(status, reasonOf(r), content: content)
    }

    /// Routes the number in a 3xx's Contact as if the caller had dialled it. Returns false when there is nothing
    /// to follow (no Contact with a number), so the 3xx goes back to the caller instead.
    private func follow(_ redirect: SIPMessage, from targetAdapter: any PeerAdapter) -> Bool {
        guard var house,
            let user = redirect.nameAddresses("Contact").compactMap({ $0.uri.user }).first(
                where: NumberTranslation.looksLikeNumber)
        else { return false }
        let number = targetAdapter.numberFromPeer(user, role: .called).digits
        guard var ruri = house.requestURI else { return false }
        ruri.user = number
        house.requestURI = ruri
        if var to = house.to {
            to.uri.user = number
            house.to = to
        }
        redirectsFollowed += 1
        let result = RequestProcessor(site: site).route(
            house, from: sourcePeer, seed: StableHash.fnv1a(a.callID))
        logger.info(
            "following redirect", metadata: ["a": "\(a.callID)", "to": "\(number)", "outcome": "\(result.outcome)"])
        switch result.outcome {
        case .forwarded:
            self.house = house
            pending = result.targets
            state = .routing
            tryNextTarget()
        case .rejected(_, let status, let reason):
            finishFailed(status, reason)
        }
        return true
    }

    /// The target being tried gave its final answer (or none).
    private func closeAttempt(_ status: Int) {
        guard attemptOpen, !record.attempts.isEmpty else { return }
        record.attempts[record.attempts.count - 1].status = status
        attemptOpen = false
        shard.attemptEnded(peer: record.attempts[record.attempts.count - 1].peer, status: status)
    }

    private func startRingTimer(_ after: TimeAmount) {
        ringTimer = shard.timers.schedule(in: after) { [weak self] in
            guard let self, self.state == .early || self.state == .routing, !self.cancelled else { return }
            self.ringExpired = true
            self.sendCancelB()
        }
    }

    private func reasonOf(_ r: SIPMessage) -> String { Relay.reasonPhrase(of: r) }

    private func finishFailed(_ status: Int, _ reason: String, content: SIPMessage? = nil) {
        guard state != .ended else { return }
        // A target's challenge that Patchbay could not answer is not the caller's to answer (it never saw it, and
        // the challenge headers stay on the B leg): the caller learns the call was refused.
        let (status, reason) = status == 401 || status == 407 ? (403, "Forbidden") : (status, reason)
        var content = content
        content?.body = []
        content?.removeHeader("Content-Type")
        shard.respond(
            Relay.response(status, reason, to: inviteA, toTag: a.localTag, contact: nil, content: content), to: inviteA)
        record.result = status
        end(by: "setup")
    }

    // MARK: 2xx reliability on the A leg (RFC 3261 section 13.3.1.4: the UAS core retransmits 2xx until ACK)

    private func start200Retransmission() {
        retransmitInterval = shard.settings.t1
        retransmitDeadline = .now() + shard.settings.t1 * 64
        schedule200()
    }

    private func schedule200() {
        retransmit200 = shard.timers.schedule(in: retransmitInterval) { [weak self] in
            guard let self, let ok = self.answer200, self.state == .confirmed else { return }
            if NIODeadline.now() >= self.retransmitDeadline {
                self.answer200 = nil
                if !self.ackSentB { self.sendAckB() }
                self.logger.warning("no ACK from the caller", metadata: ["a": "\(self.a.callID)"])
                self.hangUpBoth(reason: "no ACK")
                return
            }
            self.shard.sendStateless(ok, to: self.a.destination)
            self.retransmitInterval = min(self.retransmitInterval * 2, self.shard.settings.t2)
            self.schedule200()
        }
    }

    /// `answer`: the caller's ACK, whose SDP (delayed offer) goes to the target through both adapters.
    private func sendAckB(answer: SIPMessage? = nil) {
        guard let bLeg = b, let cseq = inviteB?.cseq?.number else { return }
        var ack = bLeg.makeACK(cseq: cseq, via: shard.via(for: bLeg.destination))
        // RFC 3261 section 22.1: the ACK for a 2xx carries the credentials the INVITE carried.
        ack.headers += (inviteB?.headers ?? []).filter {
            $0.hasName("authorization") || $0.hasName("proxy-authorization")
        }
        if let answer, !answer.body.isEmpty, let target = currentTarget {
            let content = relay(answer, from: sourcePeer, to: target.peer)
            ack.headers += content.headers.filter { $0.hasName("content-type") }
            ack.body = content.body
        }
        ackB = ack
        shard.sendStateless(ack, to: bLeg.destination)
    }

    // MARK: Events from the shard

    /// A request inside the A dialog or the B dialog (the shard found this call by Call-ID).
    package func inDialogRequest(_ request: SIPMessage, fromA: Bool) {
        switch request.method {
        case "ACK":
            if fromA {
                answer200 = nil
                if let t = retransmit200 { shard.timers.cancel(t) }
                if delayedOffer, !ackSentB { sendAckB(answer: request) }
            }
        case "BYE":
            shard.respond(Relay.response(200, "OK", to: request, toTag: nil, contact: nil), to: request)
            guard state == .confirmed || state == .early else { return }
            record.endedBy = fromA ? "caller" : "callee"
            if fromA { hangUpB(reason: "caller hung up") } else { hangUpA() }
        case "CANCEL":
            cancelFromA(request)
        case "REFER":
            // Transfer through a B2BUA needs Patchbay to act on the REFER (replace a leg), not pass it on: a REFER
            // relayed as is would point the far peer at the near peer's topology. Refused until it is built.
            var r = Relay.response(405, "Method Not Allowed", to: request, toTag: nil, contact: nil)
            r.headers.append(SIPHeader("Allow", Relay.allow))
            shard.respond(r, to: request)
        default:
            relay(request, fromA: fromA)
        }
    }

    /// Patchbay is shutting down and the drain time is over.
    package func shutdown() {
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
    package func retransmittedInvite() {
        if let ok = answer200 { shard.sendStateless(ok, to: a.destination) }
    }

    /// A 2xx after its INVITE transaction ended: from the answering target, a retransmission whose ACK was lost
    /// (send it again); from a target the call gave up on, a late answer (ACK it and hang up).
    /// Returns false for any other response, which nothing here can use.
    @discardableResult
    package func strayResponse(_ response: SIPMessage) -> Bool {
        guard let status = response.statusCode, (200..<300).contains(status), response.method == "INVITE",
            let callID = response.callID
        else { return false }
        if b.map({ !OctetText.equal(callID, $0.callID) }) ?? true {
            hangUpAbandoned(response, callID: callID)
            return true
        }
        // Before the caller's ACK (delayed offer) there is nothing to send yet: the callee keeps retransmitting
        // and gets the ACK with the answer when it comes.
        if state == .confirmed, let ack = ackB, let bLeg = b {
            shard.sendStateless(ack, to: bLeg.destination)
        }
        return true
    }

    /// A target whose INVITE timed out (Timer B, a peer's `invite_timeout`) answered after all. The call has moved
    /// on, but RFC 3261 section 13.2.2.4 has every 2xx ACKed; the dialog it created is then ended with a BYE, so
    /// the target does not hold a call nobody is on.
    private func hangUpAbandoned(_ response: SIPMessage, callID: String) {
        guard let attempt = record.attempts.last(where: { $0.bCallID.map { OctetText.equal($0, callID) } ?? false }),
            let destination = shard.address(of: attempt.peer)
        else { return }
        if let ack = abandonedAcks[OctetKey(callID)] { return shard.sendStateless(ack, to: destination) }
        guard let from = response.from, let to = response.to, let cseq = response.cseq else { return }
        var leg = CallLeg(
            peer: attempt.peer, destination: destination, callID: callID, localTag: from.tag ?? "",
            remoteTag: to.tag, localURI: from, remoteURI: to,
            remoteTarget: response.nameAddresses("Contact").first?.uri ?? to.uri, localCSeq: cseq.number)
        leg.routeSet = response.values("Record-Route").reversed()
        let ack = leg.makeACK(cseq: cseq.number, via: shard.via(for: destination))
        abandonedAcks[OctetKey(callID)] = ack
        shard.sendStateless(ack, to: destination)
        let bye = leg.makeRequest(
            "BYE", via: shard.via(for: destination), contact: shard.contact(user: nil, for: destination))
        shard.sendRequest(bye, to: destination, peer: attempt.peer) { _ in }
        logger.info(
            "late answer from a target the call had given up on: hung up",
            metadata: [
                "a": "\(a.callID)", "b": "\(callID)", "peer": "\(attempt.peer)",
                "status": "\(response.statusCode ?? 0)",
            ])
    }

    private func cancelFromA(_ cancel: SIPMessage) {
        shard.respond(Relay.response(200, "OK", to: cancel, toTag: a.localTag, contact: nil), to: cancel)
        guard state == .routing || state == .early else { return }
        cancelled = true
        record.endedBy = "caller (cancel)"
        if bProvisional { sendCancelB() }
        finishFailed(487, "Request Terminated")
    }

    private func sendCancelB() {
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
        shard.sendRequest(cancel, to: bLeg.destination) { _ in }
    }

    private func relay(_ request: SIPMessage, fromA: Bool) {
        guard state == .confirmed, var other = fromA ? b : a, let target = currentTarget else {
            shard.respond(
                Relay.response(481, "Call/Transaction Does Not Exist", to: request, toTag: nil, contact: nil),
                to: request)
            return
        }
        let (fromPeer, toPeer) = fromA ? (sourcePeer, target.peer) : (target.peer, sourcePeer)
        var out = other.makeRequest(
            request.method, via: shard.via(for: other.destination),
            contact: shard.contact(user: nil, for: other.destination))
        let near = (fromA ? a : b)?.destination
        let content = relay(request, from: fromPeer, to: toPeer)
        out.headers += content.headers
        out.body = content.body
        if fromA { b = other } else { a = other }
        let original = request
        let peer = other.peer
        shard.sendRequest(
            out, to: other.destination, peer: peer,
            resent: { [weak self] again in
                guard let self, let n = again.cseq?.number else { return }
                if fromA { self.b?.localCSeq = n } else { self.a.localCSeq = n }
            },
            handler: { [weak self] event in
                guard let self else { return }
                switch event {
                case .response(let r):
                    guard let status = r.statusCode, status >= 200 else { return }
                    let content = self.relay(r, from: toPeer, to: fromPeer)
                    self.shard.respond(
                        Relay.response(
                            status, self.reasonOf(r), to: original, toTag: nil,
                            contact: self.shard.contact(user: nil, for: near), content: content),
                        to: original)
                    if original.method == "INVITE", status < 300 {
                        // A re-INVITE's 2xx needs an ACK on the far leg; the near leg's ACK comes from its peer.
                        self.ackReInvite(r, on: fromA)
                    }
                case .timeout:
                    self.shard.respond(
                        Relay.response(408, "Request Timeout", to: original, toTag: nil, contact: nil), to: original)
                case .transportError:
                    self.shard.respond(
                        Relay.response(503, "Service Unavailable", to: original, toTag: nil, contact: nil), to: original
                    )
                }
            })
    }

    /// What `message` from the peer `from` carries to the peer `to`: its relayable content through both adapters,
    /// the receiving peer's header policy, and for an external peer no internal host in any identity or
    /// redirection URI. Every message relayed between the legs goes through here.
    func relay(_ message: SIPMessage, from: String, to: String) -> SIPMessage {
        Relay.forward(message, from: from, to: to, site: site, localHost: shard.localHost)
    }

    private func ackReInvite(_ response: SIPMessage, on fromA: Bool) {
        guard let leg = fromA ? b : a, let cseq = response.cseq?.number else { return }
        shard.sendStateless(leg.makeACK(cseq: cseq, via: shard.via(for: leg.destination)), to: leg.destination)
    }

    // MARK: Teardown

    private func hangUpB(reason: String) {
        guard var bLeg = b else { return end(by: reason) }
        state = .ending
        let bye = bLeg.makeRequest(
            "BYE", via: shard.via(for: bLeg.destination), contact: shard.contact(user: nil, for: bLeg.destination))
        b = bLeg
        shard.sendRequest(bye, to: bLeg.destination, peer: bLeg.peer) { [weak self] _ in self?.end(by: reason) }
    }

    private func hangUpA() {
        state = .ending
        if let t = retransmit200 { shard.timers.cancel(t) }
        let bye = a.makeRequest(
            "BYE", via: shard.via(for: a.destination), contact: shard.contact(user: nil, for: a.destination))
        shard.sendRequest(bye, to: a.destination, peer: a.peer) { [weak self] _ in self?.end(by: "callee hung up") }
    }

    private func hangUpBoth(reason: String) {
        hangUpA()
        if let bLeg = b {
            var leg = bLeg
            let bye = leg.makeRequest(
                "BYE", via: shard.via(for: leg.destination), contact: shard.contact(user: nil, for: leg.destination))
            b = leg
            shard.sendRequest(bye, to: leg.destination, peer: leg.peer) { _ in }
        }
        record.endedBy = reason
    }

    private func end(by reason: String) {
        guard state != .ended else { return }
        if let t = ringTimer { shard.timers.cancel(t) }
        state = .ended
        if let t = retransmit200 { shard.timers.cancel(t) }
        if record.endedBy == nil { record.endedBy = reason }
        // A target still being tried when the call ends (the caller cancelled) has no answer of its own.
        if attemptOpen { closeAttempt(cancelled ? 487 : 0) }
        record.endTime = Date()
        shard.remove(self)
        // The metadata is built inside the autoclosure, so at the usual `warning` level a call costs no formatting.
        logger.info(
            record.answered ? "call ended" : "call failed",
            metadata: {
                var meta = setupMetadata()
                meta["duration_s"] = "\(String(format: "%.1f", record.durationSeconds ?? 0))"
                meta["ended_by"] = "\(record.endedBy ?? reason)"
                return meta
            }())
        shard.submit(record)
    }

    private func setupMetadata() -> Logger.Metadata {
        [
            "a": "\(record.aCallID)", "b": "\(record.bCallID ?? "-")", "from": "\(record.source)",
            "route": "\(record.route ?? "-")", "target": "\(record.target ?? "-")", "result": "\(record.result ?? 0)",
            "tried":
                "\(record.attempts.map { "\($0.peer):\($0.status == 0 ? ($0.bCallID == nil ? "down" : "-") : String($0.status))" }.joined(separator: ","))",
        ]
    }
}
