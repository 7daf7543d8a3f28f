import Foundation
import Testing

@testable import Engine
@testable import Operations
@testable import Routing

/// The `patchbay` executable as an operator runs it.
@Suite struct CommandLineTests {
    static var patchbay: String { "\(TestSupport.buildDirectory)/patchbay" }
    static var example: String { TestSupport.path("Examples/berlin/patchbay.yaml") }

    @Test func checkPassesOnTheExample() throws {
        let r = try TestSupport.run(Self.patchbay, ["check", Self.example])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("route tests: 11 passed, 0 failed"))
    }

    @Test func checkFailsWithPositionedErrors() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestSupport.write(ConfigurationTests.goodPeers, to: "\(dir)/patchbay.yaml")
        // A typo'd key, a wrong type and a bad regex: three positioned errors, exit 1.
        try TestSupport.write(
            """
            routes:
              - name: r
                targts: [gw]
              - name: s
                match: {from: pbx, to: {regex: "(+"}}
                targets:
                  - {peer: gw, priority: first}

            """, to: "\(dir)/routes.yaml")
        let r = try TestSupport.run(Self.patchbay, ["check", "\(dir)/patchbay.yaml"])
        #expect(r.status == 1)
        let errors = r.output.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(
            errors == [
                "\(dir)/routes.yaml:2:5: error: route 'r' needs 'targets' or 'reject'",
                "\(dir)/routes.yaml:3:5: error: unknown key 'targts' in route (did you mean 'targets'?)",
                "\(dir)/routes.yaml:5:29: error: invalid regex '(+': it does not compile (check parentheses, brackets, escapes and repeats)",
                "\(dir)/routes.yaml:7:30: error: 'priority' must be an integer, found 'first'",
            ])
    }

    @Test func routeExplainShowsANationalCallLeavingTheGatewayInNationalFormat() throws {
        let r = try TestSupport.run(
            Self.patchbay,
            ["route", Self.example, "--from", "pbx", "--to", "0030987654", "--caller", "2345", "--explain"])
        #expect(r.status == 0, "\(r.output)")
        let out = r.output
        // Inbound: PBX dialect (outside-line 0 + national number, extension caller) -> house format.
        #expect(out.contains("number Request-URI (called): 0030987654 -> +4930987654"))
        #expect(out.contains("number From (calling): 2345 -> +49301232345"))
        #expect(out.contains("route 'national'"))
        // Outbound to the gateway: national format again, without the access code.
        #expect(out.contains("number Request-URI (called): +4930987654 -> 030987654"))
        #expect(out.contains("1. gateway: sip:030987654@127.0.0.1:5080"))
        #expect(out.contains("sent to 127.0.0.1:5080"))
        // The trunk, second target, is given by host name: how DNS finds it, and the failover among its servers.
        #expect(
            out.contains(
                "sent to sip.trunk.example (found by DNS at run time: NAPTR, SRV, A/AAAA); each server in turn on 503"),
            "\(out)")
    }

    @Test func pluginsListsTheThreePluginsWithProfiles() throws {
        let r = try TestSupport.run(Self.patchbay, ["plugins", "--plugin-dir", TestSupport.buildDirectory])
        #expect(r.status == 0, "\(r.output)")
        for name in ["IPPBX", "PSTNGateway", "ITSPTrunk"] { #expect(r.output.contains("\(name) ")) }
        #expect(r.output.contains("generic"))
    }

    @Test func processPrintsTheMessageForTheFirstTarget() throws {
        let r = try TestSupport.run(
            Self.patchbay,
            ["process", Self.example, "--from", "pbx", TestSupport.path("Tests/Fixtures/pbx-invite-national.sip")])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.hasPrefix("INVITE sip:030987654@127.0.0.1:5080 SIP/2.0\r\n"))
        #expect(r.output.contains("P-Asserted-Identity:"))
        #expect(!r.output.contains("Remote-Party-ID"))
    }
}
