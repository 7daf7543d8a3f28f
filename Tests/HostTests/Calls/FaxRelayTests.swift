import Foundation
import PluginAPI
import Testing

@testable import Calls
@testable import Routing
@testable import SIPCore

/// T.38 (RFC 3362, ITU-T T.38 annex D): a fax switch is a re-INVITE whose SDP replaces the audio stream with
/// `m=image ... udptl t38`. Every adapter relays it between every pair of the example's peers, whatever codec
/// policy each has for audio.
@Suite struct FaxRelayTests {
    static let t38 = """
        v=0\r
        o=gw 1 2 IN IP4 127.0.0.1\r
        s=-\r
        c=IN IP4 127.0.0.1\r
        t=0 0\r
        m=audio 0 RTP/AVP 8\r
        m=image 30002 udptl t38\r
        a=T38FaxVersion:0\r
        a=T38MaxBitRate:14400\r
        a=T38FaxRateManagement:transferredTCF\r
        a=T38FaxMaxDatagram:200\r
        a=T38FaxUdpEC:t38UDPRedundancy\r

        """

    @Test func aT38ReInviteCrossesEveryPairOfPeers() throws {
        let site = try #require(TestSupport.loadSite(TestSupport.path("Examples/berlin/patchbay.yaml")))
        var reInvite = SIPMessage(
            startLine: .request(method: "INVITE", uri: "sip:patchbay@127.0.0.1", version: "SIP/2.0"),
            headers: [SIPHeader("Content-Type", "application/sdp")])
        reInvite.body = Array(Self.t38.utf8)
        let peers = site.configuration.peers.map(\.name)
        for from in peers {
            for to in peers where to != from {
                let out = Relay.forward(reInvite, from: from, to: to, site: site, localHost: "192.0.2.1")
                let body = String(decoding: out.body, as: UTF8.self)
                #expect(body.contains("m=image 30002 udptl t38"), "\(from) -> \(to): \(body)")
                #expect(body.contains("a=T38FaxVersion:0"), "\(from) -> \(to)")
                #expect(body.contains("a=T38FaxUdpEC:t38UDPRedundancy"), "\(from) -> \(to)")
            }
        }
    }
}
