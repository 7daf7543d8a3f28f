import Foundation
import PluginAPI
import Testing

@testable import Routing
@testable import SIPCore

/// The request chain's steps against an environment the test sets: which step decides, what it answers, and what
/// the runner records. The engine's side (the shard as environment) is covered end to end by the live tests.
@Suite struct RequestChainTests {
    /// An environment whose every answer the test chooses.
    struct Environment: RequestEnvironment {
        var source: String? = "pbx"
        var call = false
        var draining = false
        var overload: String?
        var authentication: StepOutcome = .proceed
        var authenticated: [String] = []
        var admits = true

        func peer(sending request: RequestState) -> String? { source }
        func hasCall(_ request: RequestState) -> Bool { call }
        func overloadReason() -> String? { overload }
        func authenticate(
            _ request: RequestState, peer: String, credentials: PatchbayConfiguration.Credentials
        ) -> StepOutcome { authentication }
        func admitCall(from peer: String, limits: PatchbayConfiguration.PeerLimits) -> Bool { admits }
        var name: String { "test" }
    }

    static func site(pbxExtra: String = "", unknownSources: String = "reject") throws -> Site {
        let config = """
            routes: routes.yaml
            unknown_sources: \(unknownSources)
            peers:
              - name: pbx
                plugin: IPPBX
                kind: internal
                address: 127.0.0.1:5070
            \(pbxExtra)
              - name: trunk
                plugin: ITSPTrunk
                kind: external
                address: 127.0.0.1:5090
            """
        let routes = """
            routes:
              - {name: barred, match: {from: pbx, headers: {X-Barred: true}}, reject: 403, reason: Barred}
              - {name: out, match: {from: pbx}, targets: [trunk]}
            """
        let (site, d, _) = try ConfigurationTests.load(config: config, routes: routes)
        try #require(!d.hasErrors, "\(d.items)")
        return try #require(site)
    }

    static func invite(_ edit: (inout SIPMessage) -> Void = { _ in }) throws -> SIPMessage {
        var m = try SIPParser().parse(try TestSupport.fixture("pbx-invite-national.sip"))
        edit(&m)
        return m
    }

    static func request(_ method: String, toTag: Bool = false) throws -> SIPMessage {
        try invite { m in
            m.startLine = .request(method: method, uri: "sip:0030987654@127.0.0.1:5060", version: "SIP/2.0")
            m.setHeader("CSeq", "101 \(method)")
            if toTag { m.setHeader("To", "<sip:0030987654@127.0.0.1:5060>;tag=theirs") }
            m.body = []
            m.removeHeaders { $0.hasName("content-type") }
        }
    }

    /// Runs the standard chain and returns the outcome and the questions the runner recorded, in order.
    static func run(
        _ message: SIPMessage, _ environment: Environment, site: Site? = nil
    ) throws -> (StepOutcome, [String], RequestState) {
        var state = RequestState(site: try site ?? Self.site(), message: message)
        var questions: [String] = []
        let outcome = RequestChain.standard.run(&state, in: environment) { questions.append($0.title) }
        return (outcome, questions, state)
    }

    @Test func aNewCallGoesThroughEveryStepToItsTargets() throws {
        let (outcome, questions, state) = try Self.run(try Self.invite(), Environment())
        #expect(outcome == .toTargets)
        #expect(questions.count == RequestChain.standard.steps.count)
        #expect(state.peer == "pbx")
        #expect(state.route?.name == "out")
        #expect(state.targets == ["trunk"])
        #expect(state.house != nil)
    }

    @Test func theFirstStepThatDecidesEndsTheChain() throws {
        var env = Environment()
        env.draining = true
        let (outcome, questions, _) = try Self.run(try Self.invite(), env)
        guard case .answer(let a) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(a.status == 503)
        #expect(a.headers.map(\.value) == ["30"])
        #expect(questions.last == "are we draining?")
        #expect(!questions.contains("which route?"))
    }

    @Test func anUnknownSourceIsRefusedOrIgnoredAsTheSiteSays() throws {
        var env = Environment()
        env.source = nil
        let (refused, _, _) = try Self.run(try Self.invite(), env)
        #expect(refused == .answer(.init(403, "Forbidden").countedAs("unknown_source")))
        let (ack, _, _) = try Self.run(try Self.request("ACK"), env)
        #expect(ack == .drop(counted: "unknown_source"))
        let (ignored, _, _) = try Self.run(try Self.invite(), env, site: try Self.site(unknownSources: "drop"))
        #expect(ignored == .drop(counted: "unknown_source"))
    }

    @Test func requestsOfACallInProgressGoToTheCall() throws {
        var env = Environment()
        env.call = true
        for message in [try Self.request("BYE", toTag: true), try Self.request("CANCEL"), try Self.invite()] {
            let (outcome, _, _) = try Self.run(message, env)
            #expect(outcome == .toCall, "\(message.method)")
        }
        env.call = false
        let (bye, _, _) = try Self.run(try Self.request("BYE", toTag: true), env)
        #expect(bye == .answer(.init(481, "Call/Transaction Does Not Exist").untagged))
        let (ack, _, _) = try Self.run(try Self.request("ACK", toTag: true), env)
        #expect(ack == .drop(counted: nil))
    }

