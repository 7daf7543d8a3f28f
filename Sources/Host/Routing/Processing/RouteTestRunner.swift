import PluginAPI

/// Runs the `tests:` of a routes file against a site: real adapters, real table.
public struct RouteTestRunner: Sendable {
    public struct Failure: Sendable, CustomStringConvertible {
        public var test: RouteTest
        public var problems: [String]
        public var description: String {
            "\(test.position): error: route test '\(test.name)' failed: " + problems.joined(separator: "; ")
        }
    }

    public let site: Site

    public init(site: Site) { self.site = site }

    /// Failures only; an empty list means every test passed.
    public func run() -> [Failure] {
        site.routes.tests.enumerated().compactMap { i, t in check(t, callID: "route-test-\(i + 1)") }
    }

    package func check(_ t: RouteTest, callID: String) -> Failure? {
        guard let peer = site.peer(t.from) else { return Failure(test: t, problems: ["unknown peer \(t.from)"]) }
        let invite = SyntheticCall.invite(from: peer, to: t.to, caller: t.caller, callID: callID)
        let result: RequestProcessor.Result
        do {
            result = try RequestProcessor(site: site).process(invite, from: t.from, at: t.at)
        } catch {
            return Failure(test: t, problems: ["\(error)"])
        }
        var problems: [String] = []
        var routeName: String?
        switch result.outcome {
        case .forwarded(let r): routeName = r
        case .rejected(let r, let status, _):
            routeName = r
            if let want = t.expectReject, want != status {
                problems.append("rejected with \(status), expected \(want)")
            }
            if t.expectReject == nil, t.expectTargets != nil || !t.expectNumbers.isEmpty {
                problems.append("rejected with \(status), expected it to be forwarded")
            }
        }
        if let want = t.expectReject, case .forwarded = result.outcome {
            problems.append("forwarded by route '\(routeName ?? "?")', expected reject \(want)")
        }
        if let want = t.expectRoute, want != routeName {
            problems.append("matched route '\(routeName ?? "none")', expected '\(want)'")
        }
        let got = result.legs.map(\.peer)
        if let want = t.expectTargets, want != got {
            problems.append("targets [\(got.joined(separator: ", "))], expected [\(want.joined(separator: ", "))]")
        }
        for (peer, want) in t.expectNumbers.sorted(by: { $0.key < $1.key }) {
            let leg = result.legs.first { $0.peer == peer }
            if leg?.calledNumber != want {
                problems.append("\(peer) receives called number \(leg?.calledNumber ?? "nothing"), expected \(want)")
            }
        }
        for (peer, want) in t.expectCallers.sorted(by: { $0.key < $1.key }) {
            let leg = result.legs.first { $0.peer == peer }
            if leg?.callerNumber != want {
                problems.append("\(peer) receives caller \(leg?.callerNumber ?? "nothing"), expected \(want)")
            }
        }
        return problems.isEmpty ? nil : Failure(test: t, problems: problems)
    }
}
