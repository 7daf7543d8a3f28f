import Foundation
import Logging
import NIOCore
import PluginAPI
import Records
import Routing
import SIPCore

/// Setup: trying the targets in order, their answers, failover, redirects and the ring timeout.
extension CallMachine {
    /// Sends the INVITE to the next target, or answers the caller with the last failure when none is left.
    mutating func tryNextTarget() {
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
        if let house, anchors(target: name), !context.downPeers.contains(name), !context.drainedPeers.contains(name) {
            return offerToTarget(name, house: house, parsed: parsed)
        }
        sendToTarget(name, house: house, parsed: parsed, callID: context.newCallID())
    }

    /// The INVITE to `name` with `house`'s content (for an anchored attempt, its SDP is rtpengine's), on a B leg
    /// with `callID`.
    mutating func sendToTarget(_ name: String, house: SIPMessage?, parsed: ParsedSDP?, callID: String) {
        let retrying = nextAddress
        nextAddress = false
        guard let house,
            let leg = RequestProcessor(site: site).leg(for: name, house: house, parsed: parsed)
        else {
            lastFailure = (503, "Service Unavailable")
            record.attempts.append(.init(peer: name, status: 503))
            releaseMedia()
            return tryNextTarget()
        }
        if context.downPeers.contains(leg.peer) || context.drainedPeers.contains(leg.peer) {
            record.attempts.append(
                .init(peer: leg.peer, status: 0, calledNumber: leg.calledNumber, callerNumber: leg.callerNumber))
            if lastFailure == nil { lastFailure = (503, "Service Unavailable") }
            releaseMedia()
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
            lastFailureWarning = refusal.warning(host: context.localHost)
            releaseMedia()
            return tryNextTarget()
        }
        if !retrying { alternates = context.destinations(of: leg.peer) }
        guard !alternates.isEmpty else {
            lastFailure = (503, "Service Unavailable")
            record.attempts.append(
                .init(
                    peer: leg.peer, status: 503, calledNumber: leg.calledNumber, callerNumber: leg.callerNumber,
                    note: "no address (its name does not resolve)"))
            releaseMedia()
            return tryNextTarget()
        }
        let destination = alternates.removeFirst()
        let limits = site.callSettings[leg.peer]?.limits
        if let limits, limits.maxCalls != nil || limits.maxCallsPerSecond != nil, !emergency {
            guard context.admitOutbound(to: leg.peer, limits: limits) else {
                record.attempts.append(
                    .init(
                        peer: leg.peer, status: 503, calledNumber: leg.calledNumber, callerNumber: leg.callerNumber,
                        note: "at its limits"))
                lastFailure = (503, "Service Unavailable")
                releaseMedia()
                return tryNextTarget()
            }
            if limits.maxCalls != nil { outboundCounted = leg.peer }
        }
        currentTarget = leg
        targetSettings = site.callSettings[leg.peer]
        retried422 = false
        bProvisional = false
        cancelSent = false
        ringExpired = false
        let localTag = context.newTag()
        let out = OutboundInvite(
            leg: leg, callerInvite: inviteA, local: context.local(for: destination), transport: destination.transport,
            callID: callID,
            localTag: localTag, branch: context.newBranch(), external: site.egress[leg.peer]?.external == true,
            prack: targetSettings?.prack ?? .supported, sessionTimer: targetSettings?.sessionTimer)
        b = CallLeg(
            peer: leg.peer, destination: destination, callID: callID, localTag: localTag, remoteTag: nil,
            localURI: out.from, remoteURI: out.to, remoteTarget: out.requestURI, localCSeq: 1)
        inviteB = out.message
        lastSDPB = nil
        sentSDP(out.message.body, onA: false)
        record.attempts.append(
            .init(
                peer: leg.peer, status: 0, bCallID: callID, calledNumber: leg.calledNumber,
                callerNumber: leg.callerNumber))
        attemptOpen = true
        actions.append(.track(callID: callID))
        actions.append(.sendRequest(out.message, to: destination, peer: leg.peer, role: .invite))
    }

