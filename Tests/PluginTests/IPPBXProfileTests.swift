import Foundation
import PluginAPI
import PluginTestKit
import Testing

@testable import Routing
@testable import SIPCore

/// The IPPBX plugin's vendor profiles, loaded from the built library as the host loads them, checked against raw
/// fixtures as each vendor sends them (vendor -> house) and against house-format messages (house -> vendor).
@Suite struct IPPBXProfileTests {
    static var plugins: PluginSet { PluginTestSupport.plugins }

    static func fixture(_ name: String) throws -> SIPMessage { try PluginTestSupport.fixture(name) }

    static func adapter(_ profile: String, options: [String: OptionValue] = [:]) throws -> any PeerAdapter {
        let p = try #require(plugins.plugin(named: "IPPBX"), "\(plugins.refusals)")
        return try p.plugin.makeAdapter(
            for: PeerConfiguration(
                name: "pbx", kind: .internal, profile: profile, host: "127.0.0.1",
                numbering: GenericProfileTests.berlin, options: options))
    }

    /// A house-format INVITE from the trunk to a DID: E.164 everywhere, P-Asserted-Identity, telephone-event 96.
    static func houseInviteToDID() throws -> SIPMessage {
        AdapterFixtures.fromPeer(
            try fixture("itsp-invite-did.sip"),
            try GenericProfileTests.adapter("ITSPTrunk", kind: .external))
    }

    /// A house-format 200 OK answering a PBX caller: the connected party in P-Asserted-Identity, no user in Contact.
    static func houseAnswer() throws -> SIPMessage {
        try SIPMessage(
            parsing: """
                SIP/2.0 200 OK\r
                Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-x\r
                From: <sip:+49301232345@127.0.0.1>;tag=a\r
                To: <sip:+4930987654@127.0.0.1>;tag=b\r
                Call-ID: house-1\r
                CSeq: 1 INVITE\r
                Contact: <sip:127.0.0.1:5060>\r
                P-Asserted-Identity: "Callee" <sip:+4930987654@127.0.0.1>\r
                Content-Type: application/sdp\r
                \r
                v=0\r
                o=- 1 1 IN IP4 127.0.0.1\r
                s=-\r
                c=IN IP4 127.0.0.1\r
                t=0 0\r
                m=audio 30000 RTP/AVP 8 96\r
                a=rtpmap:8 PCMA/8000\r
                a=rtpmap:96 telephone-event/8000\r
                a=fmtp:96 0-15\r

                """)
    }

    @Test func everyProfileIsOffered() throws {
        let p = try #require(Self.plugins.plugin(named: "IPPBX"))
        #expect(p.plugin.profiles.map(\.name) == ["generic", "cisco-cucm", "asterisk", "avaya-aura", "lync"])
    }

    // MARK: cisco-cucm

