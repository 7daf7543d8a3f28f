import Foundation
import Logging
import NIOCore
import PluginAPI
import Records
import Routing
import SIPCore

/// A signalling B2BUA call as a state machine: the A leg (caller -> Patchbay) and the B leg (Patchbay -> the
/// target that answered, or the one being tried). It takes `CallEvent`s and returns `CallAction`s; `Call` performs
/// them on its shard's loop. What it reads from the shard (identifiers, addresses) comes through `CallContext`.
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
package struct CallMachine {
    package enum State: Sendable { case routing, early, confirmed, ending, ended }

    unowned let context: any CallContext
    package let site: Site
    package let inviteA: SIPMessage
    package let sourcePeer: String
    let sourceAdapter: any PeerAdapter
    package internal(set) var state: State = .routing
    package internal(set) var a: CallLeg
    package internal(set) var b: CallLeg?
    /// The targets still to try, in order; each one's request is made when it is tried.
    var pending: [String]
    package internal(set) var currentTarget: RequestProcessor.Leg?
    var inviteB: SIPMessage?
    var bProvisional = false
    var cancelled = false
    var cancelSent = false
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
    var redirectsFollowed = 0
    var ringTimerRunning = false
    /// The target rang too long and was cancelled by Patchbay: its 487 means "try the next one".
    var ringExpired = false
    var lastFailure: (Int, String)? {
        didSet { lastFailureWarning = nil }
    }
    /// A `Warning` for the caller when the last failure was Patchbay's own refusal (`MediaRefusal`).
    var lastFailureWarning: String?
    var answer200: SIPMessage?
    /// Delayed offer (RFC 3261 section 13.2.1): the INVITE had no SDP, the 2xx carries the offer and the caller's
    /// ACK the answer, so the B leg's ACK must wait for the caller's and carry its SDP.
    var delayedOffer = false
    var ackSentB: Bool { ackB != nil }
    /// Kept to answer the callee's 2xx retransmissions with the same ACK (with the SDP answer, if any).
    var ackB: SIPMessage?
    /// The ACK sent for each late 2xx from a target the call had given up on (by B-leg Call-ID), so that the
    /// target's retransmissions of it get the ACK again and not another BYE.
    var abandonedAcks: [OctetKey: SIPMessage] = [:]
    /// The 2xx to the caller's INVITE being retransmitted until its ACK; nil when it is not.
    var retransmission200: Retransmission?
    /// A re-INVITE relayed and not yet acknowledged, if any.
    @OutOfLine var reInvite: MidCallInvite?
    /// The last ACK Patchbay sent on each leg for a re-INVITE's 2xx, sent again when that 2xx is retransmitted.
    @OutOfLine var reInviteAckA: SIPMessage?
    @OutOfLine var reInviteAckB: SIPMessage?
    /// The caller's 100rel (RFC 3262), as far as its peer's `prack` lets Patchbay take it up.
    let callerRequires100rel: Bool
    let callerSupports100rel: Bool
    /// Patchbay's reliable 18x to the caller not yet PRACKed, and those waiting behind it: one at a time (3262
    /// section 3).
    @OutOfLine var reliableA: ReliableProvisional?
    var queuedReliableA: [ReliableProvisional] = []
    var nextRSeqA: UInt32 = 1
    /// The callee's last 1xx with a To tag, until a request goes into the early dialog it made.
    @OutOfLine var earlyResponseB: SIPMessage?
    /// The callee's last reliable 18x: its retransmissions are not relayed again.
    var lastRSeqB: UInt32 = 0
    /// Each leg's session timer once negotiated (RFC 4028), and a refresh of Patchbay's under way.
    var sessionA: LegSessionTimer?
    var sessionB: LegSessionTimer?
    var refreshing = false
    /// A 422 from the target was answered with a longer interval once for this attempt.
    var retried422 = false
    /// The last SDP Patchbay sent on each leg: a refresh by re-INVITE offers it again unchanged. Kept only for a
    /// leg whose peer has a `session_timer` (`sentSDP`).
    var lastSDPA: [UInt8]?
    var lastSDPB: [UInt8]?
    /// The caller's peer's `session_timer`, looked up once.
    let callerSessionTimer: PatchbayConfiguration.SessionTimer?
    var sessionTimerA: Bool { callerSessionTimer != nil }
    var sessionTimerB: Bool { targetSettings?.sessionTimer != nil }
    /// The target being tried's `prack`, `session_timer` and `max_call_duration`, looked up once per attempt.
    var targetSettings: Site.CallSettings?
    package var maxDuration: TimeAmount?
    /// On an `emergency` route: exempt from the targets' `limits`.
    package var emergency = false
    /// The target whose `limits` slot the attempt holds, if it has one.
    var outboundCounted: String?
    /// The current target's addresses not tried yet (its further DNS servers), in order; and whether the next
    /// attempt is to the next of them rather than to the next target.
    var alternates: [SIPDestination] = []
    var nextAddress = false
    /// The media through rtpengine, for a call with an anchored attempt (`CallMachine+Media`).
    @OutOfLine var anchor: MediaAnchor?
    package internal(set) var record: CallRecord
    /// The last entry of `record.attempts` is the target being tried and has no answer yet.
    var attemptOpen = false
    /// What the event being handled asks for, returned by `handle`.
    var actions: [CallAction] = []

    package init(
        context: any CallContext, site: Site, invite: SIPMessage, source: String, from address: SIPDestination,
        route: String, targets: [String]
    ) {
        self.context = context
        self.site = site
        self.inviteA = invite
        self.sourcePeer = source
        self.sourceAdapter = site.adapters[source]!
        self.pending = targets
        let from = invite.from ?? NameAddress(uri: SIPURI(host: "invalid"))
        let to = invite.to ?? NameAddress(uri: SIPURI(host: "invalid"))
        let target = invite.nameAddresses("Contact").first?.uri ?? from.uri
        a = CallLeg(
            peer: source, destination: address, callID: invite.callID ?? "", localTag: context.newTag(),
            remoteTag: from.tag, localURI: to, remoteURI: from, remoteTarget: target,
            routeSet: invite.values("Record-Route"), localCSeq: 0, remoteCSeq: invite.cseq?.number ?? 0)
        a.localURI.tag = nil
        a.remoteURI.tag = nil
        let settings = site.callSettings[source]
        let allows100rel = settings?.prack != .off
        let (requires, supports) = OptionTags.requiresAndSupports(invite, "100rel")
        callerSessionTimer = settings?.sessionTimer
        callerRequires100rel = allows100rel && requires
        callerSupports100rel =
            allows100rel && (requires || supports)
        record = CallRecord(invite: invite, source: source, route: route)
    }

    var logger: Logger { context.logger }

    /// Takes one event and returns what it asks for, in order.
    package mutating func handle(_ event: CallEvent) -> [CallAction] {
        // Most events ask for one to four actions: one allocation instead of the growth steps.
        actions.reserveCapacity(4)
        if case .media(let outcome) = event {
            mediaAnswered(outcome)
        } else if anchor?.wait != nil {
            anchor?.held.append(event)
        } else {
            dispatch(event)
        }
        // What waited behind rtpengine's answer, in order, until the next wait.
        while anchor?.wait == nil, let next = anchor?.held.first {
            anchor?.held.removeFirst()
            dispatch(next)
        }
        defer { actions = [] }
        return actions
    }

    /// `gated`: false for an event coming back from rtpengine, whose SDP is already rtpengine's.
    mutating func dispatch(_ event: CallEvent, gated: Bool = true) {
        if gated, anchor != nil, holdForMedia(event) { return }
        switch event {
        case .start: tryNextTarget()
        case .request(let request, let fromA): inDialogRequest(request, fromA: fromA)
        case .retransmittedInvite: retransmittedInvite()
        case .outcome(let outcome, let role): self.outcome(outcome, role: role)
        case .resent(let request, let role): resent(request, role: role)
        case .timer(.ring): ringTimerFired()
        case .timer(.retransmit200): retransmit200Fired()
        case .timer(.reInvite200): reInvite200Fired()
        case .timer(.reliableProvisional): reliableProvisionalFired()
        case .timer(.sessionA): sessionTimerFired(legA: true)
        case .timer(.sessionB): sessionTimerFired(legA: false)
        case .timer(.maxDuration): maxDurationReached()
        case .shutdown: shutdown()
        case .media(let outcome): mediaAnswered(outcome)
        case .dtmf(let event, let duration, let tag):
            dtmfFromMedia(event: event, durationMilliseconds: duration, sourceTag: tag)
        }
    }

    /// A 2xx after its INVITE transaction ended: from the answering target, a retransmission whose ACK was lost
    /// (send it again); from a target the call gave up on, a late answer (ACK it and hang up). `nil` for any other
    /// response, which nothing here can use.
    package mutating func strayResponse(_ response: SIPMessage) -> [CallAction]? {
        guard let status = response.statusCode, (200..<300).contains(status), response.method == "INVITE",
            let callID = response.callID
        else { return nil }
        let onA = OctetText.equal(callID, a.callID)
        let onB = b.map { OctetText.equal(callID, $0.callID) } ?? false
        let cseq = response.cseq?.number
        if onA || (onB && cseq != inviteB?.cseq?.number) {
            // A re-INVITE's 2xx again: its ACK was lost.
            let leg = onA ? a : b
            if let ack = onA ? reInviteAckA : reInviteAckB, ack.cseq?.number == cseq, let leg {
                actions.append(.sendStateless(ack, to: leg.destination))
            }
        } else if !onB {
            hangUpAbandoned(response, callID: callID)
        } else if state == .confirmed, let ack = ackB, let bLeg = b {
            // Before the caller's ACK (delayed offer) there is nothing to send yet: the callee keeps
            // retransmitting and gets the ACK with the answer when it comes.
            actions.append(.sendStateless(ack, to: bLeg.destination))
        }
        defer { actions = [] }
        return actions
    }

    mutating func outcome(_ event: ClientEvent, role: CallRequestRole) {
        switch role {
        case .invite: inviteEvent(event)
        case .relay(let original, let fromA): relayOutcome(event, original: original, fromA: fromA)
        case .byeEnding(let reason): end(by: reason)
        case .refresh(let legA): refreshOutcome(event, legA: legA)
        case .oneShot: break
        }
    }

    mutating func resent(_ request: SIPMessage, role: CallRequestRole) {
        switch role {
        case .invite:
            // Answering a challenge: the new INVITE is the one a CANCEL and the ACK must match.
            inviteB = request
            if let n = request.cseq?.number { b?.localCSeq = n }
        case .relay(_, let fromA):
            guard let n = request.cseq?.number else { return }
            if fromA { b?.localCSeq = n } else { a.localCSeq = n }
        case .refresh(let legA):
            guard let n = request.cseq?.number else { return }
            if legA { a.localCSeq = n } else { b?.localCSeq = n }
        case .byeEnding, .oneShot:
            break
        }
    }
}
