import Foundation
import Logging
import NIOCore
import PluginAPI
import Routing
import SIPCore

/// Session timers (RFC 4028) on each leg, negotiated when the call is answered: Patchbay refreshes the legs it
/// is refresher for (UPDATE where the peer allows it, else a re-INVITE offering the last SDP again), and ends the
/// call with BYE both ways when a leg's peer does not refresh in time. Also the call's maximum duration.
extension CallMachine {
    /// Keeps the SDP Patchbay sent on a leg, for a leg whose peer has a session timer (a refresh by re-INVITE
    /// offers it again); other calls keep no copy.
    mutating func sentSDP(_ body: [UInt8], onA: Bool) {
        guard !body.isEmpty else { return }
        if onA {
            if sessionTimerA { lastSDPA = body }
        } else if sessionTimerB {
            lastSDPB = body
        }
    }

    static func supportsTimer(_ m: SIPMessage) -> Bool {
        OptionTags.contains(m, "Supported", "timer") || OptionTags.contains(m, "Require", "timer")
    }

    static func allowsUpdate(_ m: SIPMessage) -> Bool {
        OptionTags.contains(m, "Allow", "UPDATE")
    }

    /// The `refresher` parameter of a message's Session-Expires, lower-cased.
    static func refresher(_ m: SIPMessage) -> String? {
        guard let value = m.header("Session-Expires") else { return nil }
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "refresher" { return pair[1].lowercased() }
        }
        return nil
    }

    /// Both legs' timers from the caller's INVITE, the callee's 2xx and the peers' `session_timer`; returns what
    /// the caller's 2xx must carry for the A leg's timer.
    mutating func negotiateSessionTimers(answer response: SIPMessage, target: String) -> [SIPHeader] {
        if targetSettings?.sessionTimer != nil, let interval = IsTheSessionIntervalLongEnough.interval(response) {
            // Patchbay is the B leg's UAC: refresher=uac is Patchbay.
            sessionB = LegSessionTimer(
                interval: interval, patchbayRefreshes: Self.refresher(response) != "uas",
                peerSupportsTimer: Self.supportsTimer(response), useUpdate: Self.allowsUpdate(response))
            startSessionTimer(legA: false)
        }
        var headers: [SIPHeader] = []
        if let settings = callerSessionTimer {
            let supports = Self.supportsTimer(inviteA)
            let asked = IsTheSessionIntervalLongEnough.interval(inviteA)
            let callerMinSE = IsTheSessionIntervalLongEnough.deltaSeconds(inviteA, "Min-SE") ?? 0
            let interval = asked ?? max(settings.expires, callerMinSE)
            // Patchbay is the A leg's UAS: refresher=uas is Patchbay. A caller without timer cannot refresh.
            let patchbayRefreshes: Bool =
                switch Self.refresher(inviteA) {
                case "uac" where supports: false
                case "uas": true
                default: !supports || settings.refresher == .patchbay
                }
            let timer = LegSessionTimer(
                interval: interval, patchbayRefreshes: patchbayRefreshes, peerSupportsTimer: supports,
                useUpdate: Self.allowsUpdate(inviteA))
            sessionA = timer
            headers.append(SIPHeader("Session-Expires", timer.header(asUAC: false)))
            if supports { headers.append(SIPHeader("Require", "timer")) }
            startSessionTimer(legA: true)
        }
        return headers
    }

    mutating func startSessionTimer(legA: Bool) {
        guard let timer = legA ? sessionA : sessionB else { return }
        actions.append(.startTimer(legA ? .sessionA : .sessionB, .seconds(Int64(timer.wait))))
    }

    /// A re-INVITE or UPDATE between the peers got a 2xx: it refreshed both legs' sessions.
    mutating func sessionsRefreshed() {
        startSessionTimer(legA: true)
        startSessionTimer(legA: false)
    }

    /// Session-Expires (and Require: timer) for a message Patchbay sends on a leg with a timer.
    func sessionHeaders(legA: Bool, asUAC: Bool) -> [SIPHeader] {
        guard let timer = legA ? sessionA : sessionB else { return [] }
        var headers = [SIPHeader("Session-Expires", timer.header(asUAC: asUAC))]
        if asUAC {
            headers.append(SIPHeader("Supported", "timer"))
        } else if timer.peerSupportsTimer {
            headers.append(SIPHeader("Require", "timer"))
        }
        return headers
    }

    mutating func sessionTimerFired(legA: Bool) {
        guard state == .confirmed, let timer = legA ? sessionA : sessionB else { return }
        if timer.patchbayRefreshes { return refresh(legA: legA) }
        logger.notice(
            "session expired: no refresh from the peer", metadata: ["a": "\(a.callID)", "leg": "\(legA ? "A" : "B")"])
        hangUpBoth(reason: "session expired")
    }

    /// Patchbay's refresh of a leg: an UPDATE without SDP where the peer allows UPDATE, else a re-INVITE offering
    /// the last SDP Patchbay sent there. Not while another offer is under way: it is tried again in 2 s.
    mutating func refresh(legA: Bool) {
        guard var leg = legA ? a : b, let timer = legA ? sessionA : sessionB else { return }
        guard reInvite == nil, !refreshing else {
            return actions.append(.startTimer(legA ? .sessionA : .sessionB, .seconds(2)))
        }
        let method = timer.useUpdate ? "UPDATE" : "INVITE"
        var request = leg.makeRequest(
            method, via: context.via(for: leg.destination), contact: context.contact(user: nil, for: leg.destination))
        if legA { a = leg } else { b = leg }
        request.headers += sessionHeaders(legA: legA, asUAC: true)
        if method == "INVITE", let sdp = legA ? lastSDPA : lastSDPB {
            request.headers.append(SIPHeader("Content-Type", "application/sdp"))
            request.body = sdp
        }
        refreshing = true
        actions.append(.sendRequest(request, to: leg.destination, peer: leg.peer, role: .refresh(legA: legA)))
    }

    mutating func refreshOutcome(_ event: ClientEvent, legA: Bool) {
        refreshing = false
        guard state == .confirmed, var timer = legA ? sessionA : sessionB else { return }
        guard case .response(let r) = event, let status = r.statusCode else {
            return refreshFailed(legA: legA)
        }
        switch status {
        case 100..<200:
            refreshing = true
        case 200..<300:
            if r.method == "INVITE", let leg = legA ? a : b, let cseq = r.cseq?.number {
                let ack = leg.makeACK(cseq: cseq, via: context.via(for: leg.destination))
                if legA { reInviteAckA = ack } else { reInviteAckB = ack }
                actions.append(.sendStateless(ack, to: leg.destination))
            }
            if let interval = IsTheSessionIntervalLongEnough.interval(r) { timer.interval = interval }
            set(timer, legA: legA)
            startSessionTimer(legA: legA)
        case 422:
            // The peer wants a longer interval: its Min-SE, at once.
            timer.interval = max(timer.interval, IsTheSessionIntervalLongEnough.deltaSeconds(r, "Min-SE") ?? 0)
            set(timer, legA: legA)
            refresh(legA: legA)
        case 405,
            501 where timer.useUpdate:
            timer.useUpdate = false
            set(timer, legA: legA)
            refresh(legA: legA)
        case 491:
            // RFC 3261 section 14.1: the Call-ID's owner (Patchbay, on the B leg) waits 2.1 to 4 s, the other side
            // (the A leg's Call-ID is the caller's) up to 2 s, so the two retries do not cross again.
            let delay = legA ? context.randomDelay(in: 0...2000) : context.randomDelay(in: 2100...4000)
            actions.append(.startTimer(legA ? .sessionA : .sessionB, delay))
        case 408, 481:
            refreshFailed(legA: legA)
        default:
            // Refused, but the dialog stands (RFC 4028 section 10): tried again when the timer comes round.
            startSessionTimer(legA: legA)
        }
    }

    private mutating func set(_ timer: LegSessionTimer, legA: Bool) {
        if legA { sessionA = timer } else { sessionB = timer }
    }

    private mutating func refreshFailed(legA: Bool) {
        logger.notice("session refresh failed", metadata: ["a": "\(a.callID)", "leg": "\(legA ? "A" : "B")"])
        hangUpBoth(reason: "session refresh failed")
    }

    /// The target answered 422 (its Min-SE is above what Patchbay asked for): the INVITE again, once, with that
    /// interval, a new branch and the next CSeq. False when it was retried already or says no Min-SE.
    mutating func retryWithLongerInterval(_ response: SIPMessage) -> Bool {
        guard !retried422, let minSE = IsTheSessionIntervalLongEnough.deltaSeconds(response, "Min-SE"),
            var invite = inviteB, var bLeg = b, let cseq = invite.cseq?.number
        else { return false }
        retried422 = true
        invite.setHeader(
            "Session-Expires",
            String(minSE)
                + (invite.header("Session-Expires").map {
                    $0.drop { $0 != ";" }
                }.map(String.init) ?? ""))
        invite.setHeader("Min-SE", String(minSE))
        invite.setHeader("CSeq", "\(cseq + 1) INVITE")
        invite.setHeader("Via", context.via(for: bLeg.destination))
        bLeg.localCSeq = cseq + 1
        b = bLeg
        inviteB = invite
        actions.append(.sendRequest(invite, to: bLeg.destination, peer: bLeg.peer, role: .invite))
        return true
    }

    /// The answered call's limit: the shorter of the route's and the caller's peer's (`maxDuration`) and the
    /// target's `max_call_duration`.
    mutating func startMaxDuration(target: String) {
        let targetLimit = targetSettings?.maxCallDuration.map { TimeAmount.milliseconds(Int64($0 * 1000)) }
        let limit: TimeAmount
        switch (maxDuration, targetLimit) {
        case (let a?, let b?): limit = min(a, b)
        case (let a?, nil), (nil, let a?): limit = a
        case (nil, nil): return
        }
        actions.append(.startTimer(.maxDuration, limit))
    }

    mutating func maxDurationReached() {
        guard state == .confirmed else { return }
        logger.info("maximum call duration reached", metadata: ["a": "\(a.callID)"])
        hangUpBoth(reason: "maximum duration")
    }
}