    @Test func cucmEarlyOfferBecomesHouseFormat() throws {
        let raw = try Self.fixture("cucm-invite-early-offer.sip")
        let house = AdapterFixtures.fromPeer(raw, try Self.adapter("cisco-cucm"))
        #expect(house.requestURI?.user == "+4930987654")
        #expect(house.from?.uri.user == "+49301232345")
        #expect(!house.hasHeader("Remote-Party-ID"))
        #expect(house.header("P-Asserted-Identity") == "\"Jan Novak\" <sip:+49301232345@127.0.0.1:5072>")
        #expect(house.header("Privacy") == nil)
        #expect(!house.headers.contains { $0.name.lowercased().hasPrefix("x-cisco") })
        #expect(house.values("Supported") == ["timer", "resource-priority", "replaces", "Geolocation"])
        #expect(!house.hasHeader("Allow-Events"), "kpml and presence were all it offered")
        #expect(house.header("Session-ID") != nil, "RFC 7989 Session-ID is standard and stays")
        // The one change is the house format's own: G.729 without fmtp is annexb=yes, written out.
        #expect(
            String(decoding: house.body, as: UTF8.self)
                == String(decoding: raw.body, as: UTF8.self).replacingOccurrences(
                    of: "a=rtpmap:18 G729/8000\r\n", with: "a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=yes\r\n"))
    }

    @Test func cucmDelayedOfferPassesWithoutABody() throws {
        let raw = try Self.fixture("cucm-invite-delayed-offer.sip")
        let house = AdapterFixtures.fromPeer(raw, try Self.adapter("cisco-cucm"))
        #expect(house.body.isEmpty)
        #expect(house.sdp == nil)
        #expect(house.header("Content-Type") == nil)
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+49301232346")
        #expect(house.header("Privacy") == "id", "privacy=full")
        #expect(house.values("Supported") == ["timer", "resource-priority", "replaces"])
        // The same INVITE on its way to a CUCM (a tandem call) stays without a body as well.
        let back = AdapterFixtures.toPeer(house, try Self.adapter("cisco-cucm"))
        #expect(back.body.isEmpty)
    }

    @Test func cucmAnswerBecomesHouseFormat() throws {
        let house = AdapterFixtures.fromPeer(try Self.fixture("cucm-200-ok.sip"), try Self.adapter("cisco-cucm"))
        #expect(house.statusCode == 200)
        #expect(
            house.header("P-Asserted-Identity") == "\"Jan Novak\" <sip:+49301232345@127.0.0.1:5072>",
            "party=called in a response is the connected party")
        #expect(house.from?.uri.user == "+4940123456")
        #expect(!house.hasHeader("Allow-Events"))
        #expect(house.values("Supported") == ["replaces"])
        #expect(house.sdp?.media.first?.formats == ["8", "101"])
    }

    @Test func houseInviteReachesCUCMWithRemotePartyIDAndEvent101() throws {
        let cucm = try Self.adapter("cisco-cucm")
        let house = try Self.houseInviteToDID()
        let out = AdapterFixtures.toPeer(house, cucm)
        #expect(out.requestURI?.user == "2345")
        #expect(!out.hasHeader("P-Asserted-Identity"))
        #expect(
            out.header("Remote-Party-ID")
                == "<sip:0040123456@itsp.example;user=phone>;party=calling;screen=yes;privacy=off")
        let audio = try #require(out.sdp?.media.first)
        #expect(audio.formats == ["8", "0", "101"])
        #expect(audio.lines.contains("a=rtpmap:101 telephone-event/8000"))
        #expect(audio.lines.contains("a=fmtp:101 0-15"))
        #expect(AdapterFixtures.roundTripProblems(house, cucm).isEmpty)
    }

    @Test func houseAnswerReachesCUCMWithCalledPartyRemotePartyID() throws {
        let cucm = try Self.adapter("cisco-cucm")
        let out = AdapterFixtures.toPeer(try Self.houseAnswer(), cucm)
        #expect(
            out.header("Remote-Party-ID")
                == "\"Callee\" <sip:0030987654@127.0.0.1>;party=called;screen=yes;privacy=off")
        #expect(out.sdp?.media.first?.formats == ["8", "101"])
        // And back: the Remote-Party-ID CUCM would see is read as the connected party again.
        let back = AdapterFixtures.fromPeer(out, cucm)
        #expect(back.nameAddresses("P-Asserted-Identity").first?.uri.user == "+4930987654")
    }

    // MARK: asterisk

    @Test func asteriskInviteBecomesHouseFormat() throws {
        let raw = try Self.fixture("asterisk-invite.sip")
        let house = AdapterFixtures.fromPeer(raw, try Self.adapter("asterisk"))
        #expect(house.requestURI?.user == "+4930987654")
        #expect(house.from?.uri.user == "+49301232345")
        #expect(
            house.header("P-Asserted-Identity") == "\"Lena Weber\" <sip:+49301232345@127.0.0.1>",
            "FreePBX sent both identities; its P-Asserted-Identity is kept")
        #expect(!house.hasHeader("Remote-Party-ID"))
        let audio = try #require(house.sdp?.media.first)
        #expect(audio.attributeValues("maxptime").isEmpty)
        #expect(audio.attributeValues("ptime") == ["20"])
        #expect(audio.formats == ["8", "0", "101"])
    }

    @Test func asteriskEarlyMediaBecomesHouseFormat() throws {
        let house = AdapterFixtures.fromPeer(try Self.fixture("asterisk-183.sip"), try Self.adapter("asterisk"))
        #expect(house.statusCode == 183)
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+49301232345", "connected party")
        #expect(house.sdp?.media.first?.attributeValues("maxptime").isEmpty == true)
        #expect(house.header("Contact") == "<sip:127.0.0.1:5074>", "what Asterisk sends is not rewritten")
    }

    @Test func houseInviteReachesAsteriskWithAUserInContact() throws {
        let ast = try Self.adapter("asterisk")
        var house = try Self.houseInviteToDID()
        house.setHeader("Contact", "<sip:127.0.0.1:5060;transport=udp>")
        let out = AdapterFixtures.toPeer(house, ast)
        #expect(out.requestURI?.user == "2345")
        #expect(out.header("Contact") == "<sip:0040123456@127.0.0.1:5060;transport=udp>")
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "0040123456")
        #expect(!out.hasHeader("Remote-Party-ID"))
        #expect(AdapterFixtures.roundTripProblems(house, ast).isEmpty)
    }

    @Test func houseAnswerReachesAsteriskWithTheCalledPartyInContact() throws {
        let out = AdapterFixtures.toPeer(try Self.houseAnswer(), try Self.adapter("asterisk"))
        #expect(out.header("Contact") == "<sip:0030987654@127.0.0.1:5060>")
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "0030987654")
    }

    @Test func asteriskKeepsAContactThatHasAUser() throws {
        var house = try Self.houseAnswer()
        house.setHeader("Contact", "<sip:gw@127.0.0.1:5060>")
        let out = AdapterFixtures.toPeer(house, try Self.adapter("asterisk"))
        #expect(out.header("Contact") == "<sip:gw@127.0.0.1:5060>")
    }

    // MARK: avaya-aura

    @Test func avayaForwardedInviteBecomesHouseFormat() throws {
        let raw = try Self.fixture("avaya-invite-forwarded.sip")
        let house = AdapterFixtures.fromPeer(raw, try Self.adapter("avaya-aura"))
        #expect(house.requestURI?.user == "+4930987654")
        #expect(!house.hasHeader("History-Info"))
        #expect(
            house.values("Diversion") == [
                "\"Eva Roth\" <sip:+49301232400@avaya.example>;reason=no-answer;counter=1",
                "<sip:+49301232345@avaya.example>;reason=unconditional;counter=1",
            ])
        for name in ["P-Location", "P-AV-Message-Id", "Av-Global-Session-ID"] { #expect(!house.hasHeader(name)) }
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+49301232100")
        #expect(house.body == raw.body)
    }

    @Test func avayaAnswerBecomesHouseFormat() throws {
        let house = AdapterFixtures.fromPeer(try Self.fixture("avaya-200-ok.sip"), try Self.adapter("avaya-aura"))
        #expect(house.statusCode == 200)
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+49301232400", "connected party")
        #expect(house.values("Diversion") == ["<sip:+49301232345@avaya.example>;reason=user-busy;counter=1"])
        #expect(!house.hasHeader("P-AV-Message-Id"))
        #expect(!house.hasHeader("Av-Global-Session-ID"))
        #expect(house.sdp?.media.first?.formats == ["8", "101"])
    }

    static let houseForwardedInvite = """
        INVITE sip:+49301232999@127.0.0.1 SIP/2.0\r
        From: <sip:+4940123456@itsp.example>;tag=1\r
        To: <sip:+49301232345@127.0.0.1>\r
        Call-ID: house-2\r
        CSeq: 1 INVITE\r
        P-Asserted-Identity: <sip:+4940123456@itsp.example>\r
        Diversion: <sip:+49301232400@127.0.0.1>;reason=no-answer;counter=1\r
        Diversion: <sip:+49301232345@127.0.0.1>;reason=user-busy;counter=1\r
        \r

        """

    @Test func houseDiversionReachesAvayaAsHistoryInfo() throws {
        let avaya = try Self.adapter("avaya-aura")
        let house = try SIPMessage(parsing: Self.houseForwardedInvite)
        let out = AdapterFixtures.toPeer(house, avaya)
        #expect(out.requestURI?.user == "2999")
        #expect(!out.hasHeader("Diversion"))
        #expect(
            out.values("History-Info") == [
                "<sip:2345@127.0.0.1?Reason=SIP%3Bcause%3D486>;index=1",
                "<sip:2400@127.0.0.1;cause=486?Reason=SIP%3Bcause%3D408>;index=1.1;mp=1",
                "<sip:2999@127.0.0.1;cause=408>;index=1.1.1;mp=1.1",
            ])
        #expect(AdapterFixtures.roundTripProblems(house, avaya).isEmpty)
        #expect(AdapterFixtures.fromPeer(out, avaya).values("Diversion") == house.values("Diversion"))
    }

    @Test func houseAnswerReachesAvayaUnchangedButForNumbers() throws {
        let out = AdapterFixtures.toPeer(try Self.houseAnswer(), try Self.adapter("avaya-aura"))
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "0030987654")
        #expect(!out.hasHeader("History-Info"), "no Diversion, so no history to write")
        #expect(out.body == (try Self.houseAnswer()).body)
    }

    // MARK: lync

    @Test func lyncInviteBecomesHouseFormat() throws {
        let raw = try Self.fixture("lync-invite.sip")
        let house = AdapterFixtures.fromPeer(raw, try Self.adapter("lync"))
        #expect(house.requestURI?.user == "+4930987654")
        #expect(house.from?.uri.user == "+49301232345;ext=2345", "already E.164; the extension parameter is kept")
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+49301232345")
        #expect(!house.hasHeader("Ms-Conversation-ID"))
        #expect(!house.hasHeader("ms-call-source"))
        #expect(house.header("User-Agent") == "RTCC/6.0.0.0 MediationServer")
        #expect(house.body == raw.body)
    }

    @Test func lyncEarlyMediaBecomesHouseFormat() throws {
        let house = AdapterFixtures.fromPeer(try Self.fixture("lync-183.sip"), try Self.adapter("lync"))
        #expect(house.statusCode == 183)
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+49301232345")
        #expect(!house.hasHeader("Ms-Conversation-ID"))
        #expect(house.sdp?.media.first?.formats == ["8", "101"])
    }

    @Test func houseInviteReachesLyncAsE164WithUserPhone() throws {
        let lync = try Self.adapter("lync")
        var house = try SIPMessage(parsing: Self.houseForwardedInvite)
        house.removeHeader("Diversion")
        let out = AdapterFixtures.toPeer(house, lync)
        #expect(out.requestURI?.description == "sip:+49301232999@127.0.0.1;user=phone")
        #expect(out.header("To") == "<sip:+49301232345@127.0.0.1;user=phone>")
        #expect(out.header("From") == "<sip:+4940123456@itsp.example;user=phone>;tag=1", "the tag is untouched")
        #expect(out.header("P-Asserted-Identity") == "<sip:+4940123456@itsp.example;user=phone>")
        #expect(AdapterFixtures.roundTripProblems(house, lync).isEmpty)
    }

    @Test func houseAnswerReachesLyncWithUserPhoneOnceOnly() throws {
        var answer = try Self.houseAnswer()
        answer.setHeader("From", "<sip:+49301232345@127.0.0.1;user=phone>;tag=a")
        let out = AdapterFixtures.toPeer(answer, try Self.adapter("lync"))
        #expect(out.header("P-Asserted-Identity") == "\"Callee\" <sip:+4930987654@127.0.0.1;user=phone>")
        #expect(out.header("From") == "<sip:+49301232345@127.0.0.1;user=phone>;tag=a")
        #expect(out.body == answer.body)
    }

    @Test func lyncLeavesNamesAndAnonymousAlone() throws {
        var house = try SIPMessage(parsing: Self.houseForwardedInvite)
        house.setHeader("From", "\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1")
        house.removeHeader("P-Asserted-Identity")
        let out = AdapterFixtures.toPeer(house, try Self.adapter("lync"))
        #expect(out.header("From") == "\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1")
    }
}
