import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import Media

/// Anchored calls through a real `patchbay run`, a real rtpengine and sipp peers, with RTP the test sends and
/// receives itself: rtpengine's inside interface on 127.0.0.3 (the PBX's side), its outside one on 127.0.0.4
/// (the trunk's); the caller's media is on 127.0.0.50, the callee's on 127.0.0.60.
@Suite(
    .serialized,
    .enabled(
        if: SippHarness.sippIsInstalled && RtpEngineUnderTest.isInstalled,
        "sipp (sip-tester) and rtpengine (rtpengine-daemon) are needed"))
struct MediaAnchoringTests {
    static let inside = "127.0.0.3"
    static let outside = "127.0.0.4"
    static let callerHost = "127.0.0.50"
    static let calleeHost = "127.0.0.60"
    /// Through the PBX's access code to a mobile number: the route tries the trunk, then the gateway.
    static let mobile = "0015112345678"

    /// Patchbay, rtpengine and an ng client to look at rtpengine's sessions.
    final class Rig {
        let rtpengine: RtpEngineUnderTest
        let pb: PatchbayUnderTest
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client: NGClient
        let httpPort: Int

        init(
            _ test: String, pbxMedia: String, itspMedia: String, gatewayMedia: String? = nil,
            routes: String = PatchbayUnderTest.routes, rtpengineRunning: Bool = true, dtmfEvents: Bool = false
        ) async throws {
            let eventPort = try RtpEngineUnderTest.freeUDPPort()
            rtpengine = try RtpEngineUnderTest(
                interfaces: ["inside/\(MediaAnchoringTests.inside)", "outside/\(MediaAnchoringTests.outside)"],
                extraArguments: dtmfEvents ? ["--dtmf-log-dest=127.0.0.1:\(eventPort)"] : [])
            client = try await NGClient.start(group: group)
            try await rtpengine.ready(client)
            if !rtpengineRunning { rtpengine.stop() }
            httpPort = try RtpEngineUnderTest.freePort(type: SOCK_STREAM)
            let events = dtmfEvents ? "  dtmf_events: \"127.0.0.1:\(eventPort)\"\n" : ""
            let top = """
                rtpengine:
                  instances: [{name: r1, address: "127.0.0.1:\(rtpengine.ngPort)"}]
                  interfaces: [inside, outside]
                  ping_interval: 1
                \(events)drain_timeout: 1
                http: {address: 127.0.0.1, port: \(httpPort)}
                """
            pb = try await PatchbayUnderTest.start(test, top: top, routes: routes) { config in
                var c = config.replacingOccurrences(
                    of: "    plugin: IPPBX\n", with: "    plugin: IPPBX\n    media: \(pbxMedia)\n")
                c = c.replacingOccurrences(
                    of: "    plugin: ITSPTrunk\n", with: "    plugin: ITSPTrunk\n    media: \(itspMedia)\n")
                if let gatewayMedia {
                    c = c.replacingOccurrences(
                        of: "    plugin: PSTNGateway\n", with: "    plugin: PSTNGateway\n    media: \(gatewayMedia)\n")
                }
                return c
            }
        }

        func stop() async {
            pb.stop()
            rtpengine.stop()
            await client.close()
            try? await group.shutdownGracefully()
        }

        /// A sipp callee (`uas-media`) whose media is `media`: the offer it gets must carry `expectC` in `c=` and must
        /// not contain `forbid`.
        func callee(
            _ label: String, port: UInt16, media: RTPSocket, expectC: String, forbid: String,
            keys: [String: String] = [:]
        ) async throws -> SippPeer {
            try await pb.sipp(
                "uas-media", label: label, port: port, toPatchbay: false,
                keys: Self.mediaKeys(media, expectC: expectC, forbid: forbid).merging(keys) { $1 })
        }

