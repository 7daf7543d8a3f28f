import PluginAPI
import SIPCore

/// The routing table's first route that matches the house-format request decides: its targets in order
/// (weighted ones by the Call-ID's hash), or a rejection; no route at all is 404.
package struct WhichRoute: RequestStep {
    package var question: String { "which route?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        guard let house = request.house, let source = request.peer else {
            return .answer(.init(500, "Server Internal Error"))
        }
        let called = Self.called(house)
        let caller = house.fromUser.flatMap(RequestProcessor.number(inUser:))
        switch request.site.routes.decide(
            source: source, called: called, caller: caller, message: house, at: request.now)
        {
        case .noMatch:
            return .answer(.init(404, "Not Found"))
        case .route(let route):
            request.route = route
            switch route.action {
            case .reject(let status, let reason):
                return .answer(.init(status, reason))
            case .forward:
                let seed = request.seed ?? StableHash.fnv1a(request.message.callID ?? "")
                request.targets = route.orderedTargets(seed: seed).map(\.peer)
                request.ringTimeout = route.ringTimeout
                return .proceed
            }
        }
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        let called = after.house.map(Self.called) ?? ""
        guard let route = after.route else {
            return record(["no route matches \(called) from \(after.peer ?? "?"): 404 Not Found"])
        }
        if case .answer(let a) = outcome {
            return record(["route '\(route.name)' (line \(route.position.line)) rejects: \(a.status) \(a.reason)"])
        }
        let caller = after.house?.fromUser.flatMap(RequestProcessor.number(inUser:))
        return record(
            [
                "route '\(route.name)' (line \(route.position.line)) matches \(called)"
                    + (caller.map { " from \($0)" } ?? ""),
                "targets in order: " + after.targets.joined(separator: ", "),
            ] + (route.schedule.map { ["within its 'when': \($0)"] } ?? []))
    }

    private static func called(_ house: SIPMessage) -> String {
        house.requestURIUser.flatMap(RequestProcessor.number(inUser:)) ?? ""
    }
}
