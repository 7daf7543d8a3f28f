import Foundation
import PluginAPI
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

@Suite struct RouteTableTests {
    static let peers: Set<String> = ["pbx", "gw", "itsp", "itsp2"]

    static func table(_ yaml: String) throws -> RouteTable {
        let d = Diagnostics()
        let t = RouteTable.parse(yaml, file: "routes.yaml", peers: peers, diagnostics: d)
        try #require(!d.hasErrors, "\(d.items)")
        return try #require(t)
    }

    static let invite = try! SIPMessage(parsing: "INVITE sip:x@y SIP/2.0\r\nX-Tenant: acme-berlin\r\n\r\n")

    static func decide(_ t: RouteTable, from: String, to: String, caller: String? = nil, message: SIPMessage = invite)
        -> String?
    {
        if case .route(let r) = t.decide(source: from, called: to, caller: caller, message: message) { return r.name }
        return nil
    }

    @Test func firstMatchWinsTopDown() throws {
        let t = try Self.table(
            """
            routes:
              - {name: mobile, match: {from: pbx, to: ["+4915", "+4917"]}, targets: [itsp]}
              - {name: national, match: {from: pbx, to: "+49"}, targets: [gw]}
              - {name: anything, targets: [itsp2]}
            """)
        #expect(Self.decide(t, from: "pbx", to: "+491701234567") == "mobile")
        #expect(Self.decide(t, from: "pbx", to: "+4930123") == "national")
        #expect(Self.decide(t, from: "pbx", to: "+4420") == "anything")
        #expect(Self.decide(t, from: "gw", to: "+491701234567") == "anything")
    }

    @Test func regexExactCallerAndHeaderConditions() throws {
        let t = try Self.table(
            #"""
            routes:
              - {name: ceo, match: {caller: {exact: "+49301232000"}}, targets: [gw]}
              - {name: tenant, match: {headers: {X-Tenant: "^acme-"}}, targets: [itsp]}
              - {name: did, match: {to: {regex: '\+49301232\d{3}'}}, targets: [pbx]}
            """#)
        #expect(Self.decide(t, from: "itsp", to: "+44", caller: "+49301232000") == "ceo")
        #expect(Self.decide(t, from: "itsp", to: "+44", caller: "+49301232001") == "tenant")
        let plain = try SIPMessage(parsing: "INVITE sip:x@y SIP/2.0\r\n\r\n")
        #expect(Self.decide(t, from: "itsp", to: "+49301232345", message: plain) == "did")
        #expect(Self.decide(t, from: "itsp", to: "+493012323456", message: plain) == nil, "regex is anchored")
        #expect(Self.decide(t, from: "itsp", to: "+44", message: plain) == nil)
    }

    @Test func rejectRouteCarriesItsStatus() throws {
        let t = try Self.table("routes:\n  - {name: barred, match: {to: \"+49900\"}, reject: 403, reason: Barred}\n")
        guard case .route(let r) = t.decide(source: "pbx", called: "+499001", caller: nil, message: Self.invite),
            case .reject(let status, let reason) = r.action
        else {
            Issue.record("expected a reject route")
            return
        }
        #expect(status == 403)
        #expect(reason == "Barred")
    }

    @Test func priorityGroupsComeFirstAndWeightsShareWithinAGroup() throws {
        let t = try Self.table(
            """
            routes:
              - name: intl
                targets:
                  - {peer: itsp, priority: 1, weight: 3}
                  - {peer: itsp2, priority: 1, weight: 1}
                  - {peer: gw, priority: 2}
            """)
        let route = try #require(t.routes.first)
        var firstCounts: [String: Int] = [:]
        for seed in 0..<4000 {
            let order = route.orderedTargets(seed: UInt64(seed)).map(\.peer)
            #expect(order.last == "gw")
            #expect(Set(order) == ["itsp", "itsp2", "gw"])
            firstCounts[order[0], default: 0] += 1
        }
        // 3:1 by weight; the bound is loose enough to be deterministic for these seeds, tight enough to catch 1:1.
        let share = Double(firstCounts["itsp", default: 0]) / 4000
        #expect(share > 0.70 && share < 0.80, "itsp first in \(share)")
        #expect(route.orderedTargets(seed: 42).map(\.peer) == route.orderedTargets(seed: 42).map(\.peer))
    }

    @Test func numberPatternsMustBeNumbers() {
        let d = Diagnostics()
        _ = RouteTable.parse(
            "routes:\n  - {name: x, match: {to: \"+49.*\"}, targets: [gw]}\n", file: "r.yaml", peers: Self.peers,
            diagnostics: d)
        #expect(
            d.errors.map(\.description) == [
                "r.yaml:2:27: error: 'to' prefix '+49.*' contains '.'; use {regex: ...} for patterns"
            ])
    }

    @Test func routeWithoutTargetsOrRejectIsAnError() {
        let d = Diagnostics()
        _ = RouteTable.parse(
            "routes:\n  - name: lost\n    match: {from: pbx}\n", file: "r.yaml", peers: Self.peers, diagnostics: d)
        #expect(d.errors.map(\.description) == ["r.yaml:2:5: error: route 'lost' needs 'targets' or 'reject'"])
    }
}