        /// A sipp caller (`uac-media`) whose media is `media`, dialling `service` and holding the call `pause`: the
        /// answer it gets must carry `expectC` in `c=` and must not contain `forbid`.
        func caller(
            _ label: String, port: UInt16, media: RTPSocket, service: String = MediaAnchoringTests.mobile,
            pause: Duration? = nil, expectC: String, forbid: String, keys: [String: String] = [:]
        ) async throws -> SippPeer {
            try await pb.sipp(
                "uac-media", label: label, port: port, service: service, pause: pause,
                keys: Self.mediaKeys(media, expectC: expectC, forbid: forbid).merging(keys) { $1 })
        }

        static func mediaKeys(_ media: RTPSocket, expectC: String, forbid: String) -> [String: String] {
            ["media_host": media.host, "media_port": "\(media.port)", "expect_c": expectC, "forbid": forbid]
        }

        func metric(_ name: String, _ labels: [String: String] = [:]) async throws -> Double? {
            let (_, text) = try await OperationsTests.get(httpPort, "/metrics")
            return OperationsTests.sample(text, name, labels)
        }

        func sessions() async throws -> [String] {
            let answer = try await client.request(.dictionary([("command", .string("list"))]), to: rtpengine.address)
                .get()
            return (answer["calls"]?.list ?? []).compactMap(\.text)
        }

