import Foundation
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// What happens inside an established call, through a real `patchbay run` between sipp peers: hold and resume,
/// a re-INVITE without SDP, DTMF as INFO both ways, a T.38 switch, and crossing re-INVITEs.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct MidCallTests {
    @Test func holdResumeOfferlessReInviteInfoAndFaxCrossPatchbay() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-midcall", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-midcall", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let log = try gw.messages()
        let invites = log.received("INVITE")
        #expect(invites.count == 5, "the call and four re-INVITEs")
        guard invites.count == 5 else { return }
        #expect(invites[1].body.contains("a=sendonly"))
        #expect(invites[2].body.contains("a=sendrecv"))
        #expect(invites[3].body.isEmpty, "no offer in the re-INVITE: none invented")
        #expect(invites[4].body.contains("m=image"))
        // Each re-INVITE on the B leg is Patchbay's own request in the B dialog: its CSeq counts up from the
        // INVITE's with every request Patchbay sends there (the INFO took 5), whatever the caller's were.
        let cseqs = invites.compactMap { $0.header("CSeq")?.split(separator: " ").first.flatMap { Int($0) } }
        #expect(cseqs == [1, 2, 3, 4, 6])
        let acks = log.received("ACK")
        #expect(acks.contains { $0.body.contains("m=audio") }, "the caller's answer reached the callee in an ACK")
        #expect(log.received("INFO").first?.body.contains("Signal=5") == true)
        #expect(try pbx.messages().received("INFO").first?.body.contains("Signal=7") == true)
        #expect(await pb.waitForLog("call ended"))
    }

    /// The callee's re-INVITE crosses the caller's (relayed to it and not answered yet): Patchbay answers the
    /// callee's with 491 (RFC 3261 section 14.2), and the caller's still completes.
    @Test func crossingReInvitesGet491() async throws {
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-glare", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-hold", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(20)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        #expect(try gw.messages().received("491").count >= 1)
        #expect(try pbx.messages().received("INVITE").isEmpty, "the callee's re-INVITE never reached the caller")
    }
}
