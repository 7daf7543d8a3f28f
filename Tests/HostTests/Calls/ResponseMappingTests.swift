import Foundation
import PluginAPI
import Testing

@testable import Calls
@testable import Routing
@testable import SIPCore

/// A peer's `responses:`: its final answers mapped before routing and the caller see them.
@Suite struct ResponseMappingTests {
    typealias Ladder = CallLadderTests

    @Test func aMappedRejectionReachesTheCallerWithItsQ850Cause() throws {
        let host = Ladder.Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let site = try Ladder.site(gwExtra: "    responses: {404: {status: 486, q850: 17}}")
        _ = try Ladder.call(host, site: site)
        host.answer("gw", "INVITE", 404, headers: [SIPHeader("Reason", "Q.850;cause=1")])
        #expect(host.ladder.last == "A 486", "486 is not a failover code: the caller gets it")
        let answer = try #require(host.wire.last?.message)
        #expect(answer.startLine == .response(version: "SIP/2.0", status: 486, reason: "Busy Here"))
        #expect(answer.values("Reason") == ["Q.850;cause=17"], "the gateway's own cause replaced")
    }

    @Test func aStatusMappedToAFailoverCodeTriesTheNextTarget() throws {
        let host = Ladder.Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let site = try Ladder.site(gwExtra: "    responses: {404: 480}")
        let (call, _) = try Ladder.call(host, site: site)
        host.answer("gw", "INVITE", 404)
        #expect(host.ladder.last == "gw2 INVITE")
        #expect(call.record.attempts.map(\.status) == [480, 0])
        // gw2 has no mapping: its 404 reaches the caller as it is.
        host.answer("gw2", "INVITE", 404)
        #expect(host.ladder.last == "A 404")
    }

    @Test func badMappingsArePositioned() throws {
        let config = ConfigurationTests.goodPeers.replacingOccurrences(
            of: "    address: 127.0.0.1:5080",
            with: "    address: 127.0.0.1:5080\n    responses: {200: 480, 404: {reason: gone}, 503: 999}")
        let (_, d, dir) = try ConfigurationTests.load(config: config, routes: "routes: []\n")
        #expect(
            d.errors.map(\.description) == [
                "\(dir)/patchbay.yaml:11:17: error: 'responses' keys must be final statuses 300-699, found '200'",
                "\(dir)/patchbay.yaml:11:32: error: response mapping for 404 is missing 'status'",
                "\(dir)/patchbay.yaml:11:53: error: 'responses' values must be a status 300-699 or {status, reason, q850}, found '999'",
            ])
    }
}