        /// Waits for rtpengine to have no session left (a session deleted is gone at once: `--delete-delay=0`).
        func sessionsGone(timeout: Duration = .seconds(3)) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if (try? await sessions())?.isEmpty == true { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        /// rtpengine's address and port facing each side, once the call's answer has reached it.
        func answeredSession(
            timeout: Duration = .seconds(10), callerHost: String = MediaAnchoringTests.callerHost,
            calleeHost: String = MediaAnchoringTests.calleeHost
        ) async throws -> (
            caller: (String, Int), callee: (String, Int)
        ) {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                for callID in try await sessions() {
                    let query = BencodeValue.dictionary([("command", .string("query")), ("call-id", .string(callID))])
                    // A session listed may be gone by the time it is queried (a target failed over).
                    guard let answer = try? await client.request(query, to: rtpengine.address).get() else { continue }
                    func facing(_ tag: String) -> (String, Int, String)? {
                        guard let stream = answer["tags"]?[tag]?["medias"]?.list?.first?["streams"]?.list?.first,
                            let host = stream["local address"]?.text, let port = stream["local port"]?.integer,
                            let endpoint = stream["endpoint"]?["address"]?.text
                        else { return nil }
                        return (host, port, endpoint)
                    }
                    if let caller = facing("caller"), let callee = facing("callee"),
                        caller.2 == callerHost, callee.2 == calleeHost
                    {
                        return ((caller.0, caller.1), (callee.0, callee.1))
                    }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw PatchbayTestError("rtpengine never had the answered session: \(try await sessions())")
        }
    }

    /// Sends `count` packets each way and returns what each side received.
    static func exchange(
        caller: RTPSocket, callerPT: UInt8, callee: RTPSocket, calleePT: UInt8,
        session: (caller: (String, Int), callee: (String, Int)), count: Int = 25
    ) async throws -> (atCaller: [RTPSocket.Packet], atCallee: [RTPSocket.Packet]) {
        var atCaller: [RTPSocket.Packet] = []
        var atCallee: [RTPSocket.Packet] = []
        for i in 0..<count {
            caller.send(payloadType: callerPT, sequence: UInt16(i), to: session.caller.0, port: session.caller.1)
            callee.send(payloadType: calleePT, sequence: UInt16(i), to: session.callee.0, port: session.callee.1)
            try await Task.sleep(for: .milliseconds(20))
            atCaller += caller.received()
            atCallee += callee.received()
        }
        atCaller += caller.received()
        atCallee += callee.received()
        return (atCaller, atCallee)
    }

    @Test func eachSideSeesOnlyRtpengineOnItsOwnInterfaceAndTheAudioCrosses() async throws {
        let rig = try await Rig(
            #function, pbxMedia: "{mode: anchor, interface: inside}", itspMedia: "{mode: anchor, interface: outside}")
        let caller = try RTPSocket(host: Self.callerHost)
        let callee = try RTPSocket(host: Self.calleeHost)
        let itsp = try await rig.callee(
            "itsp", port: rig.pb.ports.itsp, media: callee, expectC: Self.outside, forbid: Self.callerHost)
        let pbx = try await rig.caller(
            "pbx", port: rig.pb.ports.pbx, media: caller, pause: .seconds(8), expectC: Self.inside,
            forbid: Self.calleeHost)
        let session = try await rig.answeredSession()
        #expect(session.caller.0 == Self.inside && session.callee.0 == Self.outside)
        #expect(try await rig.metric("patchbay_media_sessions") == 1)
        #expect(try await rig.metric("patchbay_rtpengine_up", ["instance": "r1"]) == 1)
        let (_, page) = try await OperationsTests.get(rig.httpPort, "/")
        #expect(page.contains("<h2>Media relay</h2>") && page.contains("data-instance=\"r1\""))
        let (atCaller, atCallee) = try await Self.exchange(
            caller: caller, callerPT: 8, callee: callee, calleePT: 8, session: session)
        #expect(atCallee.count >= 15, "the caller's RTP reached the callee")
        #expect(atCaller.count >= 15, "the callee's RTP reached the caller")
        #expect(atCallee.allSatisfy { $0.source == Self.outside }, "the trunk gets media from the outside address only")
        #expect(atCaller.allSatisfy { $0.source == Self.inside }, "the PBX gets media from the inside address only")
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)")
        #expect(await rig.sessionsGone(), "the BYE deleted the session")
        #expect(try await rig.metric("patchbay_media_sessions") == 0)
        await rig.stop()
    }

    @Test func aG722CallerReachesAPCMAOnlyTrunkThroughTranscoding() async throws {
        let rig = try await Rig(
            #function, pbxMedia: "{mode: pass}", itspMedia: "{mode: anchor, interface: outside, codecs: [PCMA]}")
        let caller = try RTPSocket(host: Self.callerHost)
        let callee = try RTPSocket(host: Self.calleeHost)
        let itsp = try await rig.callee(
            "itsp", port: rig.pb.ports.itsp, media: callee, expectC: Self.outside, forbid: "G722",
            keys: ["expect_pt": "8"])
        let pbx = try await rig.caller(
            "pbx", port: rig.pb.ports.pbx, media: caller, pause: .seconds(8), expectC: Self.inside,
            forbid: Self.calleeHost, keys: ["offer_pt": "9", "offer_codec": "G722/8000", "expect_pt": "9"])
        let session = try await rig.answeredSession()
        let (atCaller, atCallee) = try await Self.exchange(
            caller: caller, callerPT: 9, callee: callee, calleePT: 8, session: session)
        #expect(atCallee.count >= 15, "the caller's G.722 reached the callee")
        #expect(atCaller.count >= 15, "the callee's PCMA reached the caller")
        #expect(Set(atCallee.map(\.payloadType)) == [8], "the trunk gets PCMA, transcoded")
        #expect(Set(atCaller.map(\.payloadType)) == [9], "the caller gets G.722, transcoded")
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)")
        #expect(await rig.sessionsGone())
        await rig.stop()
    }

    /// The first target answers 503 and the second takes the call; a caller cancels while it rings; a call is put
    /// on hold; a call is cut by a drain. Each time rtpengine ends with no session: an abandoned target's session
    /// goes when the next one is tried, the others when the call ends.
    @Test func failoverCancelHoldAndDrainLeaveRtpengineWithNoSession() async throws {
        let rig = try await Rig(
            #function, pbxMedia: "{mode: anchor, interface: inside}", itspMedia: "{mode: anchor, interface: outside}")
        // Failover: the trunk refuses, the gateway (which passes its media) gets the call, anchored for the PBX.
        let caller = try RTPSocket(host: Self.callerHost)
        let callee = try RTPSocket(host: Self.calleeHost)
        let itsp = try await rig.pb.sipp(
            "uas-reject", label: "itsp", port: rig.pb.ports.itsp, toPatchbay: false,
            keys: ["status": "503", "reason": "Service Unavailable"])
        let gw = try await rig.callee(
            "gw", port: rig.pb.ports.gateway, media: callee, expectC: Self.inside, forbid: Self.callerHost)
        let pbx = try await rig.caller(
            "pbx", port: rig.pb.ports.pbx, media: caller, pause: .seconds(1), expectC: Self.inside,
            forbid: Self.calleeHost)
        _ = try await rig.answeredSession()
        #expect(try await rig.sessions().count == 1, "the trunk's session went when the gateway was tried")
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        _ = itsp.stop()
        #expect(await rig.sessionsGone(), "after failover")

        // CANCEL while the trunk rings.
        let ringing = try await rig.pb.sipp(
            "uas-ring-forever", label: "itsp-ring", port: rig.pb.ports.itsp, toPatchbay: false)
        let cancelling = try await rig.pb.sipp(
            "uac-cancel", label: "pbx-cancel", port: rig.pb.ports.pbx, service: Self.mobile,
            keys: ["cancel_ms": "300"])
        #expect(await cancelling.wait(timeout: .seconds(15)) == .exited(0), "\(cancelling.diagnostics)")
        _ = ringing.stop()
        #expect(await rig.sessionsGone(), "after CANCEL")

        // Hold: the re-INVITE's offer and answer go through rtpengine too.
        let held = try await rig.pb.sipp("uas-hold", label: "itsp-hold", port: rig.pb.ports.itsp, toPatchbay: false)
        let holding = try await rig.pb.sipp("uac-hold", label: "pbx-hold", port: rig.pb.ports.pbx, service: Self.mobile)
        #expect(await holding.wait(timeout: .seconds(15)) == .exited(0), "\(holding.diagnostics)")
        #expect(await held.wait(timeout: .seconds(5)) == .exited(0), "\(held.diagnostics)")
        let reInvite = try held.messages().received("INVITE").last
        #expect(reInvite?.body.contains("c=IN IP4 \(Self.outside)") == true, "the hold offer is rtpengine's")
        #expect(await rig.sessionsGone(), "after hold and BYE")

        // Drain: the call still up when the drain time is over is hung up both ways, and its session deleted.
        let up = try await rig.callee(
            "itsp-drain", port: rig.pb.ports.itsp, media: callee, expectC: Self.outside, forbid: Self.callerHost)
        let long = try await rig.caller(
            "pbx-drain", port: rig.pb.ports.pbx, media: caller, pause: .seconds(30), expectC: Self.inside,
            forbid: Self.calleeHost)
        _ = try await rig.answeredSession()
        rig.pb.signal(SIGTERM)
        #expect(await rig.pb.waitForExit(timeout: .seconds(10)) != nil, "the drain ended")
        #expect(await rig.sessionsGone(), "after the drain")
        _ = long.stop()
        _ = up.stop()
        await rig.stop()
    }

    @Test func aStoppedRtpengineFailsARequiredPeersCall() async throws {
        let routes = """
            routes:
              - {name: mobile, match: {from: pbx, to: "+4915"}, targets: [itsp]}
            """
        let rig = try await Rig(
            #function, pbxMedia: "{mode: pass}", itspMedia: "{mode: anchor, interface: outside}", routes: routes,
            rtpengineRunning: false)
        let pbx = try await rig.pb.sipp(
            "uac-expect-status", label: "pbx", port: rig.pb.ports.pbx, service: Self.mobile,
            keys: ["status": "503"])
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(rig.pb.attempts.first?.hasPrefix("itsp:503") == true, "\(rig.pb.attempts)")
        #expect(rig.pb.log.contains("media relay failed"))
        // Pings every second: two unanswered take the instance out.
        let deadline = ContinuousClock.now + .seconds(5)
        while try await rig.metric("patchbay_rtpengine_up", ["instance": "r1"]) != 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await rig.metric("patchbay_rtpengine_up", ["instance": "r1"]) == 0)
        #expect(try await rig.metric("patchbay_media_request_failures") ?? 0 >= 1)
        await rig.stop()
    }

    @Test func aStoppedRtpengineLeavesAnOptionalPeersCallUnanchored() async throws {
        let rig = try await Rig(
            #function, pbxMedia: "{mode: pass}", itspMedia: "{mode: anchor, interface: outside, relay: optional}",
            rtpengineRunning: false)
        // The sockets only give the offer and the answer their ports: no RTP flows without rtpengine here.
        let caller = try RTPSocket(host: Self.callerHost)
        let callee = try RTPSocket(host: Self.calleeHost)
        let itsp = try await rig.callee(
            "itsp", port: rig.pb.ports.itsp, media: callee, expectC: Self.callerHost, forbid: "NO-SUCH-HOST")
        let pbx = try await rig.caller(
            "pbx", port: rig.pb.ports.pbx, media: caller, expectC: Self.calleeHost, forbid: "NO-SUCH-HOST")
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)")
        #expect(rig.pb.log.contains("the call goes on unanchored"))
        await rig.stop()
    }

