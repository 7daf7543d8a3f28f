import Foundation
import Logging
import NIOCore
import NIOEmbedded
import PluginAPI
import Testing

@testable import Calls
@testable import Records
@testable import Routing
@testable import SIPCore

/// A call's flows as ladders, without sockets: `Call` and its `CallMachine` on a host that records what the call
/// sends and lets the test answer it, with the call's timers on an `EmbeddedEventLoop` (virtual time).
@Suite struct CallLadderTests {
    /// The shard as far as a call sees it. `wire` is every message the call sent, in order, named by where it went
    /// ("A" is the caller, through its INVITE server transaction or statelessly); `open` the requests whose answer
    /// the test gives.
    final class Host: CallHost {
        struct Sent {
            var to: String
            var message: SIPMessage
        }

        struct Open {
            var to: String
            var request: SIPMessage
            var handler: (ClientEvent) -> Void
        }

        let loop = EmbeddedEventLoop()
        lazy var timers = TimerQueue(eventLoop: loop)
        let logger = Logger(label: "test")
        let settings = TransactionSettings()
        let local = LocalAddress(host: "192.0.2.1", udpPort: 5060)
        var localHost: String { local.host }
        var downPeers: Set<String> = []
        var drainedPeers: Set<String> = []
        var now: Date { Date(timeIntervalSince1970: 1_800_000_000 + Double(loop.now.uptimeNanoseconds) / 1e9) }
        let peers: [String: SocketAddress]
        var wire: [Sent] = []
        var open: [Open] = []
        var calls: [String: Call] = [:]
        var records: [CallRecord] = []
        var attempts: [(peer: String, status: Int)] = []
        private var counter = 0

        init(peers: [String: Int]) {
            self.peers = peers.mapValues { try! SocketAddress(ipAddress: "127.0.0.1", port: $0) }
        }

        private func next() -> Int {
            counter += 1
            return counter
        }

        func newCallID() -> String { "b\(next())@192.0.2.1" }
        func newTag() -> String { "pb\(next())" }
        func newBranch() -> String { "z9hG4bK-pb\(next())" }
        func via(for destination: SIPDestination?) -> String {
            local.via(for: destination?.transport, branch: newBranch())
        }
        func contact(user: String?, for destination: SIPDestination?) -> String {
            local.contact(user: user, for: destination?.transport)
        }
        func address(of peer: String) -> SIPDestination? {
            peers[peer].map { SIPDestination(transport: .udp, address: $0) }
        }
        private func name(_ destination: SIPDestination) -> String {
            peers.first { $0.value == destination.address }?.key ?? "\(destination.address)"
        }

        func track(_ call: Call, callID: String) { calls[callID] = call }
        func remove(_ call: Call) { calls = calls.filter { $0.value !== call } }
        func submit(_ record: CallRecord) { records.append(record) }
        func attemptEnded(peer: String, status: Int) { attempts.append((peer, status)) }
        func sendStateless(_ message: SIPMessage, to destination: SIPDestination) {
            wire.append(Sent(to: name(destination), message: message))
        }
        func respond(_ response: SIPMessage, to request: SIPMessage) { wire.append(Sent(to: "A", message: response)) }
        func sendRequest(
            _ request: SIPMessage, to destination: SIPDestination, timerB: TimeAmount?,
            handler: @escaping (ClientEvent) -> Void
        ) {
            wire.append(Sent(to: name(destination), message: request))
            open.append(Open(to: name(destination), request: request, handler: handler))
        }
        func sendRequest(
            _ request: SIPMessage, to destination: SIPDestination, peer: String,
            resent: @escaping (SIPMessage) -> Void, handler: @escaping (ClientEvent) -> Void
        ) {
            sendRequest(request, to: destination, timerB: nil, handler: handler)
        }

        /// The ladder so far as `to method-or-status` lines, e.g. `gw INVITE`, `A 180`.
        var ladder: [String] {
            wire.map { "\($0.to) \($0.message.statusCode.map(String.init) ?? $0.message.method)" }
        }

        /// Answers the oldest open `method` request to `peer` with `status` (with `body` as SDP, if any).
        func answer(_ peer: String, _ method: String, _ status: Int, body: String? = nil) {
            guard let i = open.firstIndex(where: { $0.to == peer && $0.request.method == method }) else {
                Issue.record("no open \(method) to \(peer) in \(ladder)")
                return
            }
            let request = open[i].request
            let handler = open[i].handler
            if status >= 200 { open.remove(at: i) }
            var content: SIPMessage?
            if let body {
                content = SIPMessage(
                    startLine: request.startLine, headers: [SIPHeader("Content-Type", "application/sdp")],
                    body: Array(body.utf8))
            }
            let response = Relay.response(
                status, Relay.reasonPhrase(status), to: request, toTag: "\(peer)-tag",
                contact: "<sip:\(peer)@127.0.0.1>", content: content)
            handler(.response(response))
        }

