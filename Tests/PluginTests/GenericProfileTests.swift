import Foundation
import PluginAPI
import PluginTestKit
import Testing

@testable import Routing
@testable import SIPCore

/// The three plugins' `generic` profiles, loaded from the built libraries exactly as the host loads them, and
/// checked against raw fixtures in both directions.
@Suite struct GenericProfileTests {
    static var plugins: PluginSet { PluginTestSupport.plugins }

    static func fixture(_ name: String) throws -> SIPMessage { try PluginTestSupport.fixture(name) }

    static let berlin: NumberingContext = {
        var c = NumberingContext()
        c.countryCode = "49"
        c.areaCode = "30"
        c.accessCode = "0"
        c.extensions = [ExtensionRange(first: "2000", last: "2999", didPrefix: "+4930123")]
        return c
    }()

    /// The same site without the PBX's outside-line code, for gateways and trunks.
    static let berlinPublic: NumberingContext = {
        var c = berlin
        c.accessCode = nil
        return c
    }()

    static func adapter(
        _ plugin: String, kind: PeerKind = .internal, numbering: NumberingContext? = nil,
        options: [String: OptionValue] = [:]
    ) throws -> any PeerAdapter {
        let p = try #require(plugins.plugin(named: plugin), "\(plugins.refusals)")
        return try p.plugin.makeAdapter(
            for: PeerConfiguration(
                name: "peer", kind: kind, profile: "generic", host: "127.0.0.1",
                numbering: numbering ?? (plugin == "IPPBX" ? berlin : berlinPublic), options: options))
    }

    // MARK: IPPBX

