import PluginAPI

/// The path an initial request takes, as small steps named after the question each answers (the way reSIProcate's
/// repro chains its request processors): which peer sent it, what it means in the house format, which route takes
/// it, and what each target receives. The offline commands (`route`, `process`, `check`) and the engine share it,
/// so what an operator dry-runs is what runs.
public struct RequestProcessor: Sendable {
    public let site: Site

    /// The CLI's `--explain` and the route tests want every step with its diff and every target's translated
    /// request; the engine wants neither: it builds a target's request only when it tries that target (most calls
    /// never fail over) and describes nothing.
    public let explain: Bool

    public init(site: Site, explain: Bool = true) {
        self.site = site
        self.explain = explain
    }

    public struct Step: Sendable {
        public var title: String
        public var notes: [String]
        public var diff: MessageDiff?
    }

    public struct Leg: Sendable {
        public var peer: String
        public var message: SIPMessage
        public var calledNumber: String?
        public var callerNumber: String?
        /// What the target's adapter did to the numbers, for `--explain`.
        public var numberChanges: [NumberTranslation.Change] = []
        /// Headers the target's header policy dropped, for `--explain`.
        public var headersDropped: [String] = []
        /// Set when the target's codec policy left no audio codec: the engine does not send this request.
        public var mediaRefusal: MediaRefusal?

        public init(peer: String, message: SIPMessage, calledNumber: String? = nil, callerNumber: String? = nil) {
            self.peer = peer
            self.message = message
            self.calledNumber = calledNumber
            self.callerNumber = callerNumber
        }
    }

    public enum Outcome: Sendable, Equatable {
        case forwarded(route: String)
        case rejected(route: String?, status: Int, reason: String)
    }

    public struct Result: Sendable {
        public var steps: [Step] = []
        public var outcome: Outcome = .rejected(route: nil, status: 500, reason: "Server Internal Error")
        public var house: SIPMessage?
        /// `house`'s SDP as the inbound adapter left it, for `leg(for:house:parsed:)`: parsed once per call.
        public var houseSDP: ParsedSDP?
        /// The matched route's ring timeout, for the engine.
        public var ringTimeout: Double?
        /// One per target in the order they would be tried (with `explain`; otherwise empty, see `targets`).
        public var legs: [Leg] = []
        /// The targets' peer names in the order they would be tried; `leg(for:house:)` makes each one's request.
        public var targets: [String] = []
    }

    public enum ProcessingError: Error, CustomStringConvertible {
        case unknownPeer(String)
        public var description: String {
            switch self {
            case .unknownPeer(let p): return "unknown peer '\(p)'"
            }
        }
    }

    /// Runs an initial request received from `source` through the inbound adapter, the route table and every
    /// target's outbound adapter. `seed` orders weighted targets (the engine uses the Call-ID's hash).
    public func process(_ message: SIPMessage, from source: String, seed: UInt64 = 0) throws -> Result {
        guard let peer = site.peer(source), let inbound = site.adapters[source] else {
            throw ProcessingError.unknownPeer(source)
        }
        var result = Result()
        if explain {
            result.steps.append(
                Step(
                    title: "classify source",
                    notes: [
                        "peer '\(peer.name)' (\(peer.kind.rawValue), plugin \(peer.plugin), profile \(peer.profile))"
                    ],
                    diff: nil))
        }

        var house = message
        let numberChanges = AdapterPipeline.fromPeer(&house, adapter: inbound, parsed: &result.houseSDP)
        house.removeHeaders(peer.internalHeaderList)
        if explain {
            result.steps.append(
                Step(
                    title: "inbound adapter \(peer.plugin)/\(peer.profile): \(peer.name) dialect -> house format",
                    notes: numberChanges.map { "number \($0)" }, diff: MessageDiff(from: message, to: house)))
        }
        result.house = house

        route(house, from: source, seed: seed, into: &result)
        return result
    }

    /// The routing half of `process`, for a request already in the house format: also used when a target
    /// redirects a call (3xx) and Patchbay follows it with the new number.
    public func route(_ house: SIPMessage, from source: String, seed: UInt64 = 0) -> Result {
        var result = Result()
        result.house = house
        route(house, from: source, seed: seed, into: &result)
        return result
    }

