import Foundation
import Testing

@testable import Engine
@testable import Routing

/// Named signalling interfaces: the trunk's leg leaves by the outside listener (127.0.0.2, advertising a public
/// name) and shows only it; the PBX's leg shows only the inside one.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct InterfacesTests {
    @Test func eachPeerSeesOnlyItsInterfacesAddress() async throws {
        let outsidePort = try SippPorts.freeUDPPort()
        let pb = try await PatchbayUnderTest.start(
            editConfig: { config in
                var c = config.replacingOccurrences(
                    of: #"  - \{transport: udp, address: 127\.0\.0\.1, port: (\d+)\}"#,
                    with:
                        "  - {transport: udp, address: 127.0.0.1, port: $1, name: inside}\n  - {transport: udp, address: 127.0.0.2, port: \(outsidePort), name: outside, advertise: edge.example}",
                    options: .regularExpression)
                c = c.replacingOccurrences(
                    of: "    plugin: ITSPTrunk\n", with: "    plugin: ITSPTrunk\n    interface: outside\n")
                return c
            })
        defer { pb.stop() }
        let itsp = try await pb.sipp("uas-answer", label: "itsp", port: pb.ports.itsp, toPatchbay: false)
        defer { _ = itsp.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0015112345678")
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)\n\(pb.log)")
        let invite = try #require(try itsp.messages().received("INVITE").first)
        #expect(invite.header("Via")?.hasPrefix("SIP/2.0/UDP edge.example:\(outsidePort);") == true)
        #expect(invite.header("Contact")?.contains("@edge.example:\(outsidePort)") == true)
        #expect(!invite.text.contains("127.0.0.1:\(pb.ports.patchbay)"), "no inside address towards the trunk")
        let ok = try #require(try pbx.messages().received("200").first)
        #expect(
            ok.header("Contact")?.contains("127.0.0.1:\(pb.ports.patchbay)>") == true,
            "the PBX sees inside: \(ok.header("Contact") ?? "")")
        #expect(try itsp.messages().received("BYE").count == 1)
    }

    @Test func aPeersUnknownInterfaceIsAPositionedError() throws {
        let config = """
            listen:
              - {transport: udp, address: 127.0.0.1, port: 5060, name: inside}
            routes: routes.yaml
            peers:
              - name: trunk
                plugin: ITSPTrunk
                kind: external
                address: 127.0.0.1:5090
                interface: outsde
            """
        let (_, d, dir) = try ConfigurationTests.load(config: config, routes: "routes: []\n")
        #expect(
            d.errors.map(\.description) == [
                "\(dir)/patchbay.yaml:9:5: error: peer 'trunk': no listener named 'outsde' (named: inside)"
            ])
    }
}
