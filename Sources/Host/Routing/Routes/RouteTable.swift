import Foundation
import PluginAPI

/// The routes in force: an immutable snapshot, compiled once when the file is loaded (regexes and prefixes), and
/// replaced whole on reload.
public struct RouteTable: Sendable {
    public var file: String
    public var routes: [Route]
    /// Whether any route is `emergency`: only then do drain and overload wait for the route before refusing.
    package var hasEmergencyRoutes: Bool { routes.contains { $0.emergency } }
    public var tests: [RouteTest]

    public enum Decision: Sendable {
        case route(Route)
        /// No route matched: 404 unless a route says otherwise.
        case noMatch
    }

    /// Top-down, first match wins. Sees only house-format numbers. `at`: the time a route's `when:` is checked
    /// against (route tests set it); nil: the clock, read only when a route has a `when:`.
    public func decide(source: String, called: String, caller: String?, message: SIPMessage, at: Date? = nil)
        -> Decision
    {
        var now = at
        for r in routes where r.matches(source: source, called: called, caller: caller, message: message) {
            if let schedule = r.schedule {
                let date = now ?? Date()
                now = date
                guard schedule.contains(date) else { continue }
            }
            return .route(r)
        }
        return .noMatch
    }
}

/// A check an operator writes next to the routes: a call from a peer with numbers as that peer sends them, and the
/// targets and numbers expected. `patchbay check` runs them through the real adapters and table.
public struct RouteTest: Sendable {
    public var name: String
    public var from: String
    public var to: String
    public var caller: String?
    public var expectRoute: String?
    /// Expected target peers in order (nil: not checked).
    public var expectTargets: [String]?
    /// Expected number each target receives in the Request-URI, by peer.
    public var expectNumbers: [String: String]
    /// Expected caller number each target receives in From, by peer.
    public var expectCallers: [String: String]
    public var expectReject: Int?
    /// The time the test's call is routed at (routes' `when:`); nil: the clock.
    public var at: Date?
    public var position: SourcePosition
}
