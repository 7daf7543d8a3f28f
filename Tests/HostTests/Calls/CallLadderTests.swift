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
        /// A peer's further addresses (its DNS servers after the first): shown on the wire as `gw/2`, `gw/3`.
        var alternates: [String: [SocketAddress]] = [:]
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

        /// The shortest wait allowed, so a ladder's times are known.
        func randomDelay(in range: ClosedRange<Int64>) -> TimeAmount { .milliseconds(range.lowerBound) }
        func newCallID() -> String { "b\(next())@192.0.2.1" }
        func newTag() -> String { "pb\(next())" }
        func newBranch() -> String { "z9hG4bK-pb\(next())" }
        func via(for destination: SIPDestination?) -> String {
            local.via(for: destination?.transport, branch: newBranch())
        }
        func contact(user: String?, for destination: SIPDestination?) -> String {
            local.contact(user: user, for: destination?.transport)
        }
        func destinations(of peer: String) -> [SIPDestination] {
            ([peers[peer]].compactMap { $0 } + (alternates[peer] ?? [])).map {
                SIPDestination(transport: .udp, address: $0)
            }
        }
        private func name(_ destination: SIPDestination) -> String {
            if let peer = peers.first(where: { $0.value == destination.address })?.key { return peer }
            for (peer, list) in alternates {
                if let i = list.firstIndex(of: destination.address) { return "\(peer)/\(i + 2)" }
            }
            return "\(destination.address)"
        }

        func track(_ call: Call, callID: String) { calls[callID] = call }
        func remove(_ call: Call) { calls = calls.filter { $0.value !== call } }
        func submit(_ record: CallRecord) { records.append(record) }
        func attemptEnded(peer: String, status: Int) { attempts.append((peer, status)) }
        func sendStateless(_ message: SIPMessage, to destination: SIPDestination) {
            wire.append(Sent(to: name(destination), message: message))
        }
        func respond(_ response: SIPMessage, to request: SIPMessage) { wire.append(Sent(to: "A", message: response)) }

        /// rtpengine as the ladder sees it: each command is a line (`rtpengine offer`), answered by the test.
        var media: [(command: MediaCommand, completion: (MediaOutcome) -> Void)] = []
        var mediaLog: [MediaCommand] = []
        var deleted: [String] = []
        func media(_ command: MediaCommand, completion: @escaping (MediaOutcome) -> Void) {
            wire.append(
                Sent(
                    to: "rtpengine",
                    message: SIPMessage(
                        startLine: .request(method: command.kind.rawValue, uri: "ng:", version: "SIP/2.0"))))
            media.append((command, completion))
            mediaLog.append(command)
        }
        var played: [String] = []
        /// Peers whose `limits` are reached, and the slots given back.
        var atLimit: Set<String> = []
        var released: [String] = []
        func admitOutbound(to peer: String, limits: PatchbayConfiguration.PeerLimits) -> Bool {
            !atLimit.contains(peer)
        }
        func releasePeer(_ peer: String) { released.append(peer) }
        func playDTMF(callID: String, instance: String, fromTag: String, code: String, durationMilliseconds: Int) {
            played.append("\(fromTag):\(code):\(durationMilliseconds)")
        }
        func deleteMedia(callID: String, instance: String) {
            wire.append(
                Sent(
                    to: "rtpengine",
                    message: SIPMessage(startLine: .request(method: "delete", uri: "ng:", version: "SIP/2.0"))))
            deleted.append(callID)
        }
        /// rtpengine answers the oldest command: the SDP it got with its own address (`c=IN IP4 203.0.113.9`).
        func mediaAnswer(instance: String = "r1") {
            guard !media.isEmpty else {
                Issue.record("no rtpengine command open in \(ladder)")
                return
            }
            let (command, completion) = media.removeFirst()
            let text = String(decoding: command.sdp, as: UTF8.self)
                .replacingOccurrences(of: "127.0.0.1", with: "203.0.113.9")
            completion(.sdp(Array(text.utf8), instance: instance))
        }
        func mediaFail(_ reason: String = "no rtpengine instance answered") {
            guard !media.isEmpty else {
                Issue.record("no rtpengine command open in \(ladder)")
                return
            }
            media.removeFirst().completion(.failed(reason))
        }
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
        func answer(
            _ peer: String, _ method: String, _ status: Int, body: String? = nil, headers: [SIPHeader] = []
        ) {
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
            var response = Relay.response(
                status, Relay.reasonPhrase(status), to: request, toTag: "\(peer)-tag",
                contact: "<sip:\(peer)@127.0.0.1>", content: content)
            response.headers += headers
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

    /// `top`: more top-level keys; `pbxExtra`, `gwExtra`: more keys of those peers (indented by four).
    static func site(top: String = "", pbxExtra: String = "", gwExtra: String = "") throws -> Site {
        let config = """
            routes: routes.yaml
            redirects: follow
            \(top)
            peers:
              - name: pbx
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5070
            \(pbxExtra)
              - name: gw
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5080
            \(gwExtra)
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
        _ host: Host, offer: Bool = true, ringTimeout: TimeAmount? = nil, callerHeaders: [SIPHeader] = [],
        site: Site? = nil
    ) throws -> (Call, SIPMessage) {
        var invite = try SIPParser().parse(try TestSupport.fixture("pbx-invite-national.sip"))
        invite.removeHeaders { $0.hasName("supported") }
        invite.headers += callerHeaders
        if !offer {
            invite.body = []
            invite.removeHeaders { $0.hasName("content-type") }
        }
        let site = try site ?? Self.site()
        var state = RequestState(site: site, message: invite)
        #expect(RequestChain.standard.run(&state, in: OfflineEnvironment(source: "pbx")) == .toTargets)
        let call = Call(
            shard: host, site: site, invite: invite, source: "pbx",
            from: SIPDestination(transport: .udp, address: try SocketAddress(ipAddress: "127.0.0.1", port: 5070)),
            route: "out", targets: state.targets)
        call.setUp { machine in
            machine.house = state.house
            machine.houseSDP = state.houseSDP
            machine.ringTimeout = ringTimeout
        }
        call.tryNextTarget()
        return (call, invite)
    }

    /// The caller's in-dialog request on the A leg, or with `fromCallee` the callee's on the B leg.
    static func fromCaller(
        _ method: String, _ call: Call, body: String? = nil, cseq: UInt32 = 102, fromCallee: Bool = false
    ) -> SIPMessage {
        let leg = fromCallee ? call.b! : call.a
        // The peer's side of the dialog: its tag is the remote one for Patchbay.
        var from = leg.remoteURI
        from.tag = leg.remoteTag
        var to = leg.localURI
        to.tag = leg.localTag
        let peer = fromCallee ? "127.0.0.1:5080" : "127.0.0.1:5070"
        var message = CallLeg.request(
            method, uri: SIPURI(host: "192.0.2.1"), from: from, to: to, callID: leg.callID,
            cseq: cseq, via: "SIP/2.0/UDP \(peer);branch=z9hG4bK-peer-\(method)-\(cseq)",
            contact: "<sip:peer@\(peer)>", maxForwards: 70)
        if let body {
            message.headers.append(SIPHeader("Content-Type", "application/sdp"))
            message.body = Array(body.utf8)
        }
        return message
    }

    /// A confirmed call, its 200 ACKed.
    static func confirmedCall(_ host: Host) throws -> Call {
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        call.inDialogRequest(Self.fromCaller("ACK", call, cseq: 101), fromA: true)
        host.wire = []
        return call
    }

    static let hold = sdp.replacingOccurrences(of: "RTP/AVP 8\r\n", with: "RTP/AVP 8\r\na=sendonly\r\n")

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

    @Test func aPeersNextServerIsTriedOn503AndTimeoutBeforeTheRoutesNextTarget() throws {
        //  caller (A)     Patchbay       gw (server 1)   gw/2 (server 2)   gw/3 (server 3)   gw2
        //     | INVITE -> | INVITE -----> |                |                 |               |
        //     |           | <-------- 503 |                |                 |               |
        //     |           | INVITE ----------------------> | (no answer)     |               |
        //     |           | INVITE ---------------------------------------> |               |
        //     |           | <------------------------------------------ 486 |               |
        //     | <---- 486 |    (busy is the peer's answer, not a server's failure: gw2 is not tried)
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        host.alternates["gw"] = try [5082, 5083].map { try SocketAddress(ipAddress: "127.0.0.2", port: $0) }
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 503)
        #expect(host.ladder == ["gw INVITE", "gw/2 INVITE"])
        host.fail("gw/2", "INVITE")
        #expect(host.ladder == ["gw INVITE", "gw/2 INVITE", "gw/3 INVITE"])
        host.answer("gw/3", "INVITE", 486)
        #expect(host.ladder.last == "A 486")
        #expect(call.state == .ended)
        #expect(host.records.first?.attempts.map(\.peer) == ["gw", "gw", "gw"])
        #expect(host.records.first?.attempts.map(\.status) == [503, 408, 486])
    }

    @Test func aFailoverCodeOtherThan503GoesToTheRoutesNextTargetNotTheNextServer() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        host.alternates["gw"] = [try SocketAddress(ipAddress: "127.0.0.2", port: 5082)]
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 480)
        #expect(host.ladder == ["gw INVITE", "gw2 INVITE"], "480 says the user is not available, wherever asked")
        host.answer("gw2", "INVITE", 200, body: Self.sdp)
        #expect(call.state == .confirmed)
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

    @Test func holdByReInviteIsRelayedAndThe200RetransmittedUntilTheCallersAck() throws {
        //  caller (A)              Patchbay                 gw (B)
        //     | re-INVITE (sendonly) -> | re-INVITE (sendonly) -> |
        //     | <------------- 200 ---- | <-------------- 200 --- |
        //     |                         | ACK -----------------> |
        //     | <------------- 200 ---- | (0.5 s: no ACK yet)     |
        //     | ACK ------------------> |                         |
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let call = try Self.confirmedCall(host)
        call.inDialogRequest(Self.fromCaller("INVITE", call, body: Self.hold), fromA: true)
        #expect(host.ladder == ["gw INVITE"])
        let reInvite = try #require(host.wire.last?.message)
        #expect(String(decoding: reInvite.body, as: UTF8.self).contains("a=sendonly"))
        #expect(reInvite.cseq?.number == 2, "the B leg's own CSeq, one past its INVITE")
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        #expect(host.ladder == ["gw INVITE", "A 200", "gw ACK"])
        host.advance(seconds: 0.6)
        #expect(host.ladder.last == "pbx 200", "the 2xx again: Patchbay is the caller's UAS")
        call.inDialogRequest(Self.fromCaller("ACK", call), fromA: true)
        host.advance(seconds: 10)
        #expect(host.ladder == ["gw INVITE", "A 200", "gw ACK", "pbx 200"])
        // The callee's 2xx again (Patchbay's ACK was lost): the same ACK again.
        let again = Relay.response(200, "OK", to: reInvite, toTag: "gw-tag", contact: "<sip:gw@127.0.0.1>")
        #expect(call.strayResponse(again))
        #expect(host.ladder.last == "gw ACK")
        #expect(host.wire.last?.message.cseq?.number == 2)
    }

    @Test func aReInviteWithoutSDPTakesTheOfferFromThe200AndTheAnswerFromTheCallersAck() throws {
        //  caller (A)              Patchbay                 gw (B)
        //     | re-INVITE (no SDP) -> | re-INVITE (no SDP) ---> |
        //     | <------- 200 (offer) | <--------- 200 (offer) - |
        //     | ACK (answer) -------> | ACK (answer) ---------> |
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let call = try Self.confirmedCall(host)
        call.inDialogRequest(Self.fromCaller("INVITE", call), fromA: true)
        #expect(host.wire.last?.message.body.isEmpty == true)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        #expect(host.ladder == ["gw INVITE", "A 200"], "no ACK to gw until the caller answers")
        #expect(host.wire.last?.message.body.isEmpty == false, "the offer reaches the caller")
        call.inDialogRequest(Self.fromCaller("ACK", call, body: Self.hold), fromA: true)
        #expect(host.ladder == ["gw INVITE", "A 200", "gw ACK"])
        let ack = try #require(host.wire.last?.message)
        #expect(String(decoding: ack.body, as: UTF8.self).contains("a=sendonly"), "the caller's answer")
        #expect(ack.cseq?.number == 2)
    }

    @Test func aReInviteFromTheCalleeReachesTheCaller() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let call = try Self.confirmedCall(host)
        call.inDialogRequest(Self.fromCaller("INVITE", call, body: Self.hold, cseq: 7, fromCallee: true), fromA: false)
        #expect(host.ladder == ["pbx INVITE"])
        #expect(host.wire.last?.message.cseq?.number == 1, "the A leg's first request of Patchbay's own")
        host.answer("pbx", "INVITE", 200, body: Self.sdp)
        #expect(host.ladder == ["pbx INVITE", "A 200", "pbx ACK"])
        call.inDialogRequest(Self.fromCaller("ACK", call, cseq: 7, fromCallee: true), fromA: false)
        host.advance(seconds: 5)
        #expect(host.ladder == ["pbx INVITE", "A 200", "pbx ACK"], "no retransmission after the callee's ACK")
    }

    @Test func crossingReInvitesGet491AndASecondOneFromTheSameSide500() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let call = try Self.confirmedCall(host)
        call.inDialogRequest(Self.fromCaller("INVITE", call, body: Self.hold), fromA: true)
        // The callee's own re-INVITE crosses the caller's: glare (RFC 3261 section 14.2).
        call.inDialogRequest(Self.fromCaller("INVITE", call, body: Self.sdp, cseq: 7, fromCallee: true), fromA: false)
        #expect(host.ladder == ["gw INVITE", "A 491"])
        // The caller again before its first got an answer.
        call.inDialogRequest(Self.fromCaller("INVITE", call, body: Self.sdp, cseq: 103), fromA: true)
        #expect(host.ladder.last == "A 500")
        #expect(host.wire.last?.message.header("Retry-After") != nil)
        // The far side refuses: its 488 goes back, and the next re-INVITE may go.
        host.answer("gw", "INVITE", 488)
        #expect(host.ladder.last == "A 488")
        call.inDialogRequest(Self.fromCaller("INVITE", call, body: Self.sdp, cseq: 104), fromA: true)
        #expect(host.ladder.last == "gw INVITE")
        #expect(call.state == .confirmed)
    }

    @Test func withoutAnAckForARelayedReInvitesTwoHundredTheCallEnds() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let call = try Self.confirmedCall(host)
        call.inDialogRequest(Self.fromCaller("INVITE", call, body: Self.hold), fromA: true)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        host.advance(seconds: 36)
        #expect(host.ladder.suffix(2) == ["pbx BYE", "gw BYE"])
        host.answer("pbx", "BYE", 200)
        #expect(call.state == .ended)
        #expect(host.records.first?.endedBy == "no ACK")
    }

    @Test func updateAndInfoAreRelayedInTheEarlyDialog() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 183, body: Self.sdp)
        call.inDialogRequest(Self.fromCaller("UPDATE", call, body: Self.hold), fromA: true)
        #expect(host.ladder == ["gw INVITE", "A 183", "gw UPDATE"])
        #expect(String(decoding: host.wire.last!.message.body, as: UTF8.self).contains("a=sendonly"))
        host.answer("gw", "UPDATE", 200, body: Self.sdp)
        #expect(host.ladder.last == "A 200")
        var info = Self.fromCaller("INFO", call, cseq: 3, fromCallee: true)
        info.headers.append(SIPHeader("Content-Type", "application/dtmf-relay"))
        info.body = Array("Signal=5\r\nDuration=160\r\n".utf8)
        call.inDialogRequest(info, fromA: false)
        #expect(host.ladder.last == "pbx INFO")
        #expect(String(decoding: host.wire.last!.message.body, as: UTF8.self).contains("Signal=5"))
        host.answer("pbx", "INFO", 200)
        #expect(host.ladder.last == "A 200")
        #expect(call.state == .early)
    }

    @Test func aRequestInsideTheDialogBeforeTheAnswerGets481() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        call.inDialogRequest(Self.fromCaller("INFO", call), fromA: true)
        #expect(host.ladder.last == "A 481", "nothing is relayed before the call is answered")
        #expect(call.state == .routing)
    }

    // MARK: Reliable provisional responses (RFC 3262)

    static let reliable = [SIPHeader("Require", "100rel"), SIPHeader("RSeq", "1")]

    /// The caller's PRACK for Patchbay's reliable 18x with `rseq`.
    static func prack(_ call: Call, rseq: Int, cseq: UInt32 = 102) -> SIPMessage {
        var m = Self.fromCaller("PRACK", call, cseq: cseq)
        m.headers.append(SIPHeader("RAck", "\(rseq) 101 INVITE"))
        return m
    }

    @Test func bothSidesDo100relSoThePrackIsRelayedEndToEnd() throws {
        //  caller (A)                 Patchbay                   gw (B)
        //     | INVITE (Supported: 100rel) | INVITE (Supported) --> |
        //     | <- 180 (RSeq 1) ---------- | <-- 180 (RSeq 1) ----- |
        //     | <- 180 again at T1 ------- |                        |
        //     | PRACK (RAck 1 101) ------> | PRACK (RAck 1 1) ----> |
        //     | <------------------- 200 - | <-------------- 200 -- |
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, callerHeaders: [SIPHeader("Supported", "100rel")])
        #expect(host.wire.last?.message.values("Supported").contains("100rel") == true)
        host.answer("gw", "INVITE", 180, headers: Self.reliable)
        #expect(host.ladder == ["gw INVITE", "A 180"])
        let ringing = try #require(host.wire.last?.message)
        #expect(ringing.header("RSeq") == "1")
        #expect(ringing.values("Require").contains("100rel"))
        host.advance(seconds: 0.6)
        #expect(host.ladder == ["gw INVITE", "A 180", "pbx 180"], "retransmitted until PRACKed")
        // The callee's own retransmission of its 180 is not relayed again.
        host.answer("gw", "INVITE", 180, headers: Self.reliable)
        #expect(host.ladder.count == 3)
        // An offer in the PRACK (RFC 3262 section 5) goes along, through both adapters, and the answer comes back.
        var prack = Self.prack(call, rseq: 1)
        prack.headers.append(SIPHeader("Content-Type", "application/sdp"))
        prack.body = Array(Self.hold.utf8)
        call.inDialogRequest(prack, fromA: true)
        #expect(host.ladder.last == "gw PRACK")
        #expect(host.wire.last?.message.header("RAck") == "1 1 INVITE")
        #expect(String(decoding: host.wire.last!.message.body, as: UTF8.self).contains("a=sendonly"))
        host.answer("gw", "PRACK", 200, body: Self.sdp)
        #expect(host.ladder.last == "A 200")
        #expect(host.wire.last?.message.body.isEmpty == false, "the answer reaches the caller")
        host.advance(seconds: 5)
        #expect(host.ladder == ["gw INVITE", "A 180", "pbx 180", "gw PRACK", "A 200"])
    }

    @Test func aCalleesReliable183ReachesACallerWithout100relAsAnOrdinary183() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 183, body: Self.sdp, headers: Self.reliable)
        #expect(host.ladder == ["gw INVITE", "A 183", "gw PRACK"], "Patchbay PRACKs the callee itself")
        let progress = try #require(host.wire[1].message)
        #expect(progress.header("RSeq") == nil)
        #expect(!progress.body.isEmpty, "the early media's SDP reaches the caller")
        #expect(host.wire.last?.message.header("RAck") == "1 1 INVITE")
        host.answer("gw", "PRACK", 200)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        #expect(host.ladder.suffix(2) == ["gw ACK", "A 200"])
        #expect(call.state == .confirmed)
    }

    @Test func aCallerThatRequires100relGetsReliable18xFromPatchbayOneAtATime() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, callerHeaders: [SIPHeader("Require", "100rel")])
        host.answer("gw", "INVITE", 180)
        host.answer("gw", "INVITE", 183, body: Self.sdp)
        #expect(host.ladder == ["gw INVITE", "A 180"], "the 183 waits for the 180's PRACK")
        // A PRACK for something else is refused.
        call.inDialogRequest(Self.prack(call, rseq: 7), fromA: true)
        #expect(host.ladder.last == "A 481")
        call.inDialogRequest(Self.prack(call, rseq: 1), fromA: true)
        #expect(host.ladder.suffix(2) == ["A 200", "A 183"], "answered by Patchbay, then the next one")
        #expect(host.wire.last?.message.header("RSeq") == "2")
        call.inDialogRequest(Self.prack(call, rseq: 2, cseq: 103), fromA: true)
        #expect(host.ladder.last == "A 200")
        #expect(!host.ladder.contains("gw PRACK"), "the callee sent nothing reliable")
    }

    @Test func aReliable18xNeverPrackedEndsTheCallWith500() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, callerHeaders: [SIPHeader("Require", "100rel")])
        host.answer("gw", "INVITE", 180)
        host.advance(seconds: 40)
        #expect(host.ladder.contains("gw CANCEL"))
        #expect(host.ladder.last == "A 500")
        #expect(call.state == .ended)
        #expect(host.records.first?.endedBy == "no PRACK")
    }

    @Test func aTargetWithPrackRequiredGetsRequire100rel() throws {
        let site = try Self.site(gwExtra: "    prack: required")
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        _ = try Self.call(host, site: site)
        let invite = try #require(host.wire.first?.message)
        #expect(invite.values("Require") == ["100rel"])
        #expect(invite.values("Supported") == ["100rel"])
    }

    // MARK: Session timers (RFC 4028) and the maximum duration

    @Test func eachLegGetsItsOwnSessionTimerAndAnExpiredOneEndsTheCall() throws {
        //  caller (A): refresher, 120 s        Patchbay        gw (B): Patchbay refreshes, 120 s
        //     | INVITE (SE 120;refresher=uac) -> | INVITE (SE 120;refresher=uac, Min-SE 90) -> |
        //     | <- 200 (SE 120;refresher=uac) -- | <------------ 200 (SE 120;refresher=uac) -- |
        //     |                                   | UPDATE (60 s) ----------------------------> |
        //     |   (no refresh from the caller)    |                                             |
        //     | <-------------- BYE (88 s) ------ | BYE ----------------------------------------> |
        let site = try Self.site(
            pbxExtra: "    session_timer: {expires: 1800, min_se: 90, refresher: patchbay}",
            gwExtra: "    session_timer: {expires: 120, min_se: 90, refresher: patchbay}")
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(
            host, callerHeaders: [SIPHeader("Supported", "timer"), SIPHeader("Session-Expires", "120;refresher=uac")],
            site: site)
        let invite = try #require(host.wire.first?.message)
        #expect(invite.header("Session-Expires") == "120;refresher=uac")
        #expect(invite.header("Min-SE") == "90")
        #expect(invite.values("Supported").contains("timer"))
        host.answer(
            "gw", "INVITE", 200, body: Self.sdp,
            headers: [
                SIPHeader("Session-Expires", "120;refresher=uac"), SIPHeader("Require", "timer"),
                SIPHeader("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE"),
            ])
        let ok = try #require(host.wire.last?.message)
        #expect(ok.header("Session-Expires") == "120;refresher=uac", "the caller refreshes its leg, as it asked")
        #expect(ok.values("Require").contains("timer"))
        call.inDialogRequest(Self.fromCaller("ACK", call, cseq: 101), fromA: true)
        host.advance(seconds: 59)
        #expect(host.ladder.suffix(2) == ["gw ACK", "A 200"], "nothing yet")
        host.advance(seconds: 2)
        #expect(host.ladder.last == "gw UPDATE", "Patchbay refreshes the B leg at half its interval")
        #expect(host.wire.last?.message.header("Session-Expires") == "120;refresher=uac")
        host.answer("gw", "UPDATE", 200, headers: [SIPHeader("Session-Expires", "120;refresher=uac")])
        host.advance(seconds: 26)
        #expect(host.ladder.last == "gw UPDATE")
        host.advance(seconds: 2)
        #expect(host.ladder.suffix(2) == ["pbx BYE", "gw BYE"], "88 s without the caller's refresh")
        host.answer("pbx", "BYE", 200)
        #expect(host.records.first?.endedBy == "session expired")
    }

    @Test func aCallerWithoutTimerSupportIsRefreshedByReInviteWithTheSameSDP() throws {
        let site = try Self.site(pbxExtra: "    session_timer: {expires: 100, min_se: 90, refresher: peer}")
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, site: site)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        let ok = try #require(host.wire.last?.message)
        #expect(ok.header("Session-Expires") == "100;refresher=uas", "a caller without timer cannot refresh")
        #expect(!ok.values("Require").contains("timer"))
        call.inDialogRequest(Self.fromCaller("ACK", call, cseq: 101), fromA: true)
        host.advance(seconds: 51)
        #expect(host.ladder.last == "pbx INVITE")
        let refresh = try #require(host.wire.last?.message)
        #expect(refresh.body == ok.body, "the last SDP Patchbay sent the caller, offered again")
        host.answer("pbx", "INVITE", 200, body: Self.sdp)
        #expect(host.ladder.last == "pbx ACK")
        host.advance(seconds: 51)
        #expect(host.ladder.last == "pbx INVITE", "and again after the next half interval")
        host.answer("pbx", "INVITE", 481)
        #expect(host.ladder.suffix(2) == ["pbx BYE", "gw BYE"])
        #expect(call.state == .ending)
    }

    @Test func a422FromTheTargetIsRetriedWithItsMinSE() throws {
        let site = try Self.site(gwExtra: "    session_timer: {expires: 120, min_se: 90, refresher: patchbay}")
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, site: site)
        host.answer("gw", "INVITE", 422, headers: [SIPHeader("Min-SE", "300")])
        #expect(host.ladder == ["gw INVITE", "gw INVITE"], "the same target again, not the next one")
        let again = try #require(host.wire.last?.message)
        #expect(again.header("Session-Expires") == "300;refresher=uac")
        #expect(again.cseq?.number == 2)
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        #expect(call.state == .confirmed)
        #expect(host.wire.last(where: { $0.message.method == "ACK" })?.message.cseq?.number == 2)
    }

    @Test func theMaximumDurationEndsTheCallWithByeBothWays() throws {
        let site = try Self.site(gwExtra: "    max_call_duration: 20")
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, site: site)
        call.setUp { $0.maxDuration = .seconds(30) }
        host.answer("gw", "INVITE", 200, body: Self.sdp)
        call.inDialogRequest(Self.fromCaller("ACK", call, cseq: 101), fromA: true)
        host.advance(seconds: 19)
        #expect(call.state == .confirmed)
        host.advance(seconds: 2)
        #expect(host.ladder.suffix(2) == ["pbx BYE", "gw BYE"], "the target's 20 s, shorter than the route's 30")
        host.answer("pbx", "BYE", 200)
        #expect(host.records.first?.endedBy == "maximum duration")
    }

    @Test func aRefreshThatMeets491IsRetriedAfterTheWaitOfTheCallIDsOwner() throws {
        let site = try Self.site(gwExtra: "    session_timer: {expires: 120, min_se: 90, refresher: patchbay}")
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host, site: site)
        host.answer("gw", "INVITE", 200, body: Self.sdp, headers: [SIPHeader("Session-Expires", "120;refresher=uac")])
        call.inDialogRequest(Self.fromCaller("ACK", call, cseq: 101), fromA: true)
        host.advance(seconds: 60)
        #expect(host.ladder.last == "gw UPDATE", "the gateway's 200 allowed UPDATE")
        host.answer("gw", "UPDATE", 491)
        host.advance(seconds: 2)
        #expect(host.ladder.filter { $0 == "gw UPDATE" }.count == 1)
        host.advance(seconds: 0.2)
        #expect(host.ladder.filter { $0 == "gw UPDATE" }.count == 2, "2.1 s later: Patchbay owns the B leg's Call-ID")
    }

    @Test func aRedirectIsFollowedThroughTheRoutingTable() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let (call, _) = try Self.call(host)
        host.answer("gw", "INVITE", 302, headers: [SIPHeader("Contact", "<sip:030111222@127.0.0.1:5080>")])
        #expect(host.ladder == ["gw INVITE", "gw INVITE"], "the new number, routed again from the first target")
        #expect(host.wire.last?.message.requestURI?.user?.hasSuffix("30111222") == true)
        #expect(call.state == .routing)
        #expect(host.attempts.map(\.status) == [302])
    }

    @Test func infoIsRelayedBothWaysInTheConfirmedDialog() throws {
        let host = Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let call = try Self.confirmedCall(host)
        var info = Self.fromCaller("INFO", call)
        info.headers.append(SIPHeader("Content-Type", "application/dtmf"))
        info.body = Array("5".utf8)
        call.inDialogRequest(info, fromA: true)
        #expect(host.ladder == ["gw INFO"])
        #expect(host.wire.last?.message.header("Content-Type") == "application/dtmf")
        host.answer("gw", "INFO", 200)
        var back = Self.fromCaller("INFO", call, cseq: 9, fromCallee: true)
        back.headers.append(SIPHeader("Content-Type", "application/dtmf-relay"))
        back.body = Array("Signal=#\r\nDuration=100\r\n".utf8)
        call.inDialogRequest(back, fromA: false)
        #expect(host.ladder == ["gw INFO", "A 200", "pbx INFO"])
        host.answer("pbx", "INFO", 415)
        #expect(host.ladder.last == "A 415", "the caller's refusal goes back to the callee")
        #expect(call.state == .confirmed)
    }
}
