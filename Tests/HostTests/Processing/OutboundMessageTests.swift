import Foundation
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Routing
@testable import SIPCore

/// What leaves for a peer: the header policy, no internal host towards a trunk, the house rules, a target whose
/// codec policy leaves no audio skipped with a 488, and `patchbay process` showing what the engine sends.
@Suite struct OutboundMessageTests {
    /// A Cisco PBX and an Avaya PBX inside, a trunk outside (a rule-based profile offering only G.711).
    static func site(trunkHeaders: String = "", trunkCodecs: String = "[PCMA, PCMU]") throws -> Site {
        let config = """
            listen:
              - {transport: udp, address: 127.0.0.1, port: 5060}
            routes: routes.yaml
            peers:
              - name: pbx
                plugin: IPPBX
                profile: cisco-cucm
                kind: internal
                address: 127.0.0.1:5070
              - name: trunk
                plugin: ITSPTrunk
                kind: external
                address: 127.0.0.1:5090
                options: {codecs: \(trunkCodecs)}
            \(trunkHeaders)
              - name: backup
                plugin: ITSPTrunk
                kind: external
                address: 127.0.0.1:5091
            """
        let routes = """
            routes:
              - {name: out, match: {from: pbx}, targets: [trunk]}
              - {name: in, match: {from: [trunk, backup]}, targets: [pbx]}
            """
        let (site, d, _) = try ConfigurationTests.load(config: config, routes: routes)
        try #require(!d.hasErrors, "\(d.items)")
        return try #require(site)
    }

    /// An INVITE from a CUCM with the vendor headers and internal hosts seen in real traffic.
    static func pbxInvite(
        codecs: String = "0 8 101", rtpmaps: String = "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    )
        throws -> SIPMessage
    {
        let sdp =
            "v=0\r\no=- 1 1 IN IP4 10.1.2.3\r\ns=-\r\nc=IN IP4 10.1.2.3\r\nt=0 0\r\nm=audio 20000 RTP/AVP \(codecs)\r\n"
            + rtpmaps + "a=rtpmap:101 telephone-event/8000\r\n"
        let text = """
            INVITE sip:+4930999@127.0.0.1:5060 SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r
            From: <sip:+4930123@10.1.1.10>;tag=a1\r
            To: <sip:+4930999@127.0.0.1>\r
            Call-ID: c1@10.1.1.10\r
            CSeq: 1 INVITE\r
            Contact: <sip:+4930123@10.1.1.10:5070>\r
            Max-Forwards: 70\r
            P-Asserted-Identity: <sip:+4930123@10.1.1.10>\r
            Diversion: <sip:4799@10.1.1.10>;reason=unconditional;counter=1\r
            Referred-By: <sip:4711@10.1.1.10>\r
            Cisco-Guid: 1234567890-1234567890-1234567890-1234567890\r
            Endpoint-View: <sip:4799@10.1.1.10>;local-tag=88;call-id=zz\r
            Subject: a call\r
            Content-Type: application/sdp\r
            Content-Length: \(sdp.utf8.count)\r
            \r
            \(sdp)
            """
        return try SIPParser().parse(Array(text.utf8))
    }

    @Test func aTrunkGetsNoInternalHostAndNoUnlistedHeader() throws {
        let site = try Self.site()
        let (result, sent) = try OfflineMessage.request(try Self.pbxInvite(), from: "pbx", site: site)
        let invite = try #require(sent)
        #expect(!invite.text.contains("10.1.1.10"), "\(invite.text)")
        #expect(!invite.hasHeader("Cisco-Guid"))
        #expect(!invite.hasHeader("Endpoint-View"))
        #expect(invite.header("Subject") == "a call", "a standard header passes")
        #expect(invite.header("Diversion") == "<sip:4799@127.0.0.1>;reason=unconditional;counter=1")
        #expect(invite.header("Referred-By") == "<sip:4711@127.0.0.1>")
        let notes = result.steps.flatMap(\.notes).joined(separator: "\n")
        #expect(notes.contains("header policy: allow-list"), "\(notes)")
        #expect(notes.contains("dropped: Cisco-Guid, Endpoint-View"), "\(notes)")
    }

    @Test func theAllowListLetsANamedHeaderThrough() throws {
        let site = try Self.site(trunkHeaders: "    headers: {allow: [Cisco-Guid]}")
        let sent = try #require(try OfflineMessage.request(try Self.pbxInvite(), from: "pbx", site: site).sent)
        #expect(sent.hasHeader("Cisco-Guid"))
        #expect(!sent.hasHeader("Endpoint-View"))
    }

    @Test func policyPassKeepsEverythingTheAdaptersLeave() throws {
        let site = try Self.site(trunkHeaders: "    headers: {policy: pass}")
        let sent = try #require(try OfflineMessage.request(try Self.pbxInvite(), from: "pbx", site: site).sent)
        #expect(sent.hasHeader("Cisco-Guid"))
        #expect(sent.hasHeader("Endpoint-View"))
    }

    @Test func aBadPolicyValueIsAPositionedError() throws {
        let config = """
            routes: routes.yaml
            peers:
              - name: trunk
                plugin: ITSPTrunk
                kind: external
                address: 127.0.0.1:5090
                headers: {policy: allowlist, allwo: [X]}
            """
        let (site, d, _) = try ConfigurationTests.load(config: config, routes: "routes: []\n")
        #expect(site == nil)
        let text = d.items.map(\.description).joined(separator: "\n")
        #expect(text.contains("patchbay.yaml:7:"), "\(text)")
        #expect(text.contains("allowlist"), "\(text)")
        #expect(text.contains("allwo"), "\(text)")
    }

    /// A response from the trunk to the PBX goes through the same adapters and the PBX's policy (pass); one from the
    /// PBX to the trunk through the trunk's allow-list, with Patchbay's host in its identity.
    @Test func processOnAResponseRunsTheAdaptersOnly() throws {
        let site = try Self.site()
        let sdp =
            "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
            + "m=audio 30000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
        let text = """
            SIP/2.0 183 Session Progress\r
            Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-x\r
            From: <sip:+4930123@127.0.0.1>;tag=b1\r
            To: <sip:+4930999@127.0.0.1:5090>;tag=t1\r
            Call-ID: pb0-1@127.0.0.1\r
            CSeq: 1 INVITE\r
            Contact: <sip:+4930999@198.51.100.7:5090>\r
            P-Asserted-Identity: <sip:+4930999@198.51.100.7>\r
            Content-Type: application/sdp\r
            Content-Length: \(sdp.utf8.count)\r
            \r
            \(sdp)
            """
        let r = try SIPParser().parse(Array(text.utf8))
        let out = OfflineMessage.response(r, from: "trunk", to: "pbx", callerInvite: try Self.pbxInvite(), site: site)
        #expect(out.statusCode == 183)
        #expect(out.callID == "c1@10.1.1.10", "the caller's Call-ID")
        #expect(out.header("Contact") == "<sip:127.0.0.1:5060>", "Patchbay's Contact, not the trunk's")
        // No route and no codec policy of the PBX's target ran on the answer: the codec is still there, and the
        // house format made G.729's annexb explicit.
        let answerSDP = try #require(out.sdp)
        #expect(answerSDP.media[0].port == 30000)
        #expect(answerSDP.media[0].formatParameter(codec: "G729", name: "annexb") == "yes")
        // CUCM gets Remote-Party-ID (its profile); an internal peer is shown the trunk's host as it was.
        #expect(
            out.header("Remote-Party-ID")?.hasPrefix("<sip:030999@198.51.100.7>;party=called") == true, "\(out.text)")
        // The other way, a PBX's answer to a trunk's call carries no internal host and no vendor header.
        var fromPBX = r
        fromPBX.setHeader("P-Asserted-Identity", "<sip:+4930123@10.1.1.10>")
        fromPBX.setHeader("Endpoint-View", "<sip:4799@10.1.1.10>;local-tag=88")
        let toTrunk = OfflineMessage.response(fromPBX, from: "pbx", to: "trunk", site: site)
        #expect(!toTrunk.text.contains("10.1.1.10"), "\(toTrunk.text)")
        #expect(toTrunk.header("P-Asserted-Identity") == "<sip:+4930123@127.0.0.1>")
    }

