import Foundation
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// Reliable provisional responses (RFC 3262) through a real `patchbay run` between sipp peers, in the three ways
/// the legs can differ.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct ReliableProvisionalTests {
    /// Both sides do 100rel: the callee's reliable 183 reaches the caller reliable, and the caller's PRACK reaches
    /// the callee with the RAck of the B leg (the callee's RSeq and Patchbay's INVITE CSeq).
    @Test func thePrackIsRelayedEndToEnd() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-reliable", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-prack", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let progress = try #require(try pbx.messages().received("183").first)
        #expect(progress.header("RSeq") != nil)
        #expect(progress.body.contains("m=audio"), "the early media's SDP")
        #expect(try gw.messages().received("INVITE").first?.header("Supported")?.contains("100rel") == true)
        #expect(try gw.messages().received("PRACK").count == 1)
    }

    /// The callee sends reliable 18x, the caller does not do 100rel: Patchbay PRACKs the callee itself and the
    /// caller gets an ordinary 183 with the early SDP.
    @Test func patchbayPracksForACallerWithout100rel() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-reliable", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let progress = try #require(try pbx.messages().received("183").first)
        #expect(progress.header("RSeq") == nil)
        #expect(progress.body.contains("m=audio"))
        #expect(try gw.messages().received("PRACK").count == 1)
    }

    /// The caller requires 100rel and the callee sends an ordinary 180: Patchbay sends the caller a reliable 180
    /// and answers its PRACK; nothing reaches the callee.
    @Test func aCallerThatRequires100relGetsReliable18xFromPatchbay() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp(
            "uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false, keys: ["ring_ms": "1000"])
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-prack", label: "pbx", port: pb.ports.pbx, service: "0030987654",
            keys: ["rel_header": "Require: 100rel", "provisional": "180"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        #expect(try pbx.messages().received("180").first?.header("RSeq") == "1")
        #expect(try gw.messages().received("PRACK").isEmpty)
    }
}