        /// The oldest open `method` request to `peer` ends without an answer (Timer B or F).
        func fail(_ peer: String, _ method: String, _ event: ClientEvent = .timeout) {
            guard let i = open.firstIndex(where: { $0.to == peer && $0.request.method == method }) else {
                Issue.record("no open \(method) to \(peer) in \(ladder)")
                return
            }
            open.remove(at: i).handler(event)
        }

        func advance(seconds: Double) {
            loop.advanceTime(by: .milliseconds(Int64(seconds * 1000)))
        }
    }

    static let sdp =
        "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8\r\n"

    static func site() throws -> Site {
        let config = """
            routes: routes.yaml
            redirects: follow
            peers:
              - name: pbx
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5070
              - name: gw
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5080
              - name: gw2
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5081
            """
        let routes = """
            routes:
              - {name: out, match: {from: pbx}, targets: [gw, gw2]}
            """
        let (site, d, _) = try ConfigurationTests.load(config: config, routes: routes)
        try #require(!d.hasErrors, "\(d.items)")
        return try #require(site)
    }

    /// The caller's INVITE through the request chain and into a call, as the shard starts one.
    static func call(
        _ host: Host, offer: Bool = true, ringTimeout: TimeAmount? = nil
    ) throws -> (Call, SIPMessage) {
        var invite = try SIPParser().parse(try TestSupport.fixture("pbx-invite-national.sip"))
        if !offer {
            invite.body = []
            invite.removeHeaders { $0.hasName("content-type") }
        }
        let site = try Self.site()
        var state = RequestState(site: site, message: invite)
        #expect(RequestChain.standard.run(&state, in: OfflineEnvironment(source: "pbx")) == .toTargets)
        let call = Call(
            shard: host, site: site, invite: invite, source: "pbx",
            from: SIPDestination(transport: .udp, address: try SocketAddress(ipAddress: "127.0.0.1", port: 5070)),
            route: "out", targets: state.targets)
        call.house = state.house
        call.houseSDP = state.houseSDP
        call.ringTimeout = ringTimeout
        call.tryNextTarget()
        return (call, invite)
    }

    /// The caller's in-dialog request on the A leg.
    static func fromCaller(_ method: String, _ call: Call, body: String? = nil) -> SIPMessage {
        var a = call.a
        // The caller's side of the dialog: its tag is the remote one for Patchbay.
        var from = a.remoteURI
        from.tag = a.remoteTag
        var to = a.localURI
        to.tag = a.localTag
        let m = CallLeg.request(
            method, uri: SIPURI(host: "192.0.2.1"), from: from, to: to, callID: a.callID,
            cseq: 102, via: "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-caller-\(method)",
            contact: "<sip:2345@127.0.0.1:5070>",
            maxForwards: 70)
        a.remoteCSeq = 102
        var message = m
        if let body {
            message.headers.append(SIPHeader("Content-Type", "application/sdp"))
            message.body = Array(body.utf8)
        }
        return message
    }

    @Test func aCallIsSetUpAndTheCallerHangsUp() throws {
        //  caller (A)         Patchbay            gw (B)
        //     | INVITE -------> |                   |
        //     |                 | INVITE ---------> |
        //     | <-------- 180 - | <------------ 180 |
        //     | <-------- 200 - | <------------ 200 |
        //     |                 | ACK ------------> |
        //     | ACK ----------> |                   |
        //     | BYE ----------> | BYE ------------> |
        //     | <-------- 200 - | <------------ 200 |
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        #expect(host.ladder == ["gw INVITE"])
        host.answer("gw", "INVITE", 180)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        #expect(host.ladder == ["gw INVITE", "A 180", "gw ACK", "A 200"])
        #expect(call.state == .confirmed)
        call.inDialogRequest(Self.fromCaller("ACK", call), fromA: true)
        call.inDialogRequest(Self.fromCaller("BYE", call), fromA: true)
        #expect(host.ladder.suffix(2) == ["A 200", "gw BYE"])
        host.answer("gw", "BYE", 200)
        #expect(call.state == .ended)
        let record = try #require(host.records.first)
        #expect(record.endedBy == "caller")
        #expect(record.target == "gw")
        #expect(host.attempts.map(\.status) == [200])
        #expect(host.calls.isEmpty, "the call left the shard")
        // The ACK came before the first retransmission: none was sent.
        host.advance(seconds: 5)
        #expect(host.ladder.filter { $0 == "A 200" }.count == 2, "the 200 to the INVITE and the 200 to the BYE")
    }