    /// The trunk accepts only G.711; an offer of G.722 alone leaves it nothing. The target is not sent an offer
    /// with `m=audio 0`: the processor marks it refused, and with no other target the caller is answered 488.
    @Test func anOfferTheTargetsCodecPolicyEmptiesIsNotSent() throws {
        let site = try Self.site()
        let invite = try Self.pbxInvite(codecs: "9 101", rtpmaps: "a=rtpmap:9 G722/8000\r\n")
        let (result, sent) = try OfflineMessage.request(invite, from: "pbx", site: site)
        #expect(sent == nil)
        #expect(result.outcome == .rejected(route: "out", status: 488, reason: "Not Acceptable Here"))
        let leg = try #require(result.legs.first)
        let refusal = try #require(leg.mediaRefusal)
        #expect(refusal.peer == "trunk")
        #expect(refusal.codecs == ["PCMA", "PCMU"])
        #expect(
            refusal.warning(host: "127.0.0.1").hasPrefix(
                "305 127.0.0.1 \"Incompatible media format: codec policy of peer 'trunk'"))
        // With a codec in common, it is sent.
        #expect(try OfflineMessage.request(try Self.pbxInvite(), from: "pbx", site: site).sent != nil)
    }

    /// A video stream beside the audio changes nothing: with no audio codec left the call cannot be carried.
    @Test func aVideoStreamDoesNotKeepAnOfferWithoutAudioAlive() throws {
        let invite = try Self.pbxInvite(
            codecs: "9 101",
            rtpmaps: "a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\nm=video 30000 RTP/AVP 96\r\n"
                + "a=rtpmap:96 H264/90000\r\n")
        let (result, sent) = try OfflineMessage.request(invite, from: "pbx", site: try Self.site())
        #expect(sent == nil)
        #expect(result.outcome == .rejected(route: "out", status: 488, reason: "Not Acceptable Here"))
    }

    /// `process` on an in-dialog request says what it takes instead of routing a BYE as a new call.
    @Test func processRefusesAnInDialogRequest() throws {
        var bye = try Self.pbxInvite()
        bye.startLine = .request(method: "BYE", uri: "sip:x@127.0.0.1", version: "SIP/2.0")
        #expect(throws: OfflineMessage.ProcessingError.self) {
            try OfflineMessage.request(bye, from: "pbx", site: try Self.site())
        }
    }
}
