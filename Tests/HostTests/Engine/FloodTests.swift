import Foundation
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// Floods and overload against a real Patchbay.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct FloodTests {
    /// 127.0.0.2 (no configured peer) floods OPTIONS at 2,000 a second while the PBX places 30 calls: every call
    /// completes, and the flood is dropped before parsing (a handful of 403s, not thousands).
    @Test func callsFromAPeerCompleteWhileAnUnknownHostFloods() async throws {
        let pb = try await PatchbayUnderTest.start(top: "protection: {unknown_rate: 5, unknown_total_rate: 20}")
        defer { pb.stop() }
        let flooder = try await pb.sipp(
            "uac-flood", label: "flood", port: try SippPorts.freeUDPPort(), service: "scan", calls: 16_000
        ) { o in
            o.localIP = "127.0.0.2"
            o.rate = 2000
        }
        defer { _ = flooder.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false, calls: 30)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", calls: 30) {
            o in
            o.rate = 10
        }
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let floodSent = try flooder.messages().sent("OPTIONS").count
        _ = flooder.stop()
        let answered = try flooder.messages().received("403").count
        #expect(floodSent > 2000, "the flood really flooded (\(floodSent) sent)")
        // 20 a second shared by all unknown sources, plus the first burst, over the few seconds the test ran.
        #expect(answered < floodSent / 20, "\(answered) of \(floodSent) flood messages were answered")
        #expect(await pb.waitForLog("rate limit: dropping"))
    }

    /// More calls than `max_calls` allows: the extra INVITE gets 503 with Retry-After at once, the others connect.
    @Test func callsBeyondTheLimitGet503WithRetryAfter() async throws {
        // max_calls is divided among the two event loops: one call each, so of three concurrent calls at least
        // one is refused whichever loops they land on.
        let pb = try await PatchbayUnderTest.start(top: "protection: {max_calls: 2}")
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false, calls: 3)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", calls: 3, pause: .seconds(2)
        ) { o in
            o.rate = 20
        }
        defer { _ = pbx.stop() }
        _ = await pbx.wait(timeout: .seconds(15))
        let refused = try pbx.messages().received("503")
        #expect(refused.count >= 1)
        #expect(refused.allSatisfy { $0.header("Retry-After") != nil })
        #expect(try gw.messages().received("INVITE").count >= 1, "the calls within the limit went through")
        #expect(try gw.messages().received("INVITE").count <= 2)
    }
}
