import Foundation
import Logging
import NIOCore
import PluginAPI
import Records
import Routing
import SIPCore

/// A call on its shard: it feeds events to its `CallMachine` and performs the actions the machine returns,
/// through the shard (`CallHost`). Owned by one shard and touched only on its event loop, so it needs no locks.
package final class Call {
    /// The shard that owns the call.
    unowned let shard: any CallHost
    package private(set) var machine: CallMachine
    /// The peer whose `limits` counted this call when it was admitted: its slot is given back when the call leaves.
    package var countedPeer: String?
    // Optionals rather than a dictionary: an established call keeps no table for timers it no longer runs.
    private var ringTimer: TimerQueue.Handle?
    private var retransmitTimer: TimerQueue.Handle?
    private var reInviteTimer: TimerQueue.Handle?
    private var reliableTimer: TimerQueue.Handle?
    private var sessionTimerA: TimerQueue.Handle?
    private var sessionTimerB: TimerQueue.Handle?
    private var durationTimer: TimerQueue.Handle?

    package init(
        shard: any CallHost, site: Site, invite: SIPMessage, source: String, from address: SIPDestination,
        route: String, targets: [String]
    ) {
        self.shard = shard
        machine = CallMachine(
            context: shard, site: site, invite: invite, source: source, from: address, route: route, targets: targets)
    }

    // The shard's and the status page's view of the call.
    package var a: CallLeg { machine.a }
    package var b: CallLeg? { machine.b }
    /// The legs' Call-IDs, without copying the legs (the shard's call table is keyed by them).
    package var aCallID: String { machine.a.callID }
    package var bCallID: String? { machine.b?.callID }
    package var sourcePeer: String { machine.sourcePeer }
    package var currentTarget: RequestProcessor.Leg? { machine.currentTarget }
    package var record: CallRecord { machine.record }
    package var state: CallMachine.State { machine.state }

    /// What the shard sets before the call starts: the house-format INVITE and its SDP, the ring timeout, the
    /// maximum duration (`CallMachine`'s settable properties).
    package func setUp(_ body: (inout CallMachine) -> Void) { body(&machine) }

    // MARK: Events from the shard

    /// The route is decided: the first target gets the call.
    package func tryNextTarget() { handle(.start) }

    /// A request inside the A dialog or the B dialog (the shard found this call by Call-ID).
    package func inDialogRequest(_ request: SIPMessage, fromA: Bool) { handle(.request(request, fromA: fromA)) }

    /// rtpengine reported a telephone-event in the call's media.
    package func dtmf(event: Int, durationMilliseconds: Int, sourceTag: String) {
        handle(.dtmf(event: event, durationMilliseconds: durationMilliseconds, sourceTag: sourceTag))
    }

    /// Patchbay is shutting down and the drain time is over.
    package func shutdown() { handle(.shutdown) }

    /// The caller sent its INVITE again after the final answer.
    package func retransmittedInvite() { handle(.retransmittedInvite) }

    /// A 2xx after its INVITE transaction ended (`CallMachine.strayResponse`); false for any other response.
    @discardableResult
    package func strayResponse(_ response: SIPMessage) -> Bool {
        guard let actions = machine.strayResponse(response) else { return false }
        perform(actions)
        return true
    }

    // MARK: Performing

    private func handle(_ event: CallEvent) {
        perform(machine.handle(event))
    }

    private func perform(_ actions: [CallAction]) {
        for action in actions {
            switch action {
            case .respond(let response, let request):
                shard.respond(response, to: request)
            case .sendStateless(let message, let destination):
                shard.sendStateless(message, to: destination)
            case .sendRequest(let request, let destination, let peer, let role):
                // Held strongly: a call whose caller gave up must still ACK and hang up a late answer.
                if let peer {
                    shard.sendRequest(
                        request, to: destination, peer: peer,
                        resent: { again in self.handle(.resent(again, role: role)) },
                        handler: { event in self.handle(.outcome(event, role: role)) })
                } else {
                    shard.sendRequest(request, to: destination) { event in self.handle(.outcome(event, role: role)) }
                }
            case .startTimer(let timer, let delay):
                cancel(timer)
                let handle = shard.timers.schedule(in: delay) { [weak self] in
                    guard let self else { return }
                    self[timer] = nil
                    self.handle(.timer(timer))
                }
                self[timer] = handle
            case .cancelTimer(let timer):
                cancel(timer)
            case .track(let callID):
                shard.track(self, callID: callID)
            case .attemptEnded(let peer, let status):
                shard.attemptEnded(peer: peer, status: status)
            case .media(let command):
                shard.media(command) { outcome in self.handle(.media(outcome)) }
            case .playDTMF(let callID, let instance, let fromTag, let code, let duration):
                shard.playDTMF(
                    callID: callID, instance: instance, fromTag: fromTag, code: code, durationMilliseconds: duration)
            case .releasePeer(let peer):
                shard.releasePeer(peer)
            case .deleteMedia(let callID, let instance):
                shard.deleteMedia(callID: callID, instance: instance)
            case .ended:
                for timer in CallTimer.allCases { cancel(timer) }
                shard.remove(self)
                shard.submit(machine.record)
            }
        }
    }

    private subscript(timer: CallTimer) -> TimerQueue.Handle? {
        get {
            switch timer {
            case .ring: ringTimer
            case .retransmit200: retransmitTimer
            case .reInvite200: reInviteTimer
            case .reliableProvisional: reliableTimer
            case .sessionA: sessionTimerA
            case .sessionB: sessionTimerB
            case .maxDuration: durationTimer
            }
        }
        set {
            switch timer {
            case .ring: ringTimer = newValue
            case .retransmit200: retransmitTimer = newValue
            case .reInvite200: reInviteTimer = newValue
            case .reliableProvisional: reliableTimer = newValue
            case .sessionA: sessionTimerA = newValue
            case .sessionB: sessionTimerB = newValue
            case .maxDuration: durationTimer = newValue
            }
        }
    }

    private func cancel(_ timer: CallTimer) {
        guard let handle = self[timer] else { return }
        shard.timers.cancel(handle)
        self[timer] = nil
    }
}
