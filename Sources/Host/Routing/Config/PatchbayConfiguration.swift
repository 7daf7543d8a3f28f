import PluginAPI
import SIPCore

/// `patchbay.yaml` as read: listeners, plugin directory, peers and the routes file. Positions are kept so that
/// checks made after reading (unknown plugin, an option a plugin refuses) still point at the right line.
public struct PatchbayConfiguration: Sendable {
    public typealias Transport = TransportKind

    public struct Listener: Sendable, Equatable {
        public var transport: Transport
        public var host: String
        public var port: Int
        /// The address written into Via and Contact, which peers send back to: needed when `host` is a wildcard
        /// (0.0.0.0) or behind NAT.
        public var advertise: String?
        /// For `transport: tls`: the server certificate, and whether peers must present one.
        public var tls: ListenerTLS?
        /// `name:` a signalling interface (`inside`, `outside`) peers choose with their `interface:`; listeners of
        /// several transports may share a name.
        public var name: String?
    }

    /// Client certificates on a TLS listener (mutual TLS, as Lync/Skype for Business and Teams Direct Routing use).
    public enum ClientVerification: String, Sendable, CaseIterable {
        /// The handshake fails without a client certificate signed by `client_ca`.
        case required
        /// A client certificate is checked if sent.
        case optional
        case none
    }

    public struct ListenerTLS: Sendable, Equatable {
        /// PEM files: the certificate chain (leaf first) and its private key. Read again on every reload.
        public var certificate: String
        public var privateKey: String
        /// PEM bundle of the CAs client certificates must chain to; nil: the system's trust store.
        public var clientCA: String?
        public var verifyClients: ClientVerification
        public var position: SourcePosition
    }

    /// Session timers (RFC 4028) with a peer: the interval Patchbay asks for, the least it accepts, and who
    /// refreshes.
    public struct SessionTimer: Sendable, Equatable {
        public enum Refresher: String, Sendable, CaseIterable {
            /// Patchbay refreshes the peer's leg (re-INVITE, or UPDATE where the peer allows it).
            case patchbay
            /// The peer refreshes; Patchbay ends the call when no refresh comes in time.
            case peer
        }

        /// Session-Expires asked for, seconds.
        public var expires = 1800
        /// Min-SE: a shorter interval from the peer gets 422.
        public var minSE = 90
        public var refresher = Refresher.patchbay
    }

    /// Reliable provisional responses (RFC 3262, `100rel`) with a peer.
    public enum PrackPolicy: String, Sendable, CaseIterable {
        /// Never: a caller's `Require: 100rel` gets 420, and the peer's INVITEs do not offer it.
        case off
        /// Offered in the INVITE to the peer and accepted from it.
        case supported
        /// Required in the INVITE to the peer (`Require: 100rel`).
        case required
    }

    /// How Patchbay checks a TLS peer's server certificate.
    public enum ServerVerification: String, Sendable, CaseIterable {
        /// Chain to `ca` (or the system store) and the name (`server_name`, else the address) in the certificate.
        case full
        /// Chain only: for peers whose certificate names a host other than the one dialled.
        case chain
        /// No check at all: a lab setting, logged as a warning at every load.
        case none
    }

    public struct PeerTLS: Sendable, Equatable {
        /// PEM bundle this peer's certificate must chain to; nil: the system's trust store.
        public var ca: String?
        /// SNI and the name checked in the certificate; nil: the peer's address (an IP is checked as an IP).
        public var serverName: String?
        public var verify: ServerVerification = .full
        /// The client certificate Patchbay presents to this peer (mutual TLS); nil: the first TLS listener's.
        public var certificate: String?
        public var privateKey: String?
        public var position: SourcePosition
    }

