import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// `dns:` and peers given by host name: what is read, what is refused (with its position), and which lookups
/// the engine will make.
struct DNSConfigurationTests {
    static func config(dns: String, trunk: String) -> String {
        """
        routes: routes.yaml
        listen:
          - {transport: udp, address: 127.0.0.1, port: 5060}
          - {transport: tcp, address: 127.0.0.1, port: 5060}
        \(dns)
        peers:
          - name: pbx
            plugin: IPPBX
            kind: internal
            address: 127.0.0.1:5070
          - name: trunk
            plugin: ITSPTrunk
            kind: external
        \(trunk)

        """
    }

    @Test func dnsSettingsAndHostNamesAreRead() throws {
        let (site, d, _) = try ConfigurationTests.load(
            config: Self.config(
                dns:
                    "dns: {servers: [\"127.0.0.1:5353\", \"::1\"], timeout: 0.5, tries: 3, min_ttl: 1, max_ttl: 60, retry: 2}",
                trunk: "    addresses: [sip.carrier.test, \"sbc.carrier.test:5080\", 192.0.2.9:5060]"),
            routes: "routes: []\n")
        #expect(d.errors.isEmpty, "\(d.errors)")
        let dns = try #require(site?.configuration.dns)
        #expect(dns.servers == ["127.0.0.1:5353", "[::1]:53"])
        #expect(dns.timeout == 0.5 && dns.tries == 3 && dns.minTTL == 1 && dns.maxTTL == 60 && dns.retry == 2)

        let routing = SiteRouting(site: try #require(site))
        // No port, no transport: NAPTR among the transports with listeners; a port: A/AAAA at that port.
        #expect(
            routing.targets["trunk"]?.prefix(2) == [
                .located(.init(host: "sip.carrier.test", supported: [.udp, .tcp], ipv4: true, ipv6: false)),
                .located(
                    .init(host: "sbc.carrier.test", port: 5080, supported: [.udp, .tcp], ipv4: true, ipv6: false)),
            ])
        guard case .fixed(let fixed) = routing.targets["trunk"]?.last else {
            Issue.record("the IP address is used as written")
            return
        }
        #expect(fixed.address.ipAddress == "192.0.2.9")
        #expect(routing.locatedNames.count == 2)
    }

    @Test func aGivenTransportIsTheOnlyOneLookedUp() throws {
        let (site, d, _) = try ConfigurationTests.load(
            config: Self.config(dns: "", trunk: "    address: sip.carrier.test\n    transport: tcp"),
            routes: "routes: []\n")
        #expect(d.errors.isEmpty, "\(d.errors)")
        let routing = SiteRouting(site: try #require(site))
        #expect(
            routing.targets["trunk"] == [
                .located(.init(host: "sip.carrier.test", transport: .tcp, supported: [.tcp], ipv4: true, ipv6: false))
            ])
    }

    @Test func badDNSSettingsArePositioned() throws {
        let (site, d, dir) = try ConfigurationTests.load(
            config: Self.config(
                dns: "dns:\n  servers: [dns.example]\n  tries: 0\n  min_ttl: 100\n  max_ttl: 10\n  cache: yes",
                trunk: "    address: sip.carrier.test"),
            routes: "routes: []\n")
        #expect(site == nil)
        let file = "\(dir)/patchbay.yaml"
        #expect(
            d.errors.map(\.description) == [
                "\(file):6:13: error: 'dns.example' is not an IP address with an optional port (127.0.0.1:5353)",
                "\(file):7:10: error: 'tries' must be between 1 and 10, found 0",
                "\(file):8:3: error: 'min_ttl' (100.0 s) is above 'max_ttl' (10.0 s)",
                "\(file):10:3: error: unknown key 'cache' in dns",
            ])
    }
}