    mutating func inviteEvent(_ event: ClientEvent) {
        switch event {
        case .response(let r): bResponse(r)
        case .timeout, .transportError:
            let timedOut = if case .timeout = event { true } else { false }
            let (status, reason) = timedOut ? (408, "Request Timeout") : (503, "Service Unavailable")
            closeAttempt(status)
            lastFailure = (status, reason)
            if state == .routing || state == .early {
                // RFC 3261 Timer B: nothing came back, so the next address or target gets the call.
                state = .routing
                if !tryNextAddress() { tryNextTarget() }
            }
        }
    }

    mutating func bResponse(_ response: SIPMessage) {
        guard var status = response.statusCode, var bLeg = b, let target = currentTarget else { return }
        var r = response
        // The target's final answer as its peer's `responses:` says: routing and the caller see the mapped one.
        if status >= 300, let mapping = targetSettings?.responses[status] {
            r = mapping.apply(to: r, standardPhrase: Relay.reasonPhrase)
            status = mapping.status
        }
        guard let targetAdapter = site.adapters[target.peer] else { return }
        if status == 100 { return }
        if status < 200 {
            if !bProvisional, let ringTimeout {
                ringTimerRunning = true
                actions.append(.startTimer(.ring, ringTimeout))
            }
            bProvisional = true
            if cancelled || ringExpired { return sendCancelB() }
            if let tag = r.toTag {
                bLeg.remoteTag = tag
                b = bLeg
                // Its Contact and Record-Route make the early dialog's remote target and route set: parsed only
                // when a PRACK, UPDATE or INFO goes into it (`enterEarlyDialogB`), which most calls never send.
                earlyResponseB = r
            }
            let calleeRSeq = Self.reliableRSeq(r)
            if let calleeRSeq {
                // A retransmission of a reliable 18x already relayed (its PRACK is under way).
                guard calleeRSeq > lastRSeqB else { return }
                lastRSeqB = calleeRSeq
            }
            state = .early
            let content = Relay.forward(r, from: target.peer, to: sourcePeer, site: site, localHost: context.localHost)
            let response = Relay.response(
                status, Relay.reasonPhrase(of: r), to: inviteA, toTag: a.localTag,
                contact: context.contact(user: nil, for: a.destination), content: content)
            if callerRequires100rel || (callerSupports100rel && calleeRSeq != nil) {
                sendReliableA(response, calleeRSeq: callerSupports100rel ? calleeRSeq : nil)
            } else {
                actions.append(.respond(response, to: inviteA))
            }
            // The caller does not do 100rel: Patchbay acknowledges the callee's reliable 18x itself.
            if let calleeRSeq, !callerSupports100rel { prackB(calleeRSeq) }
            return
        }
        cancelRingTimer()
        stopReliableProvisionals()
        earlyResponseB = nil
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
            alternates = []
            closeAttempt(status)
            record.result = status
            record.answerTime = context.now
            state = .confirmed
            let content = Relay.forward(r, from: target.peer, to: sourcePeer, site: site, localHost: context.localHost)
            var ok = Relay.response(
                status, Relay.reasonPhrase(of: r), to: inviteA, toTag: a.localTag,
                contact: context.contact(user: nil, for: a.destination), content: content)
            ok.headers += negotiateSessionTimers(answer: r, target: target.peer)
            sentSDP(ok.body, onA: true)
            startMaxDuration(target: target.peer)
            answer200 = ok
            actions.append(.respond(ok, to: inviteA))
            start200Retransmission()
            if logger.logLevel <= .info {
                let meta = setupMetadata()
                logger.info("call setup", metadata: meta)
            }
            return
        }
        if ringExpired, !cancelled {
            // Our own CANCEL after the ring timeout: the target did not answer, the next one gets the call.
            closeAttempt(480)
            lastFailure = (480, "Temporarily Unavailable")
            state = .routing
            return tryNextTarget()
        }
        if status == 422, !cancelled, retryWithLongerInterval(r) { return }
        closeAttempt(status)
        // RFC 3263 section 4.3: a server that is unavailable (503) or did not answer in time (408) has the call
        // go to the peer's next server, whatever `responses:` makes of the status for routing.
        if response.statusCode == 503 || response.statusCode == 408, !alternates.isEmpty, !cancelled {
            lastFailure = (status, Relay.reasonPhrase(of: r))
            state = .routing
            if tryNextAddress() { return }
        }
        if site.failoverCodes.contains(status), !cancelled {
            lastFailure = (status, Relay.reasonPhrase(of: r))
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
        var content = Relay.forward(r, from: target.peer, to: sourcePeer, site: site, localHost: context.localHost)
        if (300..<400).contains(status) {
            var contacts = r.nameAddresses("Contact")
            for i in contacts.indices {
                guard let user = contacts[i].uri.user, NumberTranslation.looksLikeNumber(user) else { continue }
                let house = targetAdapter.numberFromPeer(user, role: .called)
                contacts[i].uri.user = sourceAdapter.numberToPeer(house, role: .called)
            }
            content.setNameAddresses("Contact", contacts)
        }
        finishFailed(status, Relay.reasonPhrase(of: r), content: content)
    }