    private func route(_ house: SIPMessage, from source: String, seed: UInt64, into result: inout Result) {
        let called = house.requestURIUser.flatMap(Self.number(inUser:)) ?? ""
        let caller = house.fromUser.flatMap(Self.number(inUser:))
        switch site.routes.decide(source: source, called: called, caller: caller, message: house) {
        case .noMatch:
            result.outcome = .rejected(route: nil, status: 404, reason: "Not Found")
            if explain {
                result.steps.append(
                    Step(title: "route", notes: ["no route matches \(called) from \(source): 404 Not Found"], diff: nil)
                )
            }
        case .route(let route):
            switch route.action {
            case .reject(let status, let reason):
                result.outcome = .rejected(route: route.name, status: status, reason: reason)
                if explain {
                    result.steps.append(
                        Step(
                            title: "route",
                            notes: ["route '\(route.name)' (line \(route.position.line)) rejects: \(status) \(reason)"],
                            diff: nil))
                }
            case .forward:
                let targets = route.orderedTargets(seed: seed)
                result.outcome = .forwarded(route: route.name)
                result.ringTimeout = route.ringTimeout
                result.targets = targets.map(\.peer)
                guard explain else { return }
                result.steps.append(
                    Step(
                        title: "route",
                        notes: [
                            "route '\(route.name)' (line \(route.position.line)) matches \(called)"
                                + (caller.map { " from \($0)" } ?? ""),
                            "targets in order: " + targets.map(\.peer).joined(separator: ", "),
                        ], diff: nil))
                for target in targets {
                    guard let targetPeer = site.peer(target.peer),
                        let leg = leg(for: target.peer, house: house, parsed: result.houseSDP)
                    else { continue }
                    result.steps.append(
                        Step(
                            title:
                                "outbound adapter \(targetPeer.plugin)/\(targetPeer.profile): house format -> \(target.peer) dialect",
                            notes: leg.numberChanges.map { "number \($0)" } + [
                                "header policy: \(targetPeer.headerPolicy.summary)"
                                    + (leg.headersDropped.isEmpty
                                        ? "" : "; dropped: " + leg.headersDropped.joined(separator: ", "))
                            ]
                                + (leg.mediaRefusal.map {
                                    ["not sent: \($0); the next target is tried, or the caller gets 488"]
                                } ?? []),
                            diff: MessageDiff(from: house, to: leg.message)))
                    result.legs.append(leg)
                }
            }
        }
    }

    /// The request for one target: the house-format request addressed to the target and through its adapter.
    /// `parsed` is `Result.houseSDP`.
    public func leg(for target: String, house: SIPMessage, parsed: ParsedSDP? = nil) -> Leg? {
        guard let targetPeer = site.peer(target), let adapter = site.adapters[target] else { return nil }
        var out = house
        if var ruri = out.requestURI, let address = targetPeer.addresses.first {
            // An IPv6 literal goes in brackets. On bytes: String.contains(String) is a Foundation substring search.
            ruri.host = address.host.utf8.contains(UInt8(ascii: ":")) ? "[\(address.host)]" : address.host
            ruri.port = address.port
            out.requestURI = ruri
        }
        out.removeHeaders(targetPeer.internalHeaderList)
        let dropped = targetPeer.headerPolicy.apply(to: &out)
        let changes = AdapterPipeline.toPeer(&out, adapter: adapter, parsed: parsed)
        var leg = Leg(
            peer: target, message: out, calledNumber: out.requestURIUser.flatMap(Self.number(inUser:)),
            callerNumber: out.fromUser.flatMap(Self.number(inUser:)))
        leg.numberChanges = changes
        leg.headersDropped = dropped
        leg.mediaRefusal = MediaRefusal.check(offered: house, sent: out, peer: target, adapter: adapter)
        return leg
    }

    /// The number in a URI user part: what comes before any `;` parameter.
    package static func number(inUser user: Substring) -> String? {
        // As `user.split(separator: ";").first`, which builds an array of Substrings to read one.
        let end = user.utf8.firstIndex(of: UInt8(ascii: ";")) ?? user.endIndex
        return end == user.startIndex ? nil : String(user[..<end])
    }
}
