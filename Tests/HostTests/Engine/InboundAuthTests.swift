import Foundation
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// A peer configured with `inbound_auth` must answer Patchbay's digest challenge before its call is routed.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct InboundAuthTests {
    static func pbxAuth(_ config: String) -> String {
        config.replacingOccurrences(
            of: "    address: 127.0.0.1:",
            with: "    inbound_auth: {username: pbx, password: s3cret, realm: berlin.test}\n    address: 127.0.0.1:",
            options: [],
            range: config.range(of: "  - name: pbx")!.upperBound..<config.range(of: "  - name: gw")!.lowerBound)
    }

    /// ```
    ///  pbx                    Patchbay                 gw
    ///   | INVITE -------------> |                        |
    ///   | <-- 401 (challenge) - |                        |
    ///   | INVITE + Authorization -> | INVITE ----------> |
    ///   | <------------- 200 -- | <--------------- 200   |
    /// ```
    @Test func theRightAnswerIsRouted() async throws {
        let pb = try await PatchbayUnderTest.start(editConfig: { Self.pbxAuth($0) })
        defer { pb.stop() }
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp(
            "uac-auth-call", label: "pbx", port: pb.ports.pbx, service: "0030987654",
            keys: ["user": "pbx", "password": "s3cret"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)\n\(pb.log)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        let challenge = try #require(try pbx.messages().received("401").first?.header("WWW-Authenticate"))
        #expect(challenge.contains("realm=\"berlin.test\"") && challenge.contains("qop=\"auth\""))
        // The call line is logged when the other leg answers Patchbay's BYE, which can be after this peer is done.
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["gw:200"])
    }

    /// A wrong password is refused with 403 and never reaches routing.
    @Test func aWrongAnswerIsRefused() async throws {
        let pb = try await PatchbayUnderTest.start(editConfig: { Self.pbxAuth($0) })
        defer { pb.stop() }
        let pbx = try await pb.sipp(
            "uac-auth-call", label: "pbx", port: pb.ports.pbx, service: "0030987654",
            keys: ["user": "pbx", "password": "guess", "expect_final": "403"])
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)\n\(pb.log)")
        #expect(pb.log.contains("inbound authentication failed"))
        #expect(pb.attempts.isEmpty, "nothing was routed")
    }
}
