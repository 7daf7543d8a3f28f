import Foundation

/// What the status page and the management API show, gathered from every shard on its own loop.
public struct EngineStatus: Sendable {
    public struct Peer: Sendable {
        public var name: String
        public var plugin: String
        public var profile: String
        public var kind: String
        public var transport: String
        public var address: String
        /// False when health checks have it down.
        public var up: Bool
        /// Taken out of routing through the API (`drain`).
        public var drained: Bool
        public var healthChecked: Bool
        /// The last OPTIONS probe: its status (nil: no answer) and when.
        public var lastProbe: (status: Int?, at: Date)?
        /// Calls in progress with this peer on either side.
        public var activeCalls: Int
        public var registration: String?
    }

    public struct Call: Sendable {
        public var aCallID: String
        public var bCallID: String?
        public var source: String
        public var target: String?
        public var route: String?
        public var called: String?
        public var caller: String?
        public var state: String
        public var setupTime: Date
        public var answerTime: Date?
    }

    public struct Route: Sendable {
        public var name: String
        public var match: String
        public var action: String
        public var attempted: Int
        public var answered: Int
        public var failed: Int
    }

    public struct Reload: Sendable {
        public var at: Date
        public var ok: Bool
        public var reason: String
        /// `file:line:col: error: message` for each problem of a refused reload.
        public var errors: [String]
    }

    /// rtpengine, when the configuration has it.
    public struct Media: Sendable {
        public struct Instance: Sendable {
            public var name: String
            public var address: String
            public var weight: Int
            public var up: Bool
        }

        public var instances: [Instance]
        /// Anchored sessions created and not yet deleted.
        public var sessions: Int
        /// Requests to rtpengine that failed since the start.
        public var failures: Int
    }

    /// A peer host name and what DNS last said of it (RFC 3263).
    public struct Located: Sendable {
        public var name: String
        /// Its servers in priority order ("sbc1.example udp 192.0.2.1:5060 (priority 10, weight 1)"); empty when
        /// it has none.
        public var servers: [String]
        public var ttl: Int?
        /// Why the last lookup found nothing, if it did.
        public var failing: String?
    }

    public var startedAt: Date
    public var media: Media?

    public var peers: [Peer]
    public var calls: [Call]
    public var routes: [Route]
    /// Increases by one with every configuration put in force (1: the one loaded at start).
    public var routesVersion: Int
    public var routesLoadedAt: Date
    public var lastReload: Reload?
    public var transactions: Int
    /// Peer host names and their last DNS answers.
    public var dns: [Located] = []
}

/// Per-route counters a shard keeps for the status page (the metrics have the same as Prometheus series).
struct RouteStats: Sendable {
    package var attempted = 0
    package var answered = 0
    package var failed = 0
}
