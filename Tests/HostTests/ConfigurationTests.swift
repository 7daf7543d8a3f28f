import Foundation
import PluginAPI
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

@Suite struct ConfigurationTests {
    static let goodPeers = """
        routes: routes.yaml
        peers:
          - name: pbx
            plugin: IPPBX
            kind: internal
            address: 127.0.0.1:5070
          - name: gw
            plugin: PSTNGateway
            kind: internal
            address: 127.0.0.1:5080

        """

    /// Writes a site into a fresh directory and loads it with the built plugins.
    static func load(config: String = goodPeers, routes: String) throws -> (Site?, Diagnostics, String) {
        let dir = try TestSupport.temporaryDirectory()
        try TestSupport.write(config, to: "\(dir)/patchbay.yaml")
        try TestSupport.write(routes, to: "\(dir)/routes.yaml")
        let d = Diagnostics()
        return (TestSupport.loadSite("\(dir)/patchbay.yaml", diagnostics: d), d, dir)
    }

    @Test func typoWrongTypeAndBadRegexGiveThreePositionedErrors() throws {
        let routes = """
            routes:
              - name: national
                match:
                  from: pbx
                  to: "+49"
                targets: [gw]
                priorty: 3
              - name: weighted
                targets:
                  - {peer: gw, weight: heavy}
              - name: odd
                match:
                  to: {regex: "+49(["}
                targets: [gw]

            """
        let (site, d, dir) = try Self.load(routes: routes)
        #expect(site == nil)
        let file = "\(dir)/routes.yaml"
        #expect(
            d.errors.map(\.description) == [
                "\(file):7:5: error: unknown key 'priorty' in route",
                "\(file):10:28: error: 'weight' must be an integer, found 'heavy'",
                "\(file):13:12: error: invalid regex '+49([': it does not compile (check parentheses, brackets, escapes and repeats)",
            ])
    }

    /// A peer's `invite_timeout` is seconds within 0.1-300; anything else is refused with its position.
    @Test func inviteTimeoutIsReadAndCheckedPerPeer() throws {
        let good = Self.goodPeers.replacingOccurrences(
            of: "    address: 127.0.0.1:5080", with: "    address: 127.0.0.1:5080\n    invite_timeout: 2.5")
        let (site, d, _) = try Self.load(config: good, routes: "routes: []\n")
        #expect(d.errors.isEmpty, "\(d.errors)")
        #expect(site?.configuration.peer(named: "gw")?.inviteTimeout == 2.5)
        #expect(site?.configuration.peer(named: "pbx")?.inviteTimeout == nil)

        let bad = Self.goodPeers.replacingOccurrences(
            of: "    address: 127.0.0.1:5080", with: "    address: 127.0.0.1:5080\n    invite_timeout: 0")
        let (badSite, badD, dir) = try Self.load(config: bad, routes: "routes: []\n")
        #expect(badSite == nil)
        #expect(
            badD.errors.map(\.description) == [
                "\(dir)/patchbay.yaml:11:21: error: 'invite_timeout' must be seconds between 0.1 and 300, found '0'"
            ])
    }

    @Test func unknownKeyGetsASuggestion() throws {
        let config = Self.goodPeers.replacingOccurrences(
            of: "    address: 127.0.0.1:5080", with: "    adress: 127.0.0.1:5080")
        let (_, d, dir) = try Self.load(config: config, routes: "routes: []\n")
        let messages = d.errors.map(\.description)
        #expect(
            messages.contains(
                "\(dir)/patchbay.yaml:10:5: error: unknown key 'adress' in peer (did you mean 'address'?)"))
        #expect(messages.contains("\(dir)/patchbay.yaml:7:5: error: peer 'gw' needs 'address' or 'addresses'"))
    }

    @Test func yamlSyntaxErrorIsPositioned() throws {
        let (_, d, dir) = try Self.load(routes: "routes:\n  - name: a\n    targets: [gw\n")
        let e = try #require(d.errors.first)
        #expect(e.file == "\(dir)/routes.yaml")
        #expect(e.line == 4)
        #expect(e.message.hasPrefix("YAML syntax:"))
    }

    @Test func unknownPeerPluginAndProfileAreReferencedAtTheirLines() throws {
        let config = """
            routes: routes.yaml
            peers:
              - name: pbx
                plugin: IPPBZ
                kind: internal
                address: 127.0.0.1:5070
              - name: gw
                plugin: PSTNGateway
                profile: cisco-9000
                kind: internal
                address: 127.0.0.1:5080

            """
        let routes = "routes:\n  - name: r\n    targets: [gww]\n"
        let (_, d, dir) = try Self.load(config: config, routes: routes)
        let messages = d.errors.map(\.description)
        #expect(
            messages.contains { $0.hasPrefix("\(dir)/patchbay.yaml:4:5: error: peer 'pbx': no plugin 'IPPBZ' in ") })
        #expect(
            messages.contains {
                $0.hasPrefix(
                    "\(dir)/patchbay.yaml:9:5: error: peer 'gw': plugin 'PSTNGateway' has no profile 'cisco-9000' (offers: "
                )
            })
        #expect(messages.contains("\(dir)/routes.yaml:3:15: error: unknown peer 'gww' (did you mean 'gw'?)"))
    }

    @Test func aPluginRefusingAnOptionPointsAtTheOption() throws {
        let config =
            Self.goodPeers + """
                    options:
                      called_format: klingon

                """
        let (_, d, dir) = try Self.load(config: config, routes: "routes: []\n")
        let e = try #require(d.errors.first)
        #expect(
            e.description.hasPrefix(
                "\(dir)/patchbay.yaml:12:7: error: peer 'gw': option 'called_format': 'klingon' is not one of"))
    }

    @Test func shadowedRouteIsAWarningNotAnError() throws {
        let routes = """
            routes:
              - name: all-from-pbx
                match: {from: pbx}
                targets: [gw]
              - name: national
                match: {from: pbx, to: "+49"}
                targets: [gw]

            """
        let (site, d, dir) = try Self.load(routes: routes)
        #expect(site != nil)
        #expect(
            d.warnings.map(\.description) == [
                "\(dir)/routes.yaml:5:5: warning: route 'national' can never match: route 'all-from-pbx' at line 2 matches everything it does"
            ])
    }

    @Test func exampleSiteLoadsAndItsRouteTestsPass() throws {
        let d = Diagnostics()
        let site = try #require(TestSupport.loadSite(TestSupport.path("Examples/berlin/patchbay.yaml"), diagnostics: d))
        #expect(d.items.isEmpty, "\(d.items)")
        #expect(site.routes.tests.count >= 10)
        let failures = RouteTestRunner(site: site).run()
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func aWrongRouteTestExpectationFails() throws {
        let routes = """
            routes:
              - name: national
                match: {from: pbx, to: "+49"}
                targets: [gw]
            tests:
              - from: pbx
                to: "+4930123456"
                expect:
                  route: national
                  targets: [pbx]
                  numbers: {gw: "+4930123456"}

            """
        let (site, _, _) = try Self.load(routes: routes)
        let failures = RouteTestRunner(site: try #require(site)).run()
        #expect(failures.count == 1)
        #expect(
            failures.first?.problems == [
                "targets [gw], expected [pbx]",
                "gw receives called number 030123456, expected +4930123456",
            ])
    }
}
