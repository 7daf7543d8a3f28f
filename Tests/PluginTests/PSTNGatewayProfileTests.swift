import Foundation
import PluginAPI
import PluginTestKit
import Testing

@testable import Routing
@testable import SIPCore

/// The PSTNGateway vendor profiles (`cisco-ios`, `audiocodes`, `generic-isdn`), loaded from the built plugin as the
/// host loads it, checked against raw fixtures in both directions: what the gateway sends becomes the house format,
/// and the house format becomes what the gateway must receive.
@Suite struct PSTNGatewayProfileTests {
    static var plugins: PluginSet { PluginTestSupport.plugins }

    static func fixture(_ name: String) throws -> SIPMessage { try PluginTestSupport.fixture(name) }

    static let berlin: NumberingContext = {
        var c = NumberingContext()
        c.countryCode = "49"
        c.areaCode = "30"
        return c
    }()

    static func adapter(_ profile: String, options: [String: OptionValue] = [:]) throws -> any PeerAdapter {
        let p = try #require(plugins.plugin(named: "PSTNGateway"), "\(plugins.refusals)")
        return try p.plugin.makeAdapter(
            for: PeerConfiguration(
                name: "gw", kind: .internal, profile: profile, host: "10.0.0.5", numbering: berlin, options: options))
    }

    @Test func pluginOffersTheVendorProfiles() throws {
        let p = try #require(Self.plugins.plugin(named: "PSTNGateway"))
        #expect(p.plugin.profiles.map(\.name) == ["generic", "cisco-ios", "audiocodes", "generic-isdn"])
    }

    // MARK: cisco-ios

    @Test func ciscoInviteBecomesHouseFormat() throws {
        let house = AdapterFixtures.fromPeer(try Self.fixture("ciscoios-invite.sip"), try Self.adapter("cisco-ios"))
        #expect(house.requestURI?.user == "+49301232345")
        #expect(house.from?.uri.user == "+4989123456")
        #expect(!house.hasHeader("Remote-Party-ID"))
        #expect(house.header("P-Asserted-Identity") == "\"Max Mustermann\" <sip:+4989123456@10.0.0.5>")
        #expect(house.header("Privacy") == nil, "privacy=off is presentation allowed")
        #expect(!house.hasHeader("X-Cisco-Trace"))
        #expect(!house.hasHeader("Cisco-Guid"))
        let audio = try #require(house.sdp?.media.first)
        #expect(audio.formats == ["18", "8", "0", "101"], "NSE payload 100 removed")
        #expect(audio.lines.contains("a=fmtp:18 annexb=yes"), "RFC 4856 default made explicit")
        #expect(!audio.lines.contains { $0.hasPrefix("a=X-") || $0.contains("X-NSE") || $0.hasPrefix("a=fmtp:100") })
        #expect(audio.lines.contains("a=fmtp:101 0-16"))
        #expect(audio.port == 16384)
    }

    @Test func cisco200KeepsExplicitAnnexBAndGivesConnectedIdentity() throws {
        let gw = try Self.adapter("cisco-ios")
        let house = AdapterFixtures.fromPeer(try Self.fixture("ciscoios-200-ok.sip"), gw)
        #expect(house.statusCode == 200)
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+4989123456", "party=called")
        #expect(!house.hasHeader("Remote-Party-ID"))
        let audio = try #require(house.sdp?.media.first)
        #expect(audio.formats == ["18", "101"])
        #expect(audio.formatParameter(codec: "G729", name: "annexb") == "no", "explicit annexb=no is not overwritten")
        #expect(!audio.lines.contains { $0.hasPrefix("a=X-") })
        #expect(AdapterFixtures.roundTripProblems(house, gw).isEmpty)
    }

    @Test func houseInviteReachesCiscoWithRemotePartyID() throws {
        let house = try Self.fixture("ciscoios-house-invite.sip")
        let gw = try Self.adapter("cisco-ios")
        let out = AdapterFixtures.toPeer(house, gw)
        #expect(out.requestURI?.user == "089123456")
        #expect(out.from?.uri.user == "0301232345")
        #expect(!out.hasHeader("P-Asserted-Identity"))
        let rpid = try #require(out.nameAddresses("Remote-Party-ID").first)
        #expect(rpid.uri.user == "0301232345")
        #expect(rpid.parameters[parameter: "party"] == "calling")
        #expect(rpid.parameters[parameter: "privacy"] == "full", "Privacy: id is presentation restricted")
        #expect(out.body == house.body, "a house offer has nothing Cisco-specific to remove")
        #expect(AdapterFixtures.roundTripProblems(house, gw).isEmpty)

        let paiGateway = try Self.adapter("cisco-ios", options: ["remote_party_id": .bool(false)])
        let pai = AdapterFixtures.toPeer(house, paiGateway)
        #expect(pai.nameAddresses("P-Asserted-Identity").first?.uri.user == "0301232345")
        #expect(!pai.hasHeader("Remote-Party-ID"))
    }

