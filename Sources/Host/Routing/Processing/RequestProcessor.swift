import Foundation
import PluginAPI

/// The offline face of the request chain (`RequestChain`): `patchbay route`, `process`, `check`'s route tests
/// and the tests run a request through the same steps as the engine, with `OfflineEnvironment`, every target's
/// request built and every step recorded for `--explain`. The engine runs the chain itself, and uses `leg(for:)`
/// to build a target's request when it tries that target.
public struct RequestProcessor: Sendable {
    public let site: Site

    public init(site: Site) {
        self.site = site
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
        /// One per target in the order they would be tried (`process`; `route` leaves it empty, see `targets`).
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

    /// Runs an initial request received from `source` through the whole chain: admission as the engine would
    /// see it from that peer (no call in progress, no drain, no load), the inbound adapter, the route table and
    /// every target's outbound adapter, each step recorded. `seed` orders weighted targets (the engine uses the
    /// Call-ID's hash).
    public func process(_ message: SIPMessage, from source: String, seed: UInt64 = 0, at: Date? = nil) throws
        -> Result
    {
        guard site.peer(source) != nil, site.adapters[source] != nil else {
            throw ProcessingError.unknownPeer(source)
        }
        var state = RequestState(site: site, message: message, seed: seed, everyTargetsRequest: true)
        state.now = at
        return run(RequestChain.standard, state, from: source)
    }

    /// The routing steps alone, for a request already in the house format: also used when a target redirects a
    /// call (3xx) and Patchbay follows it with the new number. No target's request is built.
    public func route(_ house: SIPMessage, from source: String, seed: UInt64 = 0) -> Result {
        var state = RequestState(site: site, message: house, seed: seed)
        state.peer = source
        state.house = house
        var result = Result()
        result.house = house
        result.outcome = Self.outcome(RequestChain.routing.run(&state, in: OfflineEnvironment(source: source)), state)
        result.targets = state.targets
        result.ringTimeout = state.ringTimeout
        return result
    }

    private func run(_ chain: RequestChain, _ start: RequestState, from source: String) -> Result {
        var state = start
        var result = Result()
        let outcome = chain.run(&state, in: OfflineEnvironment(source: source)) { result.steps.append($0) }
        result.outcome = Self.outcome(outcome, state)
        result.house = state.house
        result.houseSDP = state.houseSDP
        result.ringTimeout = state.ringTimeout
        result.targets = state.targets
        result.legs = state.legs
        return result
    }

    private static func outcome(_ outcome: StepOutcome, _ state: RequestState) -> Outcome {
        switch outcome {
        case .toTargets: return .forwarded(route: state.route?.name ?? "")
        case .answer(let a): return .rejected(route: state.route?.name, status: a.status, reason: a.reason)
        case .proceed, .drop, .toCall: return .rejected(route: nil, status: 500, reason: "Server Internal Error")
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
            // A host name without a port stays without one: the peer's servers come from its SRV records.
            ruri.port = address.portGiven ? address.port : nil
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
