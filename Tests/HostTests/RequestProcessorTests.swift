import Foundation
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Routing
@testable import SIPCore

/// The request path with real plugins: classify, inbound adapter, route, outbound adapters, host policy.
@Suite struct RequestProcessorTests {
    static func site(trunkExtra: String = "") throws -> Site {
        let config = """
            routes: routes.yaml
            peers:
              - name: pbx
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5070
              - name: pbx2
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5071
              - name: trunk
                plugin: IPPBX
                kind: external
                address: 127.0.0.1:5090
            \(trunkExtra)
            """
        let routes = """
            routes:
              - {name: both, match: {from: pbx}, targets: [trunk, pbx2]}
            """
        let (site, d, _) = try ConfigurationTests.load(config: config, routes: routes)
        try #require(!d.hasErrors, "\(d.items)")
        return try #require(site)
    }

    @Test func externalPeersNeverSeeInternalHeadersWhateverTheirPlugin() throws {
        let invite = try SIPParser().parse(try TestSupport.fixture("pbx-invite-national.sip"))
        let result = try RequestProcessor(site: try Self.site()).process(invite, from: "pbx")
        #expect(result.outcome == .forwarded(route: "both"))
        let trunk = try #require(result.legs.first { $0.peer == "trunk" })
        let internalPeer = try #require(result.legs.first { $0.peer == "pbx2" })
        #expect(
            !trunk.message.hasHeader("X-PBX-Tenant"), "IPPBX keeps X- headers; the host strips them for external peers")
        #expect(internalPeer.message.header("X-PBX-Tenant") == "berlin-hq")
        #expect(trunk.message.hasHeader("P-Asserted-Identity"))
    }

    @Test func internalHeadersCanBeConfiguredPerPeer() throws {
        // The trunk's header allow-list would drop X-PBX-Tenant on its own; `pass` leaves internal_headers alone.
        let site = try Self.site(trunkExtra: "    internal_headers: [User-Agent]\n    headers: {policy: pass}\n")
        let invite = try SIPParser().parse(try TestSupport.fixture("pbx-invite-national.sip"))
        let trunk = try #require(try RequestProcessor(site: site).process(invite, from: "pbx").legs.first)
        #expect(trunk.message.header("X-PBX-Tenant") == "berlin-hq")
        #expect(!trunk.message.hasHeader("User-Agent"))
    }

    @Test func stepsExplainEachChange() throws {
        let site = try #require(TestSupport.loadSite(TestSupport.path("Examples/berlin/patchbay.yaml")))
        let invite = try SIPParser().parse(try TestSupport.fixture("pbx-invite-national.sip"))
        let result = try RequestProcessor(site: site).process(invite, from: "pbx")
        #expect(
            result.steps.map(\.title) == [
                "which peer sent it?",
                "is it for a call in progress?",
                "does it require an extension we lack?",
                "are we draining?",
                "do we serve this method?",
                "are we overloaded?",
                "must it authenticate?",
                "is the session interval long enough?",
                "has it hops left?",
                "what is it in the house format?",
                "which route?",
                "is it an emergency call?",
                "is the peer within its limits?",
                "how is the media to gateway carried?",
                "how is the media to itsp carried?",
                "what does gateway receive?",
                "what does itsp receive?",
            ])
        #expect(result.steps[9].notes.first == "inbound adapter IPPBX/asterisk: pbx dialect -> house format")
        // The example site anchors the trunk's media only.
        #expect(result.steps[13].notes == ["passed through: neither pbx nor gateway anchors its media"])
        #expect(
            result.steps[14].notes == [
                "anchored through rtpengine: local (127.0.0.1:22223, weight 1); a new call goes to one that is up",
                "pbx's side: interface inside; RTP or SRTP as the other side offers; ICE as offered",
                "itsp's side: interface outside; RTP or SRTP as the other side offers; no ICE; codecs PCMA, PCMU only, transcoded where not offered",
                "if rtpengine does not answer: itsp is not tried (503), the route's next target is",
            ])
        #expect(
            result.steps[15].notes.first == "outbound adapter PSTNGateway/audiocodes: house format -> gateway dialect")
        #expect(result.steps[16].notes.first == "outbound adapter ITSPTrunk/generic: house format -> itsp dialect")
        let inbound = try #require(result.steps[9].diff)
        #expect(inbound.removed.map(\.name) == ["Remote-Party-ID"])
        #expect(inbound.added.map(\.name) == ["P-Asserted-Identity"])
        let toITSP = try #require(result.steps[16].diff)
        #expect(toITSP.removed.map(\.name).contains("X-PBX-Tenant"))
        #expect(toITSP.bodyRemoved.contains("a=rtpmap:18 G729/8000"))
        #expect(result.house?.requestURI?.user == "+4930987654")
    }

    @Test func unknownSourcePeerIsAnError() throws {
        let site = try Self.site()
        let invite = try SIPParser().parse(try TestSupport.fixture("pbx-invite-national.sip"))
        #expect(throws: RequestProcessor.ProcessingError.self) {
            try RequestProcessor(site: site).process(invite, from: "nobody")
        }
    }
}
