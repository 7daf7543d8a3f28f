import Calls
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import PluginAPI
import Records
import Routing
import SIPCore

/// One basic call through `Call` and its machine, with the shard replaced by a host that answers at once: the
/// INVITE out, 180 and 200 back, the caller's ACK, the caller's BYE and its 200. What the message paths leave
/// out of a call (the call's own state and decisions), for `HotPathCount call` under callgrind.
public final class CallFlow {
    final class Host: CallHost {
        let loop = EmbeddedEventLoop()
        lazy var timers = TimerQueue(eventLoop: loop)
        let logger: Logger = {
            var logger = Logger(label: "patchbay.bench")
            logger.logLevel = .warning  // as `patchbay run` logs by default
            return logger
        }()
        let settings = TransactionSettings()
        let local = LocalAddress(host: "127.0.0.1", udpPort: 5060)
        var localHost: String { local.host }
        let downPeers: Set<String> = []
        let drainedPeers: Set<String> = []
        var now: Date { Date(timeIntervalSince1970: 1_800_000_000) }
        let target: SIPDestination
        var counter = 0
        var sent = 0
        var open: [(request: SIPMessage, handler: (ClientEvent) -> Void)] = []

        init(target: SIPDestination) {
            self.target = target
        }

        func randomDelay(in range: ClosedRange<Int64>) -> TimeAmount { .milliseconds(range.lowerBound) }
        func newCallID() -> String {
            counter &+= 1
            return "pb0-\(counter)@127.0.0.1"
        }
        func newTag() -> String {
            counter &+= 1
            return "pb0\(counter)"
        }
        func newBranch() -> String {
            counter &+= 1
            return "z9hG4bK-pb0\(counter)"
        }
        func via(for destination: SIPDestination?) -> String {
            local.via(for: destination?.transport, branch: newBranch())
        }
        func contact(user: String?, for destination: SIPDestination?) -> String {
            local.contact(user: user, for: destination?.transport)
        }
        func destinations(of peer: String) -> [SIPDestination] { [target] }
        func track(_ call: Call, callID: String) {}
        func remove(_ call: Call) {}
        func submit(_ record: CallRecord) { sent &+= 1 }
        func attemptEnded(peer: String, status: Int) {}
        func sendStateless(_ message: SIPMessage, to destination: SIPDestination) { sent &+= 1 }
        // The benchmarked flow is not anchored.
        func media(_ command: MediaCommand, completion: @escaping (MediaOutcome) -> Void) {
            completion(.failed("not anchored"))
        }
        func deleteMedia(callID: String, instance: String) {}
        func playDTMF(callID: String, instance: String, fromTag: String, code: String, durationMilliseconds: Int) {}
        func respond(_ response: SIPMessage, to request: SIPMessage) { sent &+= 1 }
        func sendRequest(
            _ request: SIPMessage, to destination: SIPDestination, timerB: TimeAmount?,
            handler: @escaping (ClientEvent) -> Void
        ) {
            sent &+= 1
            open.append((request, handler))
        }
        func sendRequest(
            _ request: SIPMessage, to destination: SIPDestination, peer: String,
            resent: @escaping (SIPMessage) -> Void, handler: @escaping (ClientEvent) -> Void
        ) {
            sendRequest(request, to: destination, timerB: nil, handler: handler)
        }

        /// The oldest open request answered with `status` (and `body`, if any).
        func answer(_ status: Int, body: [UInt8] = []) {
            guard !open.isEmpty else { return }
            let (request, handler) = status >= 200 ? open.removeFirst() : open[0]
            var response = Relay.response(
                status, Relay.reasonPhrase(status), to: request, toTag: "uas-tag", contact: "<sip:uas@127.0.0.1:5080>")
            if !body.isEmpty {
                response.headers.append(SIPHeader("Content-Type", "application/sdp"))
                response.body = body
            }
            handler(.response(response))
        }
    }

    let site: Site
    let invite: SIPMessage
    let caller: String
    let callee: String
    let answerSDP: [UInt8]

    /// - Parameters: the site, the caller's INVITE, the source peer and the target peer, the SDP the callee answers.
    public init(site: Site, invite: SIPMessage, from caller: String, to callee: String, answer: [UInt8]) {
        self.site = site
        self.invite = invite
        self.caller = caller
        self.callee = callee
        self.answerSDP = answer
    }

    /// One call; returns how many messages the call sent, or 0 if it did not end.
    public func run() throws -> Int {
        let destination = SIPDestination(
            transport: .udp, address: try SocketAddress(ipAddress: "127.0.0.1", port: 5080))
        let host = Host(target: destination)
        var state = RequestState(site: site, message: invite)
        guard RequestChain.standard.run(&state, in: OfflineEnvironment(source: caller)) == .toTargets else { return 0 }
        let call = Call(
            shard: host, site: site, invite: invite, source: caller,
            from: SIPDestination(transport: .udp, address: try SocketAddress(ipAddress: "127.0.0.1", port: 5070)),
            route: state.route?.name ?? "", targets: [callee])
        call.setUp { machine in
            machine.house = state.house
            machine.houseSDP = state.houseSDP
        }
        call.tryNextTarget()
        host.answer(180)
        host.answer(200, body: answerSDP)
        call.inDialogRequest(Self.fromCaller("ACK", call.a, cseq: 1), fromA: true)
        call.inDialogRequest(Self.fromCaller("BYE", call.a, cseq: 2), fromA: true)
        host.answer(200)
        return call.state == .ended ? host.sent : 0
    }

    /// The caller's request inside its dialog.
    static func fromCaller(_ method: String, _ a: CallLeg, cseq: UInt32) -> SIPMessage {
        var from = a.remoteURI
        from.tag = a.remoteTag
        var to = a.localURI
        to.tag = a.localTag
        return CallLeg.request(
            method, uri: SIPURI(host: "127.0.0.1"), from: from, to: to, callID: a.callID, cseq: cseq,
            via: "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-uac-\(cseq)", contact: "<sip:uac@127.0.0.1:5070>",
            maxForwards: 70)
    }
}