    @Test func aRequiredExtensionGets420NamingIt() throws {
        let message = try Self.invite { $0.headers.append(SIPHeader("Require", "100rel, x-foo")) }
        let (outcome, _, _) = try Self.run(message, Environment())
        #expect(outcome == .answer(.init(420, "Bad Extension", headers: [SIPHeader("Unsupported", "x-foo")])))
        // 100rel alone is supported by default (prack: supported), and refused where the peer has prack: off.
        let reliable = try Self.invite { $0.headers.append(SIPHeader("Require", "100rel")) }
        let (accepted, _, _) = try Self.run(reliable, Environment())
        #expect(accepted == .toTargets)
        let (refused, _, _) = try Self.run(reliable, Environment(), site: try Self.site(pbxExtra: "    prack: off"))
        #expect(refused == .answer(.init(420, "Bad Extension", headers: [SIPHeader("Unsupported", "100rel")])))
    }

    @Test func eachMethodOutsideACallGetsItsAnswer() throws {
        let expected: [(String, Int)] = [
            ("OPTIONS", 200), ("BYE", 481), ("INFO", 481), ("REGISTER", 405), ("SUBSCRIBE", 405), ("FOO", 501),
        ]
        for (method, status) in expected {
            let (outcome, questions, _) = try Self.run(try Self.request(method), Environment())
            guard case .answer(let a) = outcome else {
                Issue.record("\(method): \(outcome)")
                continue
            }
            #expect(a.status == status, "\(method)")
            #expect(questions.last == "do we serve this method?", "\(method)")
            if status != 481 { #expect(a.headers.contains { $0.hasName("allow") }, "\(method)") }
        }
    }

    @Test func overloadAuthenticationAndHopsDecideInThatOrder() throws {
        let spent = try Self.invite { $0.setHeader("Max-Forwards", "0") }
        var env = Environment()
        env.overload = "calls"
        let (overloaded, _, _) = try Self.run(spent, env)
        let refusal = StepOutcome.Answer(503, "Service Unavailable", headers: [SIPHeader("Retry-After", "5")])
        #expect(overloaded == .answer(refusal.countedAs("overload", note: "calls")))
        env.overload = nil
        let (hops, _, _) = try Self.run(spent, env)
        #expect(hops == .answer(.init(483, "Too Many Hops")))
        // The environment is asked only for a peer that has inbound_auth.
        env.authentication = .answer(.init(401, "Unauthorized"))
        let (plain, _, _) = try Self.run(try Self.invite(), env)
        #expect(plain == .toTargets)
        let authSite = try Self.site(pbxExtra: "    inbound_auth: {username: pbx, password: secret}")
        let (challenged, questions, _) = try Self.run(spent, env, site: authSite)
        #expect(challenged == .answer(.init(401, "Unauthorized")))
        #expect(questions.last == "must it authenticate?")
    }

    @Test func theRouteStepRejectsOrFindsNoRoute() throws {
        let barred = try Self.invite { $0.headers.append(SIPHeader("X-Barred", "yes")) }
        let (outcome, _, state) = try Self.run(barred, Environment())
        #expect(outcome == .answer(.init(403, "Barred")))
        #expect(state.route?.name == "barred")
        var env = Environment()
        env.source = "trunk"
        let (none, _, _) = try Self.run(try Self.invite(), env)
        #expect(none == .answer(.init(404, "Not Found")))
    }

    @Test func withoutARecorderNoStepIsExplained() throws {
        // The engine's path: the same outcome, and the house format and targets, without any record being made.
        var state = RequestState(site: try Self.site(), message: try Self.invite())
        #expect(RequestChain.standard.run(&state, in: Environment()) == .toTargets)
        #expect(state.targets == ["trunk"])
        #expect(state.legs.isEmpty, "only the offline commands build every target's request")
    }

    @Test func aSessionIntervalBelowThePeersMinSEGets422() throws {
        let site = try Self.site(pbxExtra: "    session_timer: {expires: 1800, min_se: 120}")
        let short = try Self.invite { $0.headers.append(SIPHeader("Session-Expires", "60;refresher=uac")) }
        let (outcome, questions, _) = try Self.run(short, Environment(), site: site)
        #expect(outcome == .answer(.init(422, "Session Interval Too Small", headers: [SIPHeader("Min-SE", "120")])))
        #expect(questions.last == "is the session interval long enough?")
        let long = try Self.invite { $0.headers.append(SIPHeader("Session-Expires", "1800")) }
        #expect(try Self.run(long, Environment(), site: site).0 == .toTargets)
        // Without a session_timer the peer's Session-Expires is not Patchbay's to judge, and timer is unsupported.
        #expect(try Self.run(short, Environment()).0 == .toTargets)
        let requiresTimer = try Self.invite { $0.headers.append(SIPHeader("Require", "timer")) }
        #expect(
            try Self.run(requiresTimer, Environment()).0
                == .answer(.init(420, "Bad Extension", headers: [SIPHeader("Unsupported", "timer")])))
        #expect(try Self.run(requiresTimer, Environment(), site: site).0 == .toTargets)
    }
}