    @Test func house183ReachesCiscoAsCalledParty() throws {
        let house = try SIPMessage(
            parsing: """
                SIP/2.0 183 Session Progress\r
                From: <sip:+4989123456@10.0.0.5>;tag=gw-1\r
                To: <sip:+49301232345@10.0.0.1>;tag=hb-2\r
                Call-ID: c1\r
                CSeq: 1 INVITE\r
                P-Asserted-Identity: <sip:+49301232345@10.0.0.1>\r
                \r

                """)
        let out = AdapterFixtures.toPeer(house, try Self.adapter("cisco-ios"))
        let rpid = try #require(out.nameAddresses("Remote-Party-ID").first)
        #expect(rpid.uri.user == "0301232345")
        #expect(rpid.parameters[parameter: "party"] == "called")
    }

    // MARK: audiocodes

    @Test func audioCodesInviteBecomesHouseFormat() throws {
        let house = AdapterFixtures.fromPeer(try Self.fixture("audiocodes-invite.sip"), try Self.adapter("audiocodes"))
        #expect(house.requestURI?.user == "+49301232345")
        #expect(house.from?.uri.user == "+49401234567")
        let diversion = try #require(house.nameAddresses("Diversion").first)
        #expect(diversion.uri.isTel && diversion.uri.user == "+49301232001", "tel: Diversion read as E.164")
        #expect(diversion.parameters[parameter: "reason"] == "no-answer")
        #expect(!house.hasHeader("X-AC-Trunk"))
        #expect(house.sdp?.media.first?.formats == ["8", "0", "13", "101"], "comfort noise kept")
    }

    @Test func audioCodes183LosesXDetectAndKeepsComfortNoise() throws {
        let gw = try Self.adapter("audiocodes")
        let raw = try Self.fixture("audiocodes-183.sip")
        let house = AdapterFixtures.fromPeer(raw, gw)
        #expect(house.statusCode == 183)
        #expect(!house.hasHeader("X-Detect"))
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+49401234567")
        #expect(house.body == raw.body)
        #expect(AdapterFixtures.roundTripProblems(house, gw).isEmpty)
    }

    @Test func houseInviteReachesAudioCodesNational() throws {
        let house = try Self.fixture("audiocodes-house-invite.sip")
        let gw = try Self.adapter("audiocodes")
        let out = AdapterFixtures.toPeer(house, gw)
        #expect(out.requestURI?.user == "04012345678")
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "0301232345")
        let diversion = try #require(out.nameAddresses("Diversion").first)
        #expect(diversion.uri.user == "0301232001")
        #expect(diversion.parameters[parameter: "reason"] == "unconditional")
        #expect(out.body == house.body)
        #expect(AdapterFixtures.roundTripProblems(house, gw).isEmpty)
    }

    // MARK: generic-isdn

    @Test func isdnRestrictedCallerBecomesPrivacyID() throws {
        let house = AdapterFixtures.fromPeer(try Self.fixture("isdn-invite-clir.sip"), try Self.adapter("generic-isdn"))
        #expect(house.requestURI?.user == "+49301232345")
        #expect(house.from?.uri.user == "anonymous")
        #expect(house.header("Privacy") == "id")
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+4989123456")
    }

    @Test func isdnPresentedCallerGetsNoPrivacy() throws {
        let gw = try Self.adapter("generic-isdn")
        let house = AdapterFixtures.fromPeer(try Self.fixture("isdn-200-ok.sip"), gw)
        #expect(house.statusCode == 200)
        #expect(house.header("Privacy") == nil)
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+4989123456")
        #expect(house.sdp?.media.first?.formats == ["8", "101"])
        #expect(AdapterFixtures.roundTripProblems(house, gw).isEmpty)

        let invite = try SIPMessage(
            parsing: """
                INVITE sip:0301232345@10.0.0.1 SIP/2.0\r
                From: <sip:089123456@10.0.0.7>;tag=1\r
                To: <sip:0301232345@10.0.0.1>\r
                Remote-Party-ID: <sip:089123456@10.0.0.7>;party=calling;privacy=full\r
                \r

                """)
        let rpid = AdapterFixtures.fromPeer(invite, gw)
        #expect(rpid.header("Privacy") == "id", "Remote-Party-ID privacy=full is CLIR too")
        #expect(rpid.nameAddresses("P-Asserted-Identity").first?.uri.user == "+4989123456")
    }

    @Test func houseRestrictedCallerReachesISDNWithPrivacyID() throws {
        let house = try Self.fixture("isdn-house-invite-clir.sip")
        let gw = try Self.adapter("generic-isdn")
        let out = AdapterFixtures.toPeer(house, gw)
        #expect(out.requestURI?.user == "089123456")
        #expect(out.header("Privacy") == "header;id", "header privacy hides the number, so the gateway restricts it")
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "0301232345")
        #expect(AdapterFixtures.roundTripProblems(house, gw).isEmpty)

        var allowed = house
        allowed.removeHeader("Privacy")
        #expect(AdapterFixtures.toPeer(allowed, gw).header("Privacy") == nil, "CLIP: nothing added")
    }
}
