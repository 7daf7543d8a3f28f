import PluginAPI

/// One entry of `routes.yaml`: what it matches and what it does. Routes are evaluated top-down; the first match
/// wins.
public struct Route: Sendable {
    public struct Target: Sendable, Equatable {
        public var peer: String
        /// Targets with the same priority share load by weight; lower priority numbers are tried first.
        public var priority: Int
        public var weight: Int
    }

    public struct HeaderCondition: Sendable {
        public var name: String
        /// nil: the header must be present. Otherwise searched for within each value (not anchored).
        public var regex: CompiledRegex?
    }

    public enum Action: Sendable {
        case forward([Target])
        case reject(status: Int, reason: String)
    }

    public var name: String
    /// nil: from any peer.
    public var sources: Set<String>?
    public var called: [NumberPattern]
    public var caller: [NumberPattern]
    public var headers: [HeaderCondition]
    public var action: Action
    /// How long a target may ring (after its first provisional response) before it is cancelled and the next
    /// target is tried; nil lets it ring until the caller gives up.
    public var ringTimeout: Double?
    /// The longest an answered call on this route may last before Patchbay ends it with BYE both ways (seconds).
    public var maxDuration: Double?
    /// Calls on this route are exempt from peers' `limits`, from overload and from drain (emergency numbers).
    public var emergency = false
    /// `when:`; nil: always.
    public var schedule: RouteSchedule?
    public var position: SourcePosition

    public func matches(source: String, called calledNumber: String, caller callerNumber: String?, message: SIPMessage)
        -> Bool
    {
        if let sources, !sources.contains(source) { return false }
        if !called.isEmpty, !called.contains(where: { $0.matches(calledNumber) }) { return false }
        if !caller.isEmpty {
            guard let callerNumber, caller.contains(where: { $0.matches(callerNumber) }) else { return false }
        }
        for h in headers {
            let values = message.values(h.name)
            if values.isEmpty { return false }
            if let r = h.regex, !values.contains(where: { r.matches($0) }) { return false }
        }
        return true
    }

    /// Targets in the order to try them: by priority, and within one priority by weighted choice seeded from
    /// `seed` (the Call-ID's hash at run time), so the same call always gets the same order.
    public func orderedTargets(seed: UInt64) -> [Target] {
        guard case .forward(let targets) = action else { return [] }
        var rng = SplitMix64(seed: seed)
        var out: [Target] = []
        for priority in Set(targets.map(\.priority)).sorted() {
            var group = targets.filter { $0.priority == priority }
            while !group.isEmpty {
                let total = group.reduce(0) { $0 + Swift.max(1, $1.weight) }
                var pick = Int(rng.next() % UInt64(total))
                var index = 0
                for (i, t) in group.enumerated() {
                    pick -= Swift.max(1, t.weight)
                    if pick < 0 {
                        index = i
                        break
                    }
                }
                out.append(group.remove(at: index))
            }
        }
        return out
    }

    /// True when every request this route matches is also matched by `earlier`, so this one can never win. An
    /// earlier route limited in time (`when:`) shadows nothing: outside its windows the later one still wins.
    func isShadowed(by earlier: Route) -> Bool {
        if earlier.schedule != nil { return false }
        if let mine = sources {
            if let theirs = earlier.sources, !mine.isSubset(of: theirs) { return false }
        } else if earlier.sources != nil {
            return false
        }
        func covered(_ mine: [NumberPattern], _ theirs: [NumberPattern]) -> Bool {
            if theirs.isEmpty { return true }
            if mine.isEmpty { return false }
            return mine.allSatisfy { m in theirs.contains { m.isCovered(by: $0) } }
        }
        guard covered(called, earlier.called), covered(caller, earlier.caller) else { return false }
        // Header conditions only narrow a route; an earlier route with any cannot be proven to cover this one.
        return earlier.headers.isEmpty
    }
}

/// A small deterministic generator, so weighted target order is reproducible per call.
struct SplitMix64 {
    package var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
