import Foundation
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// SIGTERM drains: calls in progress finish, new calls get 503, then Patchbay exits by itself.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct DrainTests {
    /// ```
    ///  pbx            Patchbay             gw           itsp
    ///   | INVITE ------> | INVITE ---------> |             |
    ///   | <------- 200 - | <------------ 200 |             |
    ///   |        SIGTERM |                   |             |
    ///   |                | <------------------------ INVITE (a new call)
    ///   |                | 503 Retry-After -------------->  |
    ///   | BYE (3 s later)| BYE ------------> |             |
    ///   | <------- 200 - | <------------ 200 |             |
    ///   |           exit 0                                  |
    /// ```
    @Test func establishedCallFinishesDuringTheDrainAndNewCallsGet503() async throws {
        let pb = try await PatchbayUnderTest.start(top: "drain_timeout: 20")
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .seconds(3))
        defer { _ = pbx.stop() }
        #expect(await pb.waitForLog("call setup"))
        pb.signal(SIGTERM)
        #expect(await pb.waitForLog("draining"))
        let itsp = try await pb.sipp(
            "uac-expect-status", label: "itsp", port: pb.ports.itsp, service: "+49301232345", keys: ["status": "503"])
        defer { _ = itsp.stop() }
        #expect(await itsp.wait(timeout: .seconds(10)) == .exited(0), "\(itsp.diagnostics)")
        #expect(try itsp.messages().received("503").first?.header("Retry-After") != nil)
        #expect(
            await pbx.wait(timeout: .seconds(15)) == .exited(0), "the call in progress is not cut: \(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        #expect(try pbx.messages().received("BYE").isEmpty, "the caller hung up, nobody else")
        #expect(await pb.waitForExit(timeout: .seconds(5)) == 0, "exits by itself once the call ended: \(pb.log)")
        #expect(pb.log.contains("calls_ended_at_drain_timeout=0"))
    }

    /// The drain time runs out: the calls still up are ended with BYE on both legs, not cut.
    @Test func callsStillUpAtTheDrainTimeoutAreHungUpCleanly() async throws {
        let pb = try await PatchbayUnderTest.start(top: "drain_timeout: 1")
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .seconds(20))
        defer { _ = pbx.stop() }
        #expect(await pb.waitForLog("call setup"))
        pb.signal(SIGTERM)
        #expect(await pb.waitForExit(timeout: .seconds(6)) == 0, "\(pb.log)")
        #expect(pb.log.contains("calls_ended_at_drain_timeout=1"))
        #expect(
            await pbx.wait(timeout: .seconds(5)) == .exited(0), "the caller got a BYE it answered: \(pbx.diagnostics)")
        #expect(try pbx.messages().received("BYE").count >= 1)
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "the callee got a BYE: \(gw.diagnostics)")
    }

    /// A second SIGTERM during the drain stops at once, whatever the drain time.
    @Test func aSecondSignalStopsAtOnce() async throws {
        let pb = try await PatchbayUnderTest.start(top: "drain_timeout: 60")
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654", pause: .seconds(20))
        defer { _ = pbx.stop() }
        #expect(await pb.waitForLog("call setup"))
        pb.signal(SIGTERM)
        #expect(await pb.waitForLog("draining"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(pb.process.isRunning, "still draining: the call is up")
        pb.signal(SIGTERM)
        #expect(await pb.waitForExit(timeout: .seconds(3)) != nil, "stopped within 3 s of the second signal: \(pb.log)")
        #expect(pb.log.contains("second signal"))
    }
}