    /// Routes the number in a 3xx's Contact as if the caller had dialled it. Returns false when there is nothing
    /// to follow (no Contact with a number), so the 3xx goes back to the caller instead.
    mutating func follow(_ redirect: SIPMessage, from targetAdapter: any PeerAdapter) -> Bool {
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
        let result = RequestProcessor(site: site).route(house, from: sourcePeer, seed: StableHash.fnv1a(a.callID))
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

    /// The same target again at its next address, if it has one left: returns whether it was tried.
    mutating func tryNextAddress() -> Bool {
        guard !alternates.isEmpty, !cancelled, let peer = currentTarget?.peer else { return false }
        logger.info(
            "trying the target's next address",
            metadata: ["a": "\(a.callID)", "peer": "\(peer)", "next": "\(alternates[0])"])
        nextAddress = true
        pending.insert(peer, at: 0)
        tryNextTarget()
        return true
    }

    /// The target being tried gave its final answer (or none).
    mutating func closeAttempt(_ status: Int) {
        guard attemptOpen, !record.attempts.isEmpty else { return }
        record.attempts[record.attempts.count - 1].status = status
        attemptOpen = false
        if status >= 300 || status == 0 {
            releaseMedia()
            releaseOutbound()
        }
        actions.append(.attemptEnded(peer: record.attempts[record.attempts.count - 1].peer, status: status))
    }

    mutating func releaseOutbound() {
        guard let peer = outboundCounted else { return }
        outboundCounted = nil
        actions.append(.releasePeer(peer))
    }

    mutating func ringTimerFired() {
        ringTimerRunning = false
        guard state == .early || state == .routing, !cancelled else { return }
        ringExpired = true
        sendCancelB()
    }

    mutating func cancelRingTimer() {
        guard ringTimerRunning else { return }
        ringTimerRunning = false
        actions.append(.cancelTimer(.ring))
    }

    mutating func finishFailed(_ status: Int, _ reason: String, content: SIPMessage? = nil) {
        guard state != .ended else { return }
        // A target's challenge that Patchbay could not answer is not the caller's to answer (it never saw it, and
        // the challenge headers stay on the B leg): the caller learns the call was refused.
        let (status, reason) = status == 401 || status == 407 ? (403, "Forbidden") : (status, reason)
        var content = content
        content?.body = []
        content?.removeHeader("Content-Type")
        actions.append(
            .respond(
                Relay.response(status, reason, to: inviteA, toTag: a.localTag, contact: nil, content: content),
                to: inviteA))
        record.result = status
        end(by: "setup")
    }
}
