import NIOCore
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// Peers recognised by CIDR ranges as well as addresses: exact addresses first, then the most specific range.
@Suite struct AddressRangeTests {
    static func ip(_ text: String) -> IPKey { IPKey(text: Substring(text))! }

    @Test func rangesOfBothFamiliesContainWhatTheySay() throws {
        let v4 = try #require(AddressRange("203.0.113.0/24"))
        #expect(v4.contains(Self.ip("203.0.113.200")))
        #expect(!v4.contains(Self.ip("203.0.114.1")))
        #expect(!v4.contains(Self.ip("::ffff:203.0.114.1")))
        #expect(try #require(AddressRange("10.1.2.3/8")) == AddressRange("10.0.0.0/8"), "host bits are cleared")
        let v6 = try #require(AddressRange("2001:db8::/32"))
        #expect(v6.contains(Self.ip("2001:db8:ffff::1")))
        #expect(!v6.contains(Self.ip("2001:db9::1")))
        #expect(!v6.contains(Self.ip("203.0.113.1")))
        #expect(try #require(AddressRange("0.0.0.0/0")).contains(Self.ip("198.51.100.7")))
        #expect(!(try #require(AddressRange("0.0.0.0/0")).contains(Self.ip("2001:db8::1"))), "IPv4's /0 is IPv4 only")
        for bad in ["203.0.113.0", "203.0.113.0/33", "2001:db8::/129", "carrier.example/24", "10.0.0.0/x", "/24"] {
            #expect(AddressRange(bad) == nil, "\(bad)")
        }
    }

    @Test func anExactAddressThenTheMostSpecificRangeClassifies() throws {
        let config = """
            routes: routes.yaml
            peers:
              - name: carrier
                plugin: ITSPTrunk
                kind: external
                address: 198.51.100.1:5060
                ranges: ["203.0.113.0/24", "2001:db8::/32"]
              - name: carrier-east
                plugin: ITSPTrunk
                kind: external
                address: 198.51.100.2:5060
                ranges: ["203.0.113.128/25"]
              - name: pbx
                plugin: IPPBX
                kind: internal
                address: 203.0.113.200:5060

            """
        let (site, d, _) = try ConfigurationTests.load(config: config, routes: "routes: []\n")
        #expect(d.errors.isEmpty, "\(d.errors)")
        let routing = SiteRouting(site: try #require(site))
        func peer(_ host: String, _ port: Int = 5060) throws -> String? {
            routing.classify(try SocketAddress(ipAddress: host, port: port))
        }
        #expect(try peer("203.0.113.7") == "carrier")
        #expect(try peer("203.0.113.129", 40000) == "carrier-east", "the /25 is more specific than the /24")
        #expect(try peer("203.0.113.200") == "pbx", "an exact address wins over any range")
        #expect(try peer("2001:db8::5") == "carrier")
        #expect(try peer("203.0.114.1") == nil)
        #expect(routing.isPeerAddress(Self.ip("203.0.113.9")), "a range's sources get a peer's rate budget")
        #expect(!routing.isPeerAddress(Self.ip("192.0.2.9")))
    }

    @Test func aBadRangeIsAnErrorAndAnIdenticalRangeOfTwoPeersAWarning() throws {
        let config = """
            routes: routes.yaml
            peers:
              - name: a
                plugin: ITSPTrunk
                kind: external
                address: 198.51.100.1:5060
                ranges: ["203.0.113.0/24"]
              - name: b
                plugin: ITSPTrunk
                kind: external
                address: 198.51.100.2:5060
                ranges: ["203.0.113.9/24", "203.0.113.0/40"]

            """
        let (_, d, dir) = try ConfigurationTests.load(config: config, routes: "routes: []\n")
        #expect(
            d.errors.map(\.description) == [
                "\(dir)/patchbay.yaml:12:32: error: '203.0.113.0/40' is not an address range (ADDRESS/PREFIX: 203.0.113.0/24, 2001:db8::/32)"
            ])
        #expect(
            d.warnings.map(\.description) == [
                "\(dir)/patchbay.yaml:12:14: warning: range 203.0.113.9/24 of peer 'b' is also peer 'a''s: its sources go to 'a'"
            ])
    }
}
