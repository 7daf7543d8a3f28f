import Foundation
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// Session timers (RFC 4028) through a real `patchbay run` between sipp peers. The intervals are seconds, not
/// RFC 4028's 90 s floor (`min_se` below 90 is accepted with a warning), so that a refresh and an expiry happen
/// within a test.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct SessionTimerTests {
    /// The gateway accepts Patchbay as the refresher of a 4 s session: Patchbay refreshes it with UPDATE every
    /// 2 s while the caller holds the call.
    @Test func patchbayRefreshesTheLegItIsRefresherFor() async throws {
        let pb = try await PatchbayUnderTest.start(
            gatewayExtra: "    session_timer: {expires: 4, min_se: 2, refresher: patchbay}")
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-session-timer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .milliseconds(5000))
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let log = try gw.messages()
        #expect(log.received("INVITE").first?.header("Min-SE") == "2")
        #expect(log.received("UPDATE").count == 2)
        #expect(try pbx.messages().received("UPDATE").isEmpty, "a refresh of the B leg stays on the B leg")
        #expect(await pb.waitForLog("call ended"))
    }

    /// The caller asked to refresh its own 4 s session and never does: Patchbay ends the call with BYE both ways
    /// before the session would expire.
    @Test func aSessionThePeerDoesNotRefreshEndsTheCall() async throws {
        let pb = try await PatchbayUnderTest.start(
            editConfig: {
                $0.replacingOccurrences(
                    of: "      extensions: [{range: 2000-2999, did_prefix: \"+4930123\"}]\n",
                    with: "      extensions: [{range: 2000-2999, did_prefix: \"+4930123\"}]\n"
                        + "    session_timer: {expires: 4, min_se: 2, refresher: peer}\n")
            })
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .milliseconds(20_000),
            keys: ["extra_header": "Supported: timer\nSession-Expires: 4;refresher=uac"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let ok = try #require(try pbx.messages().received("200").first)
        #expect(ok.header("Session-Expires") == "4;refresher=uac")
        #expect(try pbx.messages().received("BYE").count == 1, "Patchbay hung up the caller")
        #expect(try gw.messages().received("BYE").count == 1, "and the callee")
        #expect(await pb.waitForLog("session expired"))
    }
}