    public struct PeerAddress: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        /// Whether the port was written: a host name without one is looked up by NAPTR and SRV (RFC 3263), with one
        /// by A and AAAA only.
        public var portGiven = true
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
        /// A name to look up in DNS rather than an IP address.
        public var isHostName: Bool { !host.contains(":") && !host.allSatisfy { $0.isNumber || $0 == "." } }
        /// The peer as configured, for a URI or a log: a host name without the port it was not given (its servers'
        /// ports come from SRV), an address always with its port.
        public var asConfigured: String { portGiven || !isHostName ? description : host }
    }

    /// `dns:` how peers given by host name are looked up (RFC 3263). A lookup runs on a resolver thread; calls use
    /// the last answer and never wait for one.
    public struct DNS: Sendable, Equatable {
        /// `servers:` "host:port" entries asked instead of /etc/resolv.conf's.
        public var servers: [String] = []
        /// How long one try of a query waits, and how many tries.
        public var timeout: Double = 2
        public var tries = 2
        /// An answer is kept for its TTL, but never less than `minTTL` (a TTL of 0 would mean a lookup per call) nor
        /// more than `maxTTL`.
        public var minTTL: Double = 5
        public var maxTTL: Double = 3600
        /// After a lookup fails, the next try waits this long.
        public var retry: Double = 10

        public init() {}
    }

    /// OPTIONS keepalive for a peer: a peer that fails `downAfter` probes in a row is skipped by routing until it
    /// answers `upAfter` in a row. A final response counts as an answer (a 404 or 405 still proves the peer is
    /// alive) unless its status is in `downOn` (503 by default: a peer saying it is out of service); a timeout or
    /// transport error counts as a failure.
    public struct HealthCheck: Sendable, Equatable {
        public var interval: Double = 30
        /// How long a probe may go unanswered before it counts as failed; shorter than the transaction's own
        /// 64*T1, so a dead peer is noticed in seconds.
        public var timeout: Double = 5
        public var downAfter = 3
        public var upAfter = 2
        public var downOn: Set<Int> = [503]
    }

    /// RFC 3261 timers; shorter values make tests fast, longer ones suit slow links.
    public struct Timers: Sendable, Equatable {
        public var t1Milliseconds = 500
        public var t2Milliseconds = 4000
    }

    /// What Patchbay answers a peer's digest challenge (401/407) with, on calls and on REGISTER. Never logged.
    public struct Credentials: Sendable, Equatable {
        public var username: String
        public var password: String
        /// Answer only challenges naming this realm; nil answers whatever realm the peer names.
        public var realm: String?
    }

    /// Outbound registration (RFC 3261 section 10) of the site at a peer, typically an ITSP trunk that routes
    /// inbound calls to wherever the site last registered from.
    public struct Registration: Sendable, Equatable {
        /// The address-of-record user part (the account or main number).
        public var user: String
        /// The address-of-record host and the REGISTER's Request-URI; nil: the peer's address.
        public var domain: String?
        /// Asked for; the registrar may grant less (or demand more with 423), and Patchbay refreshes before the
        /// granted time runs out.
        public var expires = 3600
        /// Back-off after a failed attempt: the first retry waits `retryMin` seconds, each further failure doubles
        /// the wait up to `retryMax`. A Retry-After from the registrar is honoured instead.
        public var retryMin: Double = 30
        public var retryMax: Double = 600
    }

    /// Flood and overload protection. Rates are messages per second, checked per source address before parsing;
    /// each bucket holds twice its rate. Limits on calls and transactions are for the whole process.
    public struct Protection: Sendable, Equatable {
        public var peerRate: Double = 20_000
        public var unknownRate: Double = 5
        public var unknownTotalRate: Double = 100
        /// New INVITEs beyond this many calls in progress get 503 with Retry-After.
        public var maxCalls = 20_000
        public var maxTransactions = 100_000
        /// A shard whose messages wait longer than this in its queue is saturated: new INVITEs get 503 rather than
        /// queueing behind the calls it is already failing to serve.
        public var maxQueueDelayMilliseconds = 200
    }

    /// The call records store: one row per call in an SQLite file, written off the call path.
    public struct CallRecords: Sendable, Equatable {
        public var enabled = true
        /// Relative paths are relative to the configuration file.
        public var path: String
        /// Records older than this are deleted (checked hourly and at start).
        public var retentionDays = 90
    }

    /// The HTTP listener for /metrics, the management API and the status page. Off unless configured.
    public struct HTTP: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Required on every request (`Authorization: Bearer TOKEN`) when set; and it must be set when the
        /// listener is not on a loopback address.
        public var token: String?
        public var position: SourcePosition
    }

    public struct Peer: Sendable {
        public var name: String
        public var plugin: String
        public var profile: String
        public var kind: PeerKind
        public var transport: Transport
        /// Whether `transport` was written: without it, a peer given by host name takes its transport from NAPTR.
        public var transportGiven = false
        /// Where requests to the peer go (first entry) and where its traffic may come from (all entries).
        public var addresses: [PeerAddress]
        public var numbering: NumberingContext
        public var options: [String: OptionValue]
        /// Headers that never cross between this peer and the house: removed from what it sends after its adapter
        /// ran, and from the house message before its adapter writes what it sends (so the adapter can still add a
        /// header of its own that matches). Names, or `X-*` prefixes.
        public var internalHeaders: [String] {
            get { internalHeaderList.entries }
            set { internalHeaderList = HeaderNameList(newValue) }
        }
        /// `internalHeaders`, compiled once per configuration: every initial request is checked against it.
        public private(set) var internalHeaderList: HeaderNameList
        /// Which headers another peer's messages may bring to this one (`headers:`).
        public var headerPolicy: HeaderPolicy
        public var healthCheck: HealthCheck?
        public var credentials: Credentials?
        public var registration: Registration?
        public var tls: PeerTLS?
        /// Credentials this peer must answer Patchbay's challenge with before an INVITE from it is routed (on top
        /// of coming from its address); `realm` defaults to "patchbay".
        public var inboundAuth: Credentials?
        /// How long an INVITE to this peer may go without any response (not even 100 Trying) before the call moves
        /// on to its next target: RFC 3261 Timer B for this peer, 64*T1 (32 s) when not set. A peer that is down
        /// or unreachable otherwise holds every call for Timer B before failover.
        public var inviteTimeout: Double?
        /// `prack:` (RFC 3262); `supported` when not set.
        public var prack: PrackPolicy = .supported
        /// `session_timer:`; nil: off (Session-Expires is not used with this peer).
        public var sessionTimer: SessionTimer?
        /// `max_call_duration:` seconds, for calls from or to this peer.
        public var maxCallDuration: Double?
        /// `ranges:` CIDR ranges this peer's traffic may also come from (carriers publish ranges); an exact address
        /// of any peer wins over a range, and a longer prefix over a shorter one.
        package var ranges: [AddressRange] = []
        package var rangePositions: [SourcePosition] = []
        /// `interface:` the named listeners requests to this peer leave by (its transport's), whose address its
        /// Via, Contact and From show; nil: the first listener of its transport and address family.
        public var interface: String?
        public var interfacePosition: SourcePosition?
        /// `limits:` how many calls this peer may have in progress and start per second, both directions.
        public var limits = PeerLimits()
        /// `responses:` this peer's final responses mapped to others, by status.
        public var responses: [Int: ResponseMapping] = [:]
        /// `media:`; `pass` when not set.
        public var media = MediaPolicy()
        public var position: SourcePosition
        public var pluginPosition: SourcePosition
        public var profilePosition: SourcePosition
        public var optionPositions: [String: SourcePosition]

        /// The adapter's view of this entry: plain values only.
        public var adapterConfiguration: PeerConfiguration {
            PeerConfiguration(
                name: name, kind: kind, profile: profile, host: addresses.first?.description ?? "",
                numbering: numbering, options: options)
        }
    }

    /// What happens to requests from addresses that belong to no peer: answered 403, or dropped silently (which
    /// gives a scanner nothing to learn). Either way they never reach the routing table.
    public enum UnknownSourcePolicy: String, Sendable, CaseIterable {
        case reject, drop
    }

    /// A 3xx from a target: passed back to the caller, or followed by routing the number in its Contact (from the
    /// same source peer, through the same table, at most three times per call).
    public enum RedirectPolicy: String, Sendable, CaseIterable {
        case pass, follow
    }

    public var file: String
    public var listeners: [Listener]
    public var redirects: RedirectPolicy = .pass
    public var unknownSources: UnknownSourcePolicy = .reject
    /// Final responses from a target that make Patchbay try the route's next target.
    public var failoverCodes: Set<Int> = [408, 480, 503]
    public var timers = Timers()
    /// On SIGTERM: how long calls in progress may go on while new ones are refused with 503, before the rest are
    /// hung up (BYE both ways) and Patchbay exits. 0 stops at once.
    public var drainSeconds: Double = 30
    public var protection = Protection()
    public var callRecords: CallRecords
    public var http: HTTP?
    /// `dns:`.
    public var dns = DNS()
    /// `rtpengine:`; nil: no call can be anchored.
    public var rtpengine: RtpEngine?
    /// nil: the directory the `patchbay` executable is in (where `swift build` puts the plugin libraries).
    public var pluginDirectory: String?
    public var routesFile: String
    public var peers: [Peer]

    public func peer(named name: String) -> Peer? { peers.first { $0.name == name } }

    /// Per-peer call limits (toll-fraud containment, a gateway's channels). Calls from and to the peer count
    /// together; routes with `emergency: true` are exempt.
    public struct PeerLimits: Sendable, Equatable {
        /// Calls in progress with the peer, either direction; nil: no limit.
        public var maxCalls: Int?
        /// New calls from or to the peer per second (a bucket holding one second's worth); nil: no limit.
        public var maxCallsPerSecond: Double?
        /// What an inbound call over a limit gets (with Retry-After); an outbound attempt moves to the next target.
        public var status = 503
    }

    /// External peers (SIP trunks) get the site's private headers stripped both ways unless configured otherwise.
    public static func defaultInternalHeaders(for kind: PeerKind) -> [String] {
        kind == .external ? ["X-*", "Remote-Party-ID", "P-Preferred-Identity"] : []
    }
}