    @Test func pbxInviteBecomesHouseFormat() throws {
        let pbx = try Self.adapter("IPPBX")
        let house = AdapterFixtures.fromPeer(try Self.fixture("pbx-invite-national.sip"), pbx)
        #expect(house.requestURI?.user == "+4930987654")
        #expect(house.to?.uri.user == "+4930987654")
        #expect(house.from?.uri.user == "+49301232345")
        #expect(house.from?.displayName == "Anna Schmidt")
        #expect(!house.hasHeader("Remote-Party-ID"))
        #expect(house.header("P-Asserted-Identity") == "\"Anna Schmidt\" <sip:+49301232345@127.0.0.1:5070>")
        #expect(house.header("Privacy") == nil, "privacy=off is no privacy")
        // The generic PBX profile leaves SDP alone; the house format writes G.729's annexb default out.
        #expect(
            String(decoding: house.body, as: UTF8.self)
                == String(decoding: try Self.fixture("pbx-invite-national.sip").body, as: UTF8.self)
                .replacingOccurrences(
                    of: "a=rtpmap:18 G729/8000\r\n", with: "a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=yes\r\n"))
    }

    @Test func houseCallToADIDReachesThePBXAsAnExtension() throws {
        let pbx = try Self.adapter("IPPBX", options: ["calling_format": .string("national")])
        let house = AdapterFixtures.fromPeer(
            try Self.fixture("itsp-invite-did.sip"), try Self.adapter("ITSPTrunk", kind: .external))
        let out = AdapterFixtures.toPeer(house, pbx)
        #expect(out.requestURI?.user == "2345")
        #expect(out.to?.uri.user == "2345")
        #expect(out.from?.uri.user == "0040123456", "outside line 0 + national number, so the display can call back")
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "0040123456")
    }

    @Test func pbxRejectsUnknownAndBadOptions() throws {
        #expect(throws: PeerOptionError(option: "calling_fromat", "unknown option (known here: \(Self.knownOptions))"))
        {
            try Self.adapter("IPPBX", options: ["calling_fromat": .string("national")])
        }
        #expect(throws: PeerOptionError.self) { try Self.adapter("IPPBX", options: ["ptime": .int(25)]) }
        #expect(throws: PeerOptionError.self) {
            try Self.adapter(
                "IPPBX", options: ["number_rules_in": .list([.map(["match": .string("(("), "replace": .string("")])])])
        }
    }

    static let knownOptions = ProfileRules.commonOptions.sorted().joined(separator: ", ")

    @Test func numberRulesFromOptionsApply() throws {
        // A PBX that prefixes 9 for an outside line and sends 9 + 00 + international.
        let pbx = try Self.adapter(
            "IPPBX",
            options: ["number_rules_in": .list([.map(["match": .string("9(0.*)"), "replace": .string("0$1")])])])
        #expect(pbx.numberFromPeer("9004420794600", role: .called).digits == "+4420794600")
    }

    // MARK: PSTNGateway

    @Test func gatewayEarlyMediaBecomesHouseFormatAndBack() throws {
        let gw = try Self.adapter("PSTNGateway")
        let house = AdapterFixtures.fromPeer(try Self.fixture("gateway-183-early-media.sip"), gw)
        #expect(house.statusCode == 183)
        #expect(house.nameAddresses("P-Asserted-Identity").first?.uri.user == "+4930987654", "connected number")
        #expect(house.to?.uri.user == "+4930987654")
        #expect(house.sdp?.media.first?.formats == ["8", "101"])
        #expect(AdapterFixtures.roundTripProblems(house, gw).isEmpty)
    }

    @Test func gatewayWritesNationalAndInternationalAndAccessCode() throws {
        let gw = try Self.adapter("PSTNGateway")
        #expect(gw.numberToPeer(PhoneNumber(asReceived: "+4989123456"), role: .called) == "089123456")
        #expect(gw.numberToPeer(PhoneNumber(asReceived: "+4420794600"), role: .called) == "004420794600")
        // A gateway behind a line-seizure digit: its context has the access code; callers are presented without it.
        let seized = try Self.adapter(
            "PSTNGateway", numbering: Self.berlin, options: ["calling_access_code": .bool(false)])
        #expect(seized.numberToPeer(PhoneNumber(asReceived: "+4989123456"), role: .called) == "0089123456")
        #expect(seized.numberToPeer(PhoneNumber(asReceived: "+4989123456"), role: .calling) == "089123456")
        #expect(seized.numberFromPeer("0089123456", role: .called).digits == "+4989123456")
    }

    // MARK: ITSPTrunk

    @Test func trunkInviteLosesProviderHeadersAndVendorSDP() throws {
        let itsp = try Self.adapter(
            "ITSPTrunk", kind: .external, options: ["strip_sdp_attributes": .list([.string("X-")])])
        let house = AdapterFixtures.fromPeer(try Self.fixture("itsp-invite-did.sip"), itsp)
        #expect(!house.hasHeader("X-Provider-Trace"))
        #expect(house.requestURI?.user == "+49301232345")
        let sdp = try #require(house.sdp)
        #expect(!sdp.description.contains("X-provider-qos"))
        #expect(sdp.description.contains("a=fmtp:96 0-15"))
    }

    @Test func houseInviteToTrunkIsE164WithIdentityAndG711() throws {
        let pbx = try Self.adapter("IPPBX")
        let itsp = try Self.adapter("ITSPTrunk", kind: .external, options: ["telephone_event": .int(101)])
        var house = AdapterFixtures.fromPeer(try Self.fixture("pbx-invite-national.sip"), pbx)
        house.removeHeader("P-Asserted-Identity")
        let out = AdapterFixtures.toPeer(house, itsp)
        #expect(out.requestURI?.user == "+4930987654")
        #expect(out.nameAddresses("P-Asserted-Identity").first?.uri.user == "+49301232345")
        #expect(!out.hasHeader("X-PBX-Tenant"))
        let audio = try #require(out.sdp?.media.first)
        #expect(audio.formats == ["8", "0", "101"], "PCMA, PCMU, telephone-event; G.729 removed")
        #expect(!audio.lines.contains { $0.hasPrefix("a=rtpmap:18") })
        #expect(AdapterFixtures.roundTripProblems(house, itsp).isEmpty)
    }

    @Test func anonymousCallerGetsPrivacyAndNoAssertedIdentity() throws {
        let itsp = try Self.adapter("ITSPTrunk", kind: .external)
        let house = try SIPMessage(
            parsing:
                "INVITE sip:+4930987654@x SIP/2.0\r\nFrom: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\nTo: <sip:+4930987654@x>\r\n\r\n"
        )
        let out = AdapterFixtures.toPeer(house, itsp)
        #expect(out.header("Privacy") == "id")
        #expect(!out.hasHeader("P-Asserted-Identity"))
    }

    @Test func everyGenericAdapterRoundTripsHouseNumbers() throws {
        var house = try SIPMessage(
            parsing: """
                INVITE sip:+49301232345@x SIP/2.0\r
                From: <sip:+4989123456@y>;tag=1\r
                To: <sip:+49301232345@x>\r
                P-Asserted-Identity: <sip:+4989123456@y>\r
                Diversion: <sip:+49301232001@x>;reason=unconditional\r
                \r

                """)
        house.removeHeader("Content-Type")
        for name in ["IPPBX", "PSTNGateway", "ITSPTrunk"] {
            let problems = AdapterFixtures.roundTripProblems(house, try Self.adapter(name))
            #expect(problems.isEmpty, "\(name): \(problems)")
        }
    }
}
