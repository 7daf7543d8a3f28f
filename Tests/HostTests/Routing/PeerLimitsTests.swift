import Foundation
import PluginAPI
import Testing

@testable import Calls
@testable import Engine
@testable import Routing
@testable import SIPCore

/// A peer's `limits` (calls in progress, calls per second), inbound and outbound, and the emergency route exempt
/// from them, from overload and from drain.
@Suite struct PeerLimitsTests {
    typealias Chain = RequestChainTests

    static func site() throws -> Site {
        let config = """
            routes: routes.yaml
            peers:
              - name: pbx
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5070
                limits: {max_calls: 2, max_calls_per_second: 5, status: 486}
              - name: trunk
                plugin: ITSPTrunk
                kind: external
                address: 127.0.0.1:5090
            """
        let routes = """
            routes:
              - {name: emergency, match: {from: pbx, headers: {X-Emergency: true}}, targets: [trunk], emergency: true}
              - {name: out, match: {from: pbx}, targets: [trunk]}
            """
        let (site, d, _) = try ConfigurationTests.load(config: config, routes: routes)
        try #require(!d.hasErrors, "\(d.items)")
        return try #require(site)
    }

    static func run(_ env: Chain.Environment, emergency: Bool = false) throws -> (StepOutcome, RequestState) {
        let invite = try Chain.invite { if emergency { $0.headers.append(SIPHeader("X-Emergency", "true")) } }
        var state = RequestState(site: try site(), message: invite)
        let outcome = RequestChain.standard.run(&state, in: env)
        return (outcome, state)
    }

    @Test func aPeerAtItsLimitGetsItsStatusAndAnAdmittedCallIsCounted() throws {
        var env = Chain.Environment()
        env.admits = false
        let (refused, _) = try Self.run(env)
        guard case .answer(let answer) = refused else {
            Issue.record("\(refused)")
            return
        }
        #expect(answer.status == 486 && answer.counted == "peer_limit")
        #expect(answer.headers.contains { $0.hasName("retry-after") })
        env.admits = true
        let (admitted, state) = try Self.run(env)
        #expect(admitted == .toTargets)
        #expect(state.countedPeer == "pbx", "the call gives its slot back when it ends")
    }

    @Test func anEmergencyCallIsExemptFromLimitsOverloadAndDrain() throws {
        var env = Chain.Environment()
        env.admits = false
        env.draining = true
        env.overload = "calls"
        let (normal, _) = try Self.run(env)
        guard case .answer(let answer) = normal else {
            Issue.record("\(normal)")
            return
        }
        #expect(answer.status == 503, "a normal call still gets the drain's 503")
        let (emergency, state) = try Self.run(env, emergency: true)
        #expect(emergency == .toTargets)
        #expect(state.route?.name == "emergency" && state.countedPeer == nil)
        env.draining = false
        let (overloaded, _) = try Self.run(env)
        guard case .answer(let o) = overloaded else {
            Issue.record("\(overloaded)")
            return
        }
        #expect(o.counted == "overload", "the overload's refusal, deferred to the route, is the one given")
    }

    @Test func countsAreSharedTakenAndGivenBackAndSurviveAReload() throws {
        let site = try Self.site()
        let counts = PeerCallCounts(site: site)
        #expect(counts.begin("pbx", max: 2) && counts.begin("pbx", max: 2))
        #expect(!counts.begin("pbx", max: 2))
        #expect(counts.begin("trunk", max: nil), "a peer without a limit is not counted")
        counts.end("pbx")
        let reloaded = PeerCallCounts(site: site, previous: counts)
        #expect(reloaded.current("pbx") == 1)
        #expect(reloaded.begin("pbx", max: 2) && !reloaded.begin("pbx", max: 2))
    }

    @Test func aTargetAtItsLimitIsSkippedAndTheSlotOfAnotherComesBack() throws {
        let host = CallLadderTests.Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        let site = try CallLadderTests.site(gwExtra: "    limits: {max_calls: 30}\n")
        host.atLimit = ["gw"]
        let (call, _) = try CallLadderTests.call(host, site: site)
        #expect(host.ladder == ["gw2 INVITE"], "gw is at its limit: the route's next target")
        #expect(call.record.attempts.first?.note == "at its limits")
        host.answer("gw2", "INVITE", 486)
        #expect(host.released.isEmpty, "gw2 has no limit: nothing was taken")

        let host2 = CallLadderTests.Host(peers: ["pbx": 5070, "gw": 5080, "gw2": 5081])
        _ = try CallLadderTests.call(host2, site: site)
        host2.answer("gw", "INVITE", 503)
        #expect(host2.released == ["gw"], "gw's slot comes back when it fails")
    }
}