    /// The PBX sends and takes DTMF as SIP INFO, the trunk in its media: the PBX's INFO becomes telephone-events
    /// the trunk receives (rtpengine's `play DTMF`), and the trunk's telephone-events an INFO the PBX receives
    /// (rtpengine's DTMF events).
    @Test func dtmfCrossesBetweenInfoAndTelephoneEvents() async throws {
        let rig = try await Rig(
            #function, pbxMedia: "{mode: anchor, interface: inside, dtmf: info}",
            itspMedia: "{mode: anchor, interface: outside}", dtmfEvents: true)
        let caller = try RTPSocket(host: Self.callerHost)
        let callee = try RTPSocket(host: Self.calleeHost)
        let itsp = try await rig.pb.sipp(
            "uas-dtmf", label: "itsp", port: rig.pb.ports.itsp, toPatchbay: false,
            keys: ["media_host": Self.calleeHost, "media_port": "\(callee.port)"])
        let pbx = try await rig.pb.sipp(
            "uac-dtmf", label: "pbx", port: rig.pb.ports.pbx, service: Self.mobile, pause: .milliseconds(500),
            keys: ["media_host": Self.callerHost, "media_port": "\(caller.port)", "expect_signal": "7"])
        let session = try await rig.answeredSession()
        // Audio both ways, until the caller's digit 5 has reached the callee as telephone-events.
        var atCallee: [RTPSocket.Packet] = []
        var sequence: UInt16 = 0
        let deadline = ContinuousClock.now + .seconds(5)
        while !atCallee.contains(where: { $0.payloadType == 101 }), ContinuousClock.now < deadline {
            caller.send(payloadType: 8, sequence: sequence, to: session.caller.0, port: session.caller.1)
            callee.send(payloadType: 8, sequence: sequence, to: session.callee.0, port: session.callee.1)
            sequence &+= 1
            try await Task.sleep(for: .milliseconds(20))
            atCallee += callee.received()
            _ = caller.received()
        }
        let events = atCallee.filter { $0.payloadType == 101 }
        #expect(!events.isEmpty, "the INFO's digit reached the trunk as telephone-events")
        #expect(events.allSatisfy { $0.firstPayloadByte == 5 })
        // The callee presses 7: one event, its end packet sent three times (RFC 4733 section 2.5.1.4).
        let start = UInt32(sequence) * 160
        for i in 0..<10 {
            callee.sendEvent(
                7, payloadType: 101, sequence: sequence, timestamp: start, duration: UInt16(i + 1) * 160, end: i >= 7,
                first: i == 0, to: session.callee.0, port: session.callee.1)
            caller.send(payloadType: 8, sequence: sequence, to: session.caller.0, port: session.caller.1)
            sequence &+= 1
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(
            await itsp.wait(timeout: .seconds(5)) == .exited(0), "the INFO did not reach the trunk: \(itsp.diagnostics)"
        )
        #expect(try pbx.messages().received("INFO").first?.body.contains("Signal=7") == true)
        #expect(await rig.sessionsGone())
        await rig.stop()
    }

    /// A trunk that does plain RTP calls a softphone that requires SRTP (baresip, `mediaenc=srtp-mand`, answering
    /// at once): rtpengine offers it SDES-SRTP and terminates it. The trunk decodes baresip's 440 Hz tone from
    /// plain PCMA; baresip decrypts and decodes the trunk's 1 kHz tone. `SDES-pad` on the softphone's side:
    /// rtpengine 10.5 writes unpadded base64 keys, which baresip 1.0 refuses ("srtp keylen is 42 (should be 44)").
    @Test(.enabled(if: BaresipUnderTest.isInstalled, "baresip (baresip-core) is needed"))
    func aPlainRTPTrunkTalksToAnSRTPSoftphone() async throws {
        let rig = try await Rig(
            #function, pbxMedia: "{mode: anchor, interface: inside, srtp: sdes, flags: [SDES-pad]}",
            itspMedia: "{mode: anchor, interface: outside}")
        let phone = try BaresipUnderTest(in: rig.pb.directory, sipPort: rig.pb.ports.pbx, user: "2345", seconds: 14)
        defer { phone.stop() }
        try await Task.sleep(for: .milliseconds(500))
        let trunk = try RTPSocket(host: Self.callerHost)
        let itsp = try await rig.caller(
            "itsp", port: rig.pb.ports.itsp, media: trunk, service: "+49301232345", pause: .seconds(7),
            expectC: Self.outside, forbid: "a=crypto")
        let session = try await rig.answeredSession(calleeHost: "127.0.0.1")
        var atTrunk: [RTPSocket.Packet] = []
        for i in 0..<100 {
            trunk.send(
                payloadType: 8, sequence: UInt16(i), to: session.caller.0, port: session.caller.1,
                payload: ALaw.tone(1000, offset: i * 160))
            try await Task.sleep(for: .milliseconds(20))
            atTrunk += trunk.received()
        }
        #expect(atTrunk.count >= 50, "baresip's SRTP reached the trunk as plain RTP")
        #expect(Set(atTrunk.map(\.payloadType)) == [8])
        #expect(ALaw.rms(atTrunk.suffix(25).flatMap(\.payload)) > 1000, "and decodes to baresip's tone")
        #expect(await itsp.wait(timeout: .seconds(20)) == .exited(0), "\(itsp.diagnostics)")
        #expect(!phone.output.lowercased().contains("keylen"), "\(phone.output)")
        let decoded = try #require(phone.recordings.first { $0.lastPathComponent.hasSuffix("-dec.wav") })
        let samples = try Data(contentsOf: decoded).dropFirst(44)
        let pcm = stride(from: samples.startIndex, to: samples.endIndex - 1, by: 2).map {
            Double(Int16(bitPattern: UInt16(samples[$0]) | UInt16(samples[$0 + 1]) << 8))
        }
        let rms = (pcm.reduce(0) { $0 + $1 * $1 } / Double(max(pcm.count, 1))).squareRoot()
        #expect(rms > 1000, "baresip decrypted and decoded the trunk's tone (\(pcm.count) samples, rms \(rms))")
        #expect(await rig.sessionsGone())
        await rig.stop()
    }
}
