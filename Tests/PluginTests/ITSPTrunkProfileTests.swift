import Foundation
import PluginAPI
import PluginTestKit
import Testing

@testable import Routing

/// The ITSPTrunk vendor profiles, loaded from the built library as the host loads them, checked against raw
/// fixtures both ways: what each provider sends becomes the house format, and the house format becomes what the
/// provider must receive.
@Suite struct ITSPTrunkProfileTests {
    static var plugins: PluginSet { PluginTestSupport.plugins }

    static func fixture(_ name: String) throws -> SIPMessage { try PluginTestSupport.fixture(name) }

    /// A Berlin site without an outside-line code, as trunks see it.
    static let berlin: NumberingContext = {
        var c = NumberingContext()
        c.countryCode = "49"
        c.areaCode = "30"
        return c
    }()

    static func adapter(
        _ profile: String, numbering: NumberingContext = berlin, options: [String: OptionValue] = [:]
    ) throws -> any PeerAdapter {
        try adapter(
            PeerConfiguration(
                name: profile, kind: .external, profile: profile, host: "127.0.0.1", numbering: numbering,
                options: options))
    }

    static func adapter(_ peer: PeerConfiguration) throws -> any PeerAdapter {
        let p = try #require(plugins.plugin(named: "ITSPTrunk"), "\(plugins.refusals)")
        return try p.plugin.makeAdapter(for: peer)
    }

    @Test func everyProfileIsOffered() throws {
        let p = try #require(Self.plugins.plugin(named: "ITSPTrunk"), "\(Self.plugins.refusals)")
        #expect(p.plugin.profiles.map(\.name) == ["generic", "twilio", "vonage", "bandwidth"])
    }

    // MARK: Twilio

    @Test func twilioOriginationBecomesHouseFormat() throws {
        let twilio = try Self.adapter("twilio")
        let raw = try Self.fixture("twilio-invite-origination.sip")
        let house = AdapterFixtures.fromPeer(raw, twilio)
        #expect(house.requestURI?.user == "+49301232345")
        #expect(house.from?.uri.user == "+14155551111")
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+14155551111")
        #expect(!house.hasHeader("X-Twilio-AccountSid"))
        #expect(!house.hasHeader("X-Twilio-CallSid"))
        #expect(house.body == raw.body, "Twilio's offer is already G.711 + telephone-event")
    }

    @Test func houseInviteToTwilioIsE164WithIdentityAndG711Only() throws {
        let twilio = try Self.adapter("twilio")
        let house = try Self.fixture("twilio-house-invite.sip")
        let out = AdapterFixtures.toPeer(house, twilio)
        #expect(out.requestURI?.user == "+14155552222")
        #expect(out.to?.uri.user == "+14155552222")
        #expect(out.from?.uri.user == "+49301232345")
        #expect(out.header("P-Asserted-Identity") == "\"Anna Schmidt\" <sip:+49301232345@127.0.0.1:5060>")
        #expect(!out.hasHeader("X-PBX-Tenant"))
        #expect(!out.hasHeader("Remote-Party-ID"))
        let audio = try #require(out.sdp?.media.first)
        #expect(audio.formats == ["0", "8", "101"], "PCMU, PCMA, telephone-event; G.722 and G.729 removed")
        #expect(!audio.lines.contains { $0.hasPrefix("a=rtpmap:18") || $0.hasPrefix("a=fmtp:18") })
        #expect(AdapterFixtures.roundTripProblems(house, twilio).isEmpty)
    }

    @Test func twilioAnswerLosesTwilioHeaders() throws {
        let twilio = try Self.adapter("twilio")
        let house = AdapterFixtures.fromPeer(try Self.fixture("twilio-200-ok.sip"), twilio)
        #expect(house.statusCode == 200)
        #expect(!house.hasHeader("X-Twilio-CallSid"))
        #expect(house.to?.uri.user == "+14155552222")
        #expect(house.sdp?.media.first?.formats == ["0", "101"])
    }

