import NIOCore
import PluginAPI
import Routing
import SIPCore

/// Reliable provisional responses (RFC 3262) on each leg. Towards the caller Patchbay is the UAS: its 18x are
/// reliable when the caller requires 100rel, or supports it and the callee's 18x was reliable; it retransmits them
/// until the caller's PRACK. From the callee it takes reliable 18x: the caller's PRACK is relayed when the caller
/// does 100rel too (RAck translated), and Patchbay sends the PRACK itself when the caller does not.
extension CallMachine {
    /// The RSeq of a reliable provisional response (`Require: 100rel` and an RSeq), or nil.
    static func reliableRSeq(_ response: SIPMessage) -> UInt32? {
        guard let value = response.header("RSeq"), OptionTags.contains(response, "Require", "100rel") else {
            return nil
        }
        return UInt32(value.trimmingCharacters(in: .whitespaces))
    }

    /// Sends `response` to the caller reliably, or queues it behind the one not yet PRACKed.
    mutating func sendReliableA(_ response: SIPMessage, calleeRSeq: UInt32?) {
        var reliable = response
        reliable.headers.append(SIPHeader("Require", "100rel"))
        reliable.headers.append(SIPHeader("RSeq", String(nextRSeqA)))
        let pending = ReliableProvisional(
            response: reliable, rseq: nextRSeqA, calleeRSeq: calleeRSeq,
            retransmission: Retransmission(context.settings))
        nextRSeqA += 1
        if reliableA == nil {
            send(pending)
        } else {
            queuedReliableA.append(pending)
        }
    }

    private mutating func send(_ pending: ReliableProvisional) {
        reliableA = pending
        actions.append(.respond(pending.response, to: inviteA))
        actions.append(.startTimer(.reliableProvisional, pending.retransmission.interval))
    }

    mutating func reliableProvisionalFired() {
        guard var pending = reliableA else { return }
        guard let wait = pending.retransmission.next(context.settings) else {
            // Section 3: a reliable 18x unacknowledged for 64*T1 ends the INVITE with a 5xx.
            reliableA = nil
            queuedReliableA = []
            logger.warning("no PRACK from the caller", metadata: ["a": "\(a.callID)"])
            record.endedBy = "no PRACK"
            cancelled = true
            if bProvisional { sendCancelB() }
            finishFailed(500, "Server Internal Error")
            return
        }
        actions.append(.sendStateless(pending.response, to: a.destination))
        reliableA = pending
        actions.append(.startTimer(.reliableProvisional, wait))
    }

    /// A final response ends the provisional ones: nothing more is retransmitted or queued.
    mutating func stopReliableProvisionals() {
        guard reliableA != nil || !queuedReliableA.isEmpty else { return }
        if reliableA != nil { actions.append(.cancelTimer(.reliableProvisional)) }
        reliableA = nil
        queuedReliableA = []
    }

    /// The caller's PRACK: it must acknowledge the reliable 18x outstanding (its RAck), else 481 (section 3).
    mutating func prackFromA(_ prack: SIPMessage) {
        let rack = (prack.header("RAck") ?? "").split(separator: " ", omittingEmptySubsequences: true)
        guard let pending = reliableA, rack.count == 3, UInt32(rack[0]) == pending.rseq,
            UInt32(rack[1]) == inviteA.cseq?.number, rack[2].uppercased() == "INVITE"
        else {
            return actions.append(
                .respond(
                    Relay.response(481, "Call/Transaction Does Not Exist", to: prack, toTag: nil, contact: nil),
                    to: prack))
        }
        reliableA = nil
        actions.append(.cancelTimer(.reliableProvisional))
        enterEarlyDialogB()
        if let calleeRSeq = pending.calleeRSeq, var bLeg = b, let cseq = inviteB?.cseq?.number,
            let target = currentTarget, state == .early
        {
            // Both sides do 100rel: the PRACK goes on to the callee (with the caller's offer or answer, if any),
            // and the callee's answer to it comes back as this PRACK's.
            var out = bLeg.makeRequest(
                "PRACK", via: context.via(for: bLeg.destination),
                contact: context.contact(user: nil, for: bLeg.destination))
            b = bLeg
            out.headers.append(SIPHeader("RAck", "\(calleeRSeq) \(cseq) INVITE"))
            let content = Relay.forward(
                prack, from: sourcePeer, to: target.peer, site: site, localHost: context.localHost)
            out.headers += content.headers
            out.body = content.body
            actions.append(
                .sendRequest(out, to: bLeg.destination, peer: bLeg.peer, role: .relay(original: prack, fromA: true)))
        } else {
            actions.append(.respond(Relay.response(200, "OK", to: prack, toTag: nil, contact: nil), to: prack))
        }
        if !queuedReliableA.isEmpty { send(queuedReliableA.removeFirst()) }
    }

    /// The early dialog with the callee takes its remote target and route set from the 1xx that made it (RFC
    /// 3261 section 12.1.2), before a request goes into it.
    mutating func enterEarlyDialogB() {
        guard let response = earlyResponseB, var bLeg = b else { return }
        earlyResponseB = nil
        if let contact = response.nameAddresses("Contact").first?.uri { bLeg.remoteTarget = contact }
        bLeg.routeSet = response.values("Record-Route").reversed()
        b = bLeg
    }

    /// Patchbay's own PRACK for the callee's reliable 18x with `rseq`.
    mutating func prackB(_ rseq: UInt32) {
        enterEarlyDialogB()
        guard var bLeg = b, let cseq = inviteB?.cseq?.number else { return }
        var prack = bLeg.makeRequest(
            "PRACK", via: context.via(for: bLeg.destination), contact: context.contact(user: nil, for: bLeg.destination)
        )
        b = bLeg
        prack.headers.append(SIPHeader("RAck", "\(rseq) \(cseq) INVITE"))
        actions.append(.sendRequest(prack, to: bLeg.destination, peer: bLeg.peer, role: .oneShot))
    }
}
