import Foundation
import Testing

@testable import Engine

/// A call between an IPv4 peer and an IPv6 peer (::1): the request to the IPv6 peer leaves by the IPv6 listener,
/// and every host Patchbay writes on that leg is the IPv6 listener's, in brackets.
@Suite(.serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"))
struct IPv6Tests {
    @Test func anIPv4PeerCallsAnIPv6Peer() async throws {
        try await call(gateway: { "\"[::1]:\($0)\"" })
    }

    /// The gateway given by a name with only an AAAA record (a real DNS server on loopback): found, and reached
    /// over the IPv6 listener.
    @Test(.enabled(if: DNSServerUnderTest.isInstalled, "dnsmasq is needed"))
    func anIPv6PeerGivenByANameWithOnlyAnAAAARecord() async throws {
        var records = DNSServerUnderTest.Records()
        records.host("gw6.patchbay.test", "::1")
        let dns = try DNSServerUnderTest(records)
        defer { dns.stop() }
        try await call(top: "dns: {servers: [\"\(dns.server)\"]}", gateway: { "\"gw6.patchbay.test:\($0)\"" })
        #expect(dns.output.contains("query[AAAA] gw6.patchbay.test"), "\(dns.output)")
    }

    private func call(top: String = "", gateway: (UInt16) -> String, _ test: String = #function) async throws {
        let port6 = try SippPorts.freeUDPPort()
        let gwPort = try SippPorts.freeUDPPort()
        let pb = try await PatchbayUnderTest.start(
            test, top: top,
            editConfig: { config in
                var c = config.replacingOccurrences(
                    of: "  - {transport: tcp,",
                    with: "  - {transport: udp, address: \"::1\", port: \(port6)}\n  - {transport: tcp,")
                // The gateway moves to ::1.
                c = c.replacingOccurrences(
                    of: #"(plugin: PSTNGateway\n    kind: internal\n    address: )127\.0\.0\.1:\d+"#,
                    with: "$1\(gateway(gwPort))", options: .regularExpression)
                return c
            })
        defer { pb.stop() }
        var options = SippOptions(.named("uas-answer"), label: "gw6", localPort: gwPort)
        options.localIP = "::1"
        let gw = try await SippPeer.start(options, in: pb.directory)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0030987654")
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)\n\(pb.log)")
        let invite = try #require(try gw.messages().received("INVITE").first)
        #expect(invite.header("Via")?.hasPrefix("SIP/2.0/UDP [::1]:\(port6);") == true, "\(invite.header("Via") ?? "")")
        #expect(invite.header("Contact")?.contains("@[::1]:\(port6)") == true, "\(invite.header("Contact") ?? "")")
        #expect(
            invite.header("Call-ID")?.contains("::1") != true || invite.header("Call-ID")?.contains("[::1]") == true)
        #expect(await pb.waitForLog("call ended"))
    }
}