    @Test func a503FromTheFirstTargetFailsOverToTheNext() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 503)
        #expect(host.ladder == ["gw INVITE", "gw2 INVITE"])
        host.answer("gw2", "INVITE", 486)
        #expect(host.ladder == ["gw INVITE", "gw2 INVITE", "A 486"])
        #expect(call.state == .ended)
        #expect(host.records.first?.attempts.map(\.status) == [503, 486])
    }

    @Test func aTargetThatTimesOutLosesTheCallAndItsLate200IsAcknowledgedAndHungUp() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        let firstInvite = host.wire[0].message
        host.fail("gw", "INVITE")
        #expect(host.ladder == ["gw INVITE", "gw2 INVITE"])
        // gw answers after all: its 2xx matches no transaction and reaches the call.
        let late = Relay.response(200, "OK", to: firstInvite, toTag: "late", contact: "<sip:gw@127.0.0.1>")
        #expect(call.strayResponse(late))
        #expect(host.ladder.suffix(2) == ["gw ACK", "gw BYE"])
        // Its retransmission gets the same ACK again, not another BYE.
        #expect(call.strayResponse(late))
        #expect(host.ladder.suffix(1) == ["gw ACK"])
        #expect(host.records.isEmpty, "the call goes on with gw2")
    }

    @Test func noAnswerWithinTheRingTimeoutCancelsAndTriesTheNextTarget() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, ringTimeout: .seconds(10))
        host.answer("gw", "INVITE", 180)
        host.advance(seconds: 9.9)
        #expect(host.ladder == ["gw INVITE", "A 180"])
        host.advance(seconds: 0.2)
        #expect(host.ladder == ["gw INVITE", "A 180", "gw CANCEL"])
        host.answer("gw", "CANCEL", 200)
        host.answer("gw", "INVITE", 487)
        #expect(host.ladder.last == "gw2 INVITE")
        #expect(call.state == .routing)
        #expect(host.attempts.map(\.status) == [480])
    }

    @Test func theCallerCancelsWhileItRings() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 180)
        call.inDialogRequest(Self.fromCaller("CANCEL", call), fromA: true)
        #expect(host.ladder == ["gw INVITE", "A 180", "A 200", "gw CANCEL", "A 487"])
        #expect(call.state == .ended)
        #expect(host.records.first?.endedBy == "caller (cancel)")
        #expect(host.records.first?.attempts.map(\.status) == [487])
    }

    @Test func aDelayedOfferIsAnsweredInTheCallersAck() throws {
        //  caller (A)         Patchbay            gw (B)
        //     | INVITE (no SDP) | INVITE (no SDP) > |
        //     | <-- 200 (offer) | <------ 200 offer |
        //     | ACK (answer) -> | ACK (answer) ---> |
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, offer: false)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        #expect(host.ladder == ["gw INVITE", "A 200"], "no ACK to gw before the caller's")
        call.inDialogRequest(Self.fromCaller("ACK", call, body: Self.sdp), fromA: true)
        #expect(host.ladder == ["gw INVITE", "A 200", "gw ACK"])
        let ack = try #require(host.wire.last?.message)
        #expect(!ack.body.isEmpty, "the caller's answer goes to gw in the ACK")
    }

    @Test func withoutTheCallersAckThe200IsRetransmittedThenBothLegsAreHungUp() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        // T1 doubling to T2: 0.5, 1.5, 3.5, 7.5 s, then every 4 s; RFC 3261 gives up after 64*T1 (32 s).
        host.advance(seconds: 31.9)
        // The first 200 goes through the INVITE's server transaction ("A"), the call's own retransmissions
        // statelessly to the caller's address ("pbx").
        #expect(host.ladder.filter { $0 == "A 200" }.count == 1)
        #expect(host.ladder.filter { $0 == "pbx 200" }.count == 10)
        #expect(host.ladder.last == "pbx 200")
        host.advance(seconds: 4)
        #expect(host.ladder.suffix(2) == ["pbx BYE", "gw BYE"])
        host.answer("pbx", "BYE", 200)
        #expect(call.state == .ended)
        #expect(host.records.first?.endedBy == "no ACK")
    }

    @Test func drainEndsAConfirmedCallWithByeBothWays() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        call.inDialogRequest(Self.fromCaller("ACK", call), fromA: true)
        call.shutdown()
        #expect(host.ladder.suffix(2) == ["pbx BYE", "gw BYE"])
        host.answer("pbx", "BYE", 200)
        #expect(host.records.first?.endedBy == "shutdown")
    }

    @Test func aReInviteFromTheCallerIsRelayedAndItsAnswerAcknowledgedOnTheFarLeg() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        call.inDialogRequest(Self.fromCaller("ACK", call), fromA: true)
        let hold = Self.sdp.replacingOccurrences(of: "RTP/AVP 8\r\n", with: "RTP/AVP 8\r\na=sendonly\r\n")
        call.inDialogRequest(Self.fromCaller("INVITE", call, body: hold), fromA: true)
        #expect(host.ladder.last == "gw INVITE")
        let reInvite = try #require(host.wire.last?.message)
        #expect(String(decoding: reInvite.body, as: UTF8.self).contains("a=sendonly"))
        #expect(reInvite.cseq?.number == 2, "the B leg's own CSeq, one past its INVITE")
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        #expect(host.ladder.suffix(2) == ["A 200", "gw ACK"])
    }

    @Test func aRequestInsideTheDialogBeforeTheAnswerGets481() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        call.inDialogRequest(Self.fromCaller("INFO", call), fromA: true)
        #expect(host.ladder.last == "A 481", "nothing is relayed before the call is answered")
        #expect(call.state == .routing)
    }
}
