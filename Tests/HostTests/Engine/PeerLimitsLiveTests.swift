import Foundation
import Testing

@testable import Engine

/// A peer's `max_calls` through a real `patchbay run`: a second call while the first is up is refused, and the
/// first call's slot comes back when it ends.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct PeerLimitsLiveTests {
    @Test func theSecondCallOverAPeersLimitIsRefusedAndTheSlotComesBack() async throws {
        let pb = try await PatchbayUnderTest.start(
            editConfig: {
                $0.replacingOccurrences(
                    of: "    plugin: IPPBX\n", with: "    plugin: IPPBX\n    limits: {max_calls: 1}\n")
            })
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        // Two calls a tenth of a second apart, each held for 1.5 s: the second arrives while the first is up.
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", calls: 2,
            pause: .milliseconds(1500)
        ) { $0.rate = 10 }
        _ = await pbx.wait(timeout: .seconds(15))
        let stats = try pbx.statistics()
        #expect(stats.successfulCalls == 1 && stats.failedCalls == 1, "\(pbx.diagnostics)")
        #expect(try pbx.messages().received("503").count == 1, "the second call got the peer's limit status")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")

        let gw2 = try await pb.sipp("uas-answer", label: "gw2", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw2.stop() }
        let again = try await pb.sipp("uac-call", label: "pbx2", port: pb.ports.pbx, service: "0030987654")
        #expect(await again.wait(timeout: .seconds(15)) == .exited(0), "the first call's slot came back")
    }
}
