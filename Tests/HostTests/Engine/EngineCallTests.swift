import Foundation
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// Calls through a real `patchbay run` between real sipp peers on 127.0.0.1. Each test reads like the call it
/// places; every process is stopped by its pid. Serialized: timers here are real, and parallel sipp and patchbay
/// processes on two cores would turn the timeout cases into races.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct EngineCallTests {
    /// PBX dials outside line 0 + national 030987654; the gateway must get 030987654, the call completes.
    @Test func normalCallReachesTheGatewayInNationalFormat() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp(
            "uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false,
            keys: ["expect_ruser": "030987654", "forbid_header": "Remote-Party-ID"])
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", keys: ["caller": "2345"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let invite = try #require(try gw.messages().received("INVITE").first)
        #expect(invite.header("From")?.contains("sip:0301232345@") == true, "caller in national format")
        #expect(invite.header("Call-ID")?.hasPrefix("pb") == true, "the B leg has Patchbay's own Call-ID")
        #expect(
            try pbx.messages().received("200").first?.header("Call-ID")
                == (try pbx.messages().sent("INVITE").first?.header("Call-ID")))
        // The call line is logged when the other leg answers Patchbay's BYE, which can be after this peer is done.
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:200"])
    }

    /// A mobile number goes to the trunk: +E.164, an asserted identity, no internal X- header, no G.729.
    @Test func trunkGetsE164IdentityAndFilteredCodecs() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let itsp = try await pb.sipp(
            "uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false,
            keys: [
                "expect_ruser": "+491701234567", "require_header": "P-Asserted-Identity",
                "forbid_header": "X-PBX-Tenant", "forbid_codec": "G729",
            ])
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "001701234567",
            keys: ["caller": "2345", "extra_header": "X-PBX-Tenant: berlin-hq"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)")
        let invite = try #require(try itsp.messages().received("INVITE").first)
        #expect(invite.header("P-Asserted-Identity")?.contains("+49301232345") == true)
        #expect(invite.body.contains("m=audio") && !invite.body.contains("G722"))
    }

    /// An inbound DID call from the trunk reaches the PBX as extension 2345.
    @Test func inboundDIDReachesThePBXAsAnExtension() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let pbx = try await pb.sipp(
            "uas-answer", label: "pbx", port: pb.ports.pbx, toPatchbay: false, keys: ["expect_ruser": "2345"])
        defer { _ = pbx.stop() }
        let itsp = try await pb.sipp(
            "uac-call", label: "itsp", port: pb.ports.itsp, service: "+49301232345", keys: ["caller": "+4940123456"])
        defer { _ = itsp.stop() }
        #expect(await itsp.wait(timeout: .seconds(15)) == .exited(0), "\(itsp.diagnostics)")
        #expect(await pbx.wait(timeout: .seconds(5)) == .exited(0), "\(pbx.diagnostics)")
        #expect(try pbx.messages().received("INVITE").first?.header("From")?.contains("sip:0040123456@") == true)
    }

    /// The callee hangs up: its BYE reaches the caller on the caller's own dialog.
    @Test func calleeHangsUp() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp(
            "uas-hangup", label: "gw", port: pb.ports.gateway, toPatchbay: false, pause: .milliseconds(300))
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .seconds(5))
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        #expect(try pbx.messages().received("BYE").count >= 1)
        #expect(await pb.waitForLog("ended_by=callee"))
    }

    /// The caller cancels while the gateway rings: 200 for the CANCEL, 487 for the INVITE, CANCEL on the B leg.
    @Test func callerCancelsWhileRinging() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-ring-forever", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-cancel", label: "pbx", port: pb.ports.pbx, service: "0030987654", keys: ["cancel_ms": "300"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        #expect(try gw.messages().received("CANCEL").count == 1)
    }

    /// Busy is not a reason to fail over: 486 from the gateway goes back to the caller; the trunk is not tried.
    @Test func busyIsMappedBack() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp(
            "uas-reject", label: "gw", port: pb.ports.gateway, toPatchbay: false,
            keys: ["status": "486", "reason": "Busy Here"])
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-expect-status", label: "pbx", port: pb.ports.pbx, service: "0030987654", keys: ["status": "486"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        #expect(await pb.waitForLog("call failed"))
        #expect(pb.attempts == ["gw:486"])
    }

    /// 503 from the gateway: the trunk, next in the route, answers in E.164.
    @Test func failoverOn503() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp(
            "uas-reject", label: "gw", port: pb.ports.gateway, toPatchbay: false,
            keys: ["status": "503", "reason": "Service Unavailable"])
        defer { _ = gw.stop() }
        let itsp = try await pb.sipp(
            "uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false, keys: ["expect_ruser": "+4930987654"])
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)")
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:503,itsp:200"])
    }

    /// Nothing answers at the gateway: after Timer B (64*T1 = 3.2 s here) the trunk gets the call.
    @Test func failoverWhenTheFirstTargetDoesNotAnswer() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let itsp = try await pb.sipp("uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false)
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)")
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:408,itsp:200"])
    }

    /// The gateway says nothing for 2.5 s. Its `invite_timeout: 0.3` ends the wait long before Timer B (3.2 s here), so
    /// the trunk gets the call. The gateway's 200 then arrives while the call is up on the trunk: Patchbay ACKs it
    /// and hangs it up with a BYE (the gateway's sipp exits 0 only after both). Without the timeout, the gateway's
    /// 200 would have come inside Timer B and the gateway would have got the call.
    @Test func inviteTimeoutFailsOverAndALateAnswerIsHungUp() async throws {
        let pb = try await PatchbayUnderTest.start(gatewayExtra: "    invite_timeout: 0.3")
        defer { pb.stop() }
        let gw = try await pb.sipp(
            "uas-answer-late", label: "gw", port: pb.ports.gateway, toPatchbay: false, keys: ["answer_after_ms": "2500"]
        )
        defer { _ = gw.stop() }
        let itsp = try await pb.sipp("uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false)
        defer { _ = itsp.stop() }
        // The caller holds the call for 6 s, so it is still up when the gateway answers.
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .seconds(6))
        defer { _ = pbx.stop() }
        #expect(
            await gw.wait(timeout: .seconds(10)) == .exited(0), "the late 200 was ACKed and hung up: \(gw.diagnostics)")
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)")
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:408,itsp:200"])
        #expect(await pb.waitForLog("late answer from a target the call had given up on"))
    }

    /// The gateway rings but nobody picks up: after the route's ring_timeout Patchbay cancels it and the trunk gets
    /// the call, while the caller just keeps hearing ringing.
    @Test func ringTimeoutFailsOverToTheNextTarget() async throws {
        let routes = PatchbayUnderTest.routes.replacingOccurrences(
            of: "    targets: [gw, itsp]", with: "    targets: [gw, itsp]\n    ring_timeout: 0.5")
        let pb = try await PatchbayUnderTest.start(routes: routes)
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-ring-forever", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let itsp = try await pb.sipp("uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false)
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "the gateway saw a proper CANCEL: \(gw.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0))
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:480,itsp:200"])
    }

    /// The gateway redirects (302) to a mobile number; with `redirects: follow` Patchbay routes that number like a
    /// dialled one, so the mobile route sends it to the trunk in E.164.
    @Test func redirectIsFollowedThroughTheRoutingTable() async throws {
        let pb = try await PatchbayUnderTest.start(top: "redirects: follow")
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-redirect", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let itsp = try await pb.sipp(
            "uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false, keys: ["expect_ruser": "+491701234567"]
        )
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "\(itsp.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0))
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:302,itsp:200"])
    }

    /// Without `redirects: follow` the 302 goes back to the caller.
    @Test func redirectIsPassedBackByDefault() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-redirect", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-expect-status", label: "pbx", port: pb.ports.pbx, service: "0030987654", keys: ["status": "302"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        let contact = try #require(try pbx.messages().received("302").first?.header("Contact"))
        #expect(
            contact.contains("sip:001701234567@"),
            "the PBX gets the number in its own dialect (outside line 0): \(contact)")
    }

    /// SIP over TCP both ways: the PBX calls over TCP, the gateway is configured for TCP; responses go back on the
    /// connection each request came on, and nothing is retransmitted over the reliable transport.
    @Test func callOverTCPBothWays() async throws {
        let pb = try await PatchbayUnderTest.start(gatewayExtra: "    transport: tcp")
        defer { pb.stop() }
        var uas = SippOptions(
            .named("uas-answer"), label: "gw", localPort: pb.ports.gateway, keys: ["expect_ruser": "030987654"])
        uas.extraArguments = ["-t", "t1"]
        let gw = try await SippPeer.start(uas, in: pb.directory)
        defer { _ = gw.stop() }
        var uac = SippOptions(
            .named("uac-call"), label: "pbx", localPort: pb.ports.pbx, remote: "127.0.0.1:\(pb.ports.patchbay)",
            service: "0030987654")
        uac.extraArguments = ["-t", "t1"]
        let pbx = try await SippPeer.start(uac, in: pb.directory)
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)\n\(pb.log)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let invite = try #require(try gw.messages().received("INVITE").first)
        #expect(invite.header("Via")?.hasPrefix("SIP/2.0/TCP") == true)
        #expect(invite.header("Contact")?.contains("transport=tcp") == true)
        #expect(try gw.statistics().retransmissions == 0)
    }

    /// With two UDP listeners, a response leaves by the socket its request arrived on (RFC 3261 section 18.2.2), so
    /// the peer sees it come from the address it sent to.
    @Test func responsesLeaveByTheListenerTheRequestCameIn() async throws {
        let second = try SippPorts.freeUDPPort()
        let pb = try await PatchbayUnderTest.start(editConfig: {
            // Second in the list: a response going out by the first listener would come from the wrong port.
            $0.replacingOccurrences(
                of: "routes: routes.yaml",
                with: "  - {transport: udp, address: 127.0.0.1, port: \(second)}\nroutes: routes.yaml")
        })
        defer { pb.stop() }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = second.bigEndian
        to.sin_addr.s_addr = inet_addr("127.0.0.1")
        let options = Array(
            "OPTIONS sip:127.0.0.1:\(second) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-two\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: two-listeners\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                .utf8)
        let sent = withUnsafePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, options, options.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(sent == options.count)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
        }
        try #require(n > 0, "no response")
        #expect(UInt16(bigEndian: from.sin_port) == second, "the answer came from the port the request went to")
        #expect(String(decoding: buffer[0..<n], as: UTF8.self).hasPrefix("SIP/2.0 403"), "an unknown source is refused")
    }

    /// A listener's `advertise` address is what peers see in Via and Contact (a wildcard bind cannot be written there).
    @Test func advertisedAddressIsWrittenIntoViaAndContact() async throws {
        let pb = try await PatchbayUnderTest.start(editConfig: {
            $0.replacingOccurrences(
                of: "address: 127.0.0.1, port: ", with: "address: 0.0.0.0, advertise: pbx-edge.example, port: ")
        })
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        let invite = try #require(try gw.messages().received("INVITE").first)
        #expect(invite.header("Via")?.hasPrefix("SIP/2.0/UDP pbx-edge.example:\(pb.ports.patchbay);") == true)
        #expect(invite.header("Contact")?.contains("@pbx-edge.example:\(pb.ports.patchbay)>") == true)
    }

    /// The gateway fails its OPTIONS probes and is marked down; the next call goes straight to the trunk.
    @Test func downPeerIsSkipped() async throws {
        let pb = try await PatchbayUnderTest.start(
            gatewayExtra: "    health_check: {interval: 0.2, timeout: 0.3, down_after: 2, up_after: 1}")
        defer { pb.stop() }
        #expect(await pb.waitForLog("peer down", timeout: .seconds(10)), "\(pb.log)")
        let itsp = try await pb.sipp("uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false)
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:down,itsp:200"], "the down gateway was not tried")
        // It comes back when it answers OPTIONS again.
        let gw = try await pb.sipp(
            "uas-options", label: "gw-options", port: pb.ports.gateway, toPatchbay: false, calls: nil)
        defer { _ = gw.stop() }
        #expect(await pb.waitForLog("peer up", timeout: .seconds(10)), "\(pb.log)")
    }

    /// A gateway that answers its OPTIONS with 503 says it is out of service: it is marked down (`down_on`), though
    /// it answers. The probe carries a Contact and names the peer as configured.
    @Test func aPeerAnsweringOptionsWith503IsDown() async throws {
        let pb = try await PatchbayUnderTest.start(
            gatewayExtra: "    health_check: {interval: 0.2, timeout: 0.3, down_after: 2, up_after: 1}")
        defer { pb.stop() }
        let gw = try await pb.sipp(
            "uas-options", label: "gw-options", port: pb.ports.gateway, toPatchbay: false, calls: nil,
            keys: ["status": "503", "reason": "Service Unavailable"])
        defer { _ = gw.stop() }
        #expect(await pb.waitForLog("peer down", timeout: .seconds(10)), "\(pb.log)")
        let probe = try #require(try gw.messages().received("OPTIONS").first)
        #expect(probe.header("Contact")?.contains("sip:patchbay@127.0.0.1:\(pb.ports.patchbay)") == true)
        #expect(probe.startLine.hasPrefix("OPTIONS sip:127.0.0.1:\(pb.ports.gateway) "), "\(probe.startLine)")
    }

    /// Unknown sources never reach routing: 403.
    @Test func unknownSourceIsRefused() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let stranger = try await pb.sipp(
            "uac-expect-status", label: "stranger", port: try SippPorts.freeUDPPort(), service: "0030987654",
            keys: ["status": "403"])
        defer { _ = stranger.stop() }
        #expect(await stranger.wait(timeout: .seconds(10)) == .exited(0), "\(stranger.diagnostics)")
        pb.stop()
        #expect(pb.log.contains("unknown_source_requests=1"), "counted: \(pb.log)")
    }

    /// Routes edited while calls are up: the calls finish, new calls use the new table. A broken edit after that is
    /// refused with its position, and the table in force stays.
    @Test func reloadDuringCallsLosesNoCallAndABadEditIsRefused() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false, calls: 3)
        defer { _ = gw.stop() }
        var opts = SippOptions(
            .named("uac-call"), label: "pbx", localPort: pb.ports.pbx, remote: "127.0.0.1:\(pb.ports.patchbay)",
            service: "0030987654", calls: 3, pause: .seconds(3))
        opts.rate = 10
        let pbx = try await SippPeer.start(opts, in: pb.directory)
        defer { _ = pbx.stop() }
        #expect(await pb.waitForLog("call setup", count: 3, timeout: .seconds(5)))
        // The national route now prefers the trunk.
        try PatchbayUnderTest.routes.replacingOccurrences(of: "targets: [gw, itsp]", with: "targets: [itsp, gw]")
            .write(to: pb.routesFile, atomically: true, encoding: .utf8)
        #expect(await pb.waitForLog("reloaded", timeout: .seconds(5)), "\(pb.log)")
        #expect(
            await pbx.wait(timeout: .seconds(15)) == .exited(0),
            "calls in progress survive the reload: \(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0))
        let itsp = try await pb.sipp(
            "uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false, keys: ["expect_ruser": "+4930987654"])
        defer { _ = itsp.stop() }
        let after = try await pb.sipp("uac-call", label: "pbx2", port: pb.ports.pbx, service: "0030987654")
        defer { _ = after.stop() }
        #expect(await after.wait(timeout: .seconds(10)) == .exited(0), "\(after.diagnostics)")
        #expect(await itsp.wait(timeout: .seconds(5)) == .exited(0), "the new table sent it to the trunk")
        // A typo: refused with its position; the trunk-first table stays in force.
        try "routes:\n  - name: broken\n    targts: [gw]\n".write(to: pb.routesFile, atomically: true, encoding: .utf8)
        #expect(
            await pb.waitForLog(
                "reload rejected: \(pb.routesFile.path):3:5: error: unknown key 'targts'", timeout: .seconds(5)),
            "\(pb.log)")
        let itsp2 = try await pb.sipp("uas-answer", label: "itsp2", port: pb.ports.itsp, toPatchbay: false)
        defer { _ = itsp2.stop() }
        let third = try await pb.sipp("uac-call", label: "pbx3", port: pb.ports.pbx, service: "0030987654")
        defer { _ = third.stop() }
        #expect(await third.wait(timeout: .seconds(10)) == .exited(0), "\(third.diagnostics)")
        #expect(await itsp2.wait(timeout: .seconds(5)) == .exited(0))
    }

    /// Delayed offer (CUCM's default): no SDP in the INVITE, the offer in the callee's 200, the answer in the
    /// caller's ACK, which Patchbay must carry to the callee in the B leg's ACK.
    @Test func delayedOfferCarriesTheAnswerInTheAck() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-delayed-offer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-delayed-offer", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        #expect(try gw.messages().received("INVITE").first?.body.isEmpty == true)
        #expect(try gw.messages().received("ACK").first?.body.contains("m=audio") == true)
    }

    /// A caller that requires an extension Patchbay does not support learns which (420 with Unsupported); 100rel,
    /// which it supports, is not named.
    @Test func requiredExtensionGets420() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let pbx = try await pb.sipp(
            "uac-expect-status", label: "pbx", port: pb.ports.pbx, service: "0030987654",
            keys: ["status": "420", "extra_header": "Require: 100rel, x-unknown-option"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
        #expect(try pbx.messages().received("420").first?.header("Unsupported") == "x-unknown-option")
    }

    /// SIGHUP reloads without any file change (operators' habit from other daemons).
    @Test func sighupReloads() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        kill(pb.pid, SIGHUP)
        #expect(await pb.waitForLog("reloaded (SIGHUP)", timeout: .seconds(5)), "\(pb.log)")
        #expect(pb.process.isRunning)
    }

    /// OPTIONS to Patchbay itself is answered locally.
    @Test func optionsIsAnsweredLocally() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let pbx = try await pb.sipp("uac-options", label: "pbx", port: pb.ports.pbx)
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(10)) == .exited(0), "\(pbx.diagnostics)")
    }

    /// The load case of the engine issue: 1000 calls, sipp UAC -> Patchbay -> sipp UAS, none may fail.
    @Test func thousandCallsWithoutAFailure() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        var uas = SippOptions(.named("uas-answer"), label: "gw", localPort: pb.ports.gateway, calls: 1000)
        uas.globalTimeout = .seconds(60)
        let gw = try await SippPeer.start(uas, in: pb.directory)
        defer { _ = gw.stop() }
        var uac = SippOptions(
            .named("uac-call"), label: "pbx", localPort: pb.ports.pbx, remote: "127.0.0.1:\(pb.ports.patchbay)",
            service: "0030987654", calls: 1000)
        uac.rate = 100
        uac.limit = 100
        uac.globalTimeout = .seconds(60)
        let pbx = try await SippPeer.start(uac, in: pb.directory)
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(60)) == .exited(0), "\(pbx.diagnostics)")
        let stats = try pbx.statistics()
        #expect(stats.successfulCalls == 1000)
        #expect(stats.failedCalls == 0)
        #expect(await gw.wait(timeout: .seconds(10)) == .exited(0))
    }
}