    @Test func twilioAuthModeIsValidated() throws {
        _ = try Self.adapter("twilio", options: ["auth_mode": .string("ip-acl")])
        _ = try Self.adapter(
            "twilio", options: ["auth_mode": .string("credentials"), "username": .string("berlin-trunk")])
        #expect(throws: PeerOptionError(option: "auth_mode", "'register' is not one of credentials, ip-acl")) {
            try Self.adapter("twilio", options: ["auth_mode": .string("register")])
        }
        #expect(throws: PeerOptionError(option: "username", "only applies with auth_mode: credentials")) {
            try Self.adapter("twilio", options: ["username": .string("berlin-trunk")])
        }
        #expect(throws: PeerOptionError(option: "username", "must not be empty")) {
            try Self.adapter("twilio", options: ["auth_mode": .string("credentials"), "username": .string("")])
        }
        // Options of other profiles stay unknown here.
        #expect(throws: PeerOptionError.self) { try Self.adapter("vonage", options: ["auth_mode": .string("ip-acl")]) }
    }

    // MARK: Vonage

    @Test func vonageInviteBecomesHouseFormat() throws {
        let vonage = try Self.adapter("vonage")
        let house = AdapterFixtures.fromPeer(try Self.fixture("vonage-invite-inbound.sip"), vonage)
        #expect(house.requestURI?.user == "+49301232345")
        #expect(house.to?.uri.user == "+49301232345")
        #expect(house.from?.uri.user == "+447700900123")
        let audio = try #require(house.sdp?.media.first)
        #expect(audio.formats == ["8", "0", "18", "101"])
        #expect(audio.formatParameter(codec: "G729", name: "annexb") == "no", "Vonage's G.729 has no Annex B")
    }

    @Test func houseInviteToVonageDropsThePlusAndAnnexB() throws {
        let vonage = try Self.adapter("vonage")
        let house = try Self.fixture("vonage-house-invite.sip")
        let out = AdapterFixtures.toPeer(house, vonage)
        #expect(out.requestURI?.user == "447700900456")
        #expect(out.to?.uri.user == "447700900456")
        #expect(out.from?.uri.user == "49301232345")
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "49301232345")
        #expect(!out.hasHeader("X-PBX-Tenant"))
        let audio = try #require(out.sdp?.media.first)
        #expect(audio.formats == ["8", "18", "101"], "Opus is not on Vonage's list")
        #expect(audio.lines.contains("a=fmtp:18 annexb=no"))
        #expect(AdapterFixtures.roundTripProblems(house, vonage).isEmpty)
    }

    @Test func vonageEarlyMediaBecomesHouseFormat() throws {
        let vonage = try Self.adapter("vonage")
        let house = AdapterFixtures.fromPeer(try Self.fixture("vonage-183-session-progress.sip"), vonage)
        #expect(house.statusCode == 183)
        #expect(house.to?.uri.user == "+447700900456")
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+447700900456", "connected number")
        #expect(house.sdp?.media.first?.formatParameter(codec: "G729", name: "annexb") == "no")
    }

    @Test func vonageLeavesShortAndAnonymousNumbersToTheContext() throws {
        let vonage = try Self.adapter("vonage")
        #expect(vonage.numberFromPeer("anonymous", role: .calling).digits == "anonymous")
        #expect(vonage.numberFromPeer("0301234567", role: .calling).digits == "+49301234567")
        #expect(vonage.numberToPeer(PhoneNumber(asReceived: "112"), role: .called) == "112")
    }

    // MARK: Bandwidth

    /// A Raleigh site on NANP numbering, with Bandwidth's mated SBC pair: the host classifies requests from every
    /// address in the peer's `addresses:`, so the adapter needs nothing per address.
    static let bandwidthPeer = PeerConfiguration(
        name: "bandwidth", kind: .external, profile: "bandwidth", host: "127.0.0.2:5060",
        numbering: {
            var c = NumberingContext()
            c.countryCode = "1"
            c.areaCode = "919"
            c.nationalPrefix = "1"
            c.internationalPrefix = "011"
            c.nationalNumberLength = 10
            return c
        }())

    @Test func bandwidthInviteBecomesHouseFormat() throws {
        let bandwidth = try Self.adapter(Self.bandwidthPeer)
        let house = AdapterFixtures.fromPeer(try Self.fixture("bandwidth-invite-inbound.sip"), bandwidth)
        #expect(house.requestURI?.user == "+19195550100", "10-digit Inbound Calls Number Format")
        #expect(house.to?.uri.user == "+19195550100")
        #expect(house.from?.uri.user == "+17045550123", "11 digits")
        #expect(house.sdp?.media.first?.formats == ["0", "8", "18", "101"], "SDP from Bandwidth is left alone")
    }

    @Test func houseInviteToBandwidthIsE164AndG711() throws {
        let bandwidth = try Self.adapter(Self.bandwidthPeer)
        let house = try Self.fixture("bandwidth-house-invite.sip")
        let out = AdapterFixtures.toPeer(house, bandwidth)
        #expect(out.requestURI?.user == "+17045550199")
        #expect(out.from?.uri.user == "+19195550100")
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "+19195550100")
        #expect(!out.hasHeader("X-PBX-Tenant"))
        #expect(out.sdp?.media.first?.formats == ["0", "8", "101"])
        #expect(AdapterFixtures.roundTripProblems(house, bandwidth).isEmpty)
    }

    @Test func bandwidthAnswerFromTheOtherSBCBecomesHouseFormat() throws {
        let bandwidth = try Self.adapter(Self.bandwidthPeer)
        let house = AdapterFixtures.fromPeer(try Self.fixture("bandwidth-200-ok.sip"), bandwidth)
        #expect(house.statusCode == 200)
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+17045550199")
        #expect(house.to?.uri.user == "+17045550199")
    }

    @Test func bandwidthReadsEveryInboundNumberFormatWhateverTheContext() throws {
        // The NANP rules do not depend on the peer's numbering, so a site configured for Berlin still reads them.
        let bandwidth = try Self.adapter("bandwidth")
        for dialled in ["9195550100", "19195550100", "+19195550100"] {
            #expect(bandwidth.numberFromPeer(dialled, role: .called).digits == "+19195550100", "\(dialled)")
        }
    }

    // MARK: All

    @Test func everyVendorProfileRoundTripsHouseNumbers() throws {
        let house = try SIPMessage(
            parsing: """
                INVITE sip:+14155552222@x SIP/2.0\r
                From: <sip:+49301232345@y>;tag=1\r
                To: <sip:+14155552222@x>\r
                P-Asserted-Identity: <sip:+49301232345@y>\r
                Diversion: <sip:+49301232001@y>;reason=unconditional\r
                \r

                """)
        for profile in ["twilio", "vonage", "bandwidth"] {
            let problems = AdapterFixtures.roundTripProblems(house, try Self.adapter(profile))
            #expect(problems.isEmpty, "\(profile): \(problems)")
        }
    }
}
