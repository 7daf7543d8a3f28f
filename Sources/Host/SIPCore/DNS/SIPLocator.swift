/// RFC 3263 section 4, client side: from a peer's host name to the servers its requests may go to. A value-type
/// machine that asks one `DNSQuery` at a time and is told its answer; whoever runs it performs the queries (the
/// engine through c-ares, a test from a table).
///
/// - A port given (`sip.example.com:5080`): A and AAAA on the name, over the given transport or UDP (4.2).
/// - A transport given, no port: SRV for that transport (`_sip._tcp.name`), A/AAAA on each SRV target; no SRV: A/AAAA
///   on the name at the transport's default port.
/// - Neither: NAPTR (4.1), the supported services in order and preference, SRV on the replacement; no NAPTR: SRV for
///   each supported transport in turn; no SRV either: A/AAAA on the name, UDP, 5060.
package struct SIPLocator: Sendable {
    package struct Target: Sendable, Hashable, CustomStringConvertible {
        package var host: String
        package var port: Int?
        package var transport: TransportKind?
        /// The transports Patchbay has listeners for, in the order it prefers them when DNS offers a choice.
        package var supported: [TransportKind]
        /// The address families Patchbay can send from (it looks up A only without an IPv6 listener).
        package var ipv4 = true
        package var ipv6 = true

        package init(
            host: String, port: Int? = nil, transport: TransportKind? = nil, supported: [TransportKind] = [.udp],
            ipv4: Bool = true, ipv6: Bool = true
        ) {
            self.host = host
            self.port = port
            self.transport = transport
            self.supported = supported
            self.ipv4 = ipv4
            self.ipv6 = ipv6
        }

        package var description: String {
            let port = port.map { ":\($0)" } ?? ""
            return transport.map { "\(host)\(port) (\($0.rawValue))" } ?? "\(host)\(port)"
        }
    }

    package enum Step: Sendable, Equatable {
        case query(DNSQuery)
        case located(SIPLocation)
        /// No server found. `serverFailed`: a DNS server did not answer usably (timeout, SERVFAIL), so the name may
        /// well exist and a previous answer is better than none; otherwise DNS said the names do not exist.
        case failed(String, serverFailed: Bool)
    }

    /// The RFC's stages: choosing the transport (4.1), the SRV lookup, the addresses of each server (4.2).
    private enum Stage: Sendable {
        case naptr
        case srv(candidates: [(transport: TransportKind, name: String)])
        case addresses(servers: [SIPLocation.Server], index: Int, type: DNSQuery.RecordType)
    }

    private let target: Target
    private var stage: Stage
    private var ttl: UInt32 = .max
    private var serverFailed = false
    /// What was asked and found, for the log and `--explain`.
    private(set) var trace: [String] = []

    package init(_ target: Target) {
        self.target = target
        if let port = target.port {
            let transport = target.transport ?? .udp
            stage = .addresses(
                servers: [.init(host: target.host, port: port, transport: transport)], index: 0,
                type: target.ipv4 ? .a : .aaaa)
        } else if let transport = target.transport {
            stage = .srv(candidates: [(transport, "\(transport.srvPrefix).\(target.host)")])
        } else {
            stage = .naptr
        }
    }

    /// The first query.
    package func start() -> Step { .query(currentQuery) }

    private var currentQuery: DNSQuery {
        switch stage {
        case .naptr: DNSQuery(target.host, .naptr)
        case .srv(let candidates): DNSQuery(candidates[0].name, .srv)
        case .addresses(let servers, let index, let type): DNSQuery(servers[index].host, type)
        }
    }

    /// The answer to the last query asked; returns the next query, or the outcome.
    package mutating func answer(_ answer: DNSAnswer) -> Step {
        trace.append("\(currentQuery): \(answer.summary)")
        if case .failed = answer { serverFailed = true }
        switch stage {
        case .naptr: return naptrAnswered(answer)
        case .srv(let candidates): return srvAnswered(answer, candidates: candidates)
        case .addresses(let servers, let index, let type):
            return addressesAnswered(answer, servers: servers, index: index, type: type)
        }
    }

    private mutating func naptrAnswered(_ answer: DNSAnswer) -> Step {
        if case .failed(let why) = answer { return .failed("NAPTR \(target.host): \(why)", serverFailed: true) }
        // 4.1: records whose service Patchbay supports, in order then preference; flag "s" leads to SRV.
        let usable = answer.records
            .compactMap { r in TransportKind(naptrService: r.service).map { (record: r, transport: $0) } }
            .filter { $0.record.flags.lowercased() == "s" && target.supported.contains($0.transport) }
            .sorted { ($0.record.order, $0.record.preference) < ($1.record.order, $1.record.preference) }
        if let first = usable.first { note(first.record.ttl) }
        var candidates = usable.map { ($0.transport, $0.record.target) }
        if candidates.isEmpty {
            // 4.1: no NAPTR records: an SRV query for each transport Patchbay supports.
            candidates = target.supported.map { ($0, "\($0.srvPrefix).\(target.host)") }
        }
        stage = .srv(candidates: candidates)
        return .query(currentQuery)
    }

    private mutating func srvAnswered(_ answer: DNSAnswer, candidates: [(transport: TransportKind, name: String)])
        -> Step
    {
        let transport = candidates[0].transport
        if case .failed(let why) = answer { return .failed("SRV \(candidates[0].name): \(why)", serverFailed: true) }
        // RFC 2782: a single record with the target "." says the service is decidedly not available there.
        let records = answer.records.filter { $0.target != "." && !$0.target.isEmpty }
        if !records.isEmpty {
            note(records.map(\.ttl).min() ?? .max)
            let servers = records.map {
                SIPLocation.Server(
                    host: $0.target, port: $0.port, transport: transport, priority: $0.priority, weight: $0.weight)
            }
            stage = .addresses(servers: servers, index: 0, type: target.ipv4 ? .a : .aaaa)
            return .query(currentQuery)
        }
        if candidates.count > 1 {
            stage = .srv(candidates: Array(candidates.dropFirst()))
            return .query(currentQuery)
        }
        // 4.2: no SRV records: the name itself, at the transport's default port.
        let fallback =
            target.transport ?? (target.supported.contains(.udp) ? .udp : target.supported.first ?? transport)
        stage = .addresses(
            servers: [.init(host: target.host, port: fallback.defaultPort, transport: fallback)], index: 0,
            type: target.ipv4 ? .a : .aaaa)
        return .query(currentQuery)
    }

    private mutating func addressesAnswered(
        _ answer: DNSAnswer, servers: [SIPLocation.Server], index: Int, type: DNSQuery.RecordType
    ) -> Step {
        var servers = servers
        let found = answer.records.map(\.address).filter { !$0.isEmpty }
        if !found.isEmpty {
            note(answer.records.map(\.ttl).min() ?? .max)
            servers[index].addresses += found
        }
        if type == .a, target.ipv6 {
            stage = .addresses(servers: servers, index: index, type: .aaaa)
            return .query(currentQuery)
        }
        if index + 1 < servers.count {
            stage = .addresses(servers: servers, index: index + 1, type: target.ipv4 ? .a : .aaaa)
            return .query(currentQuery)
        }
        let reachable = servers.filter { !$0.addresses.isEmpty }
        guard !reachable.isEmpty else {
            let names = Set(servers.map(\.host)).sorted().joined(separator: ", ")
            return .failed("no address for \(names) (\(trace.last ?? ""))", serverFailed: serverFailed)
        }
        return .located(SIPLocation(servers: reachable, ttl: ttl == .max ? 0 : ttl, trace: trace))
    }

    private mutating func note(_ recordTTL: UInt32) { ttl = min(ttl, recordTTL) }
}

extension TransportKind {
    /// RFC 3263 section 4.1's NAPTR services: SIP over UDP and TCP, SIPS over TCP (TLS).
    package init?(naptrService service: String) {
        switch service.uppercased() {
        case "SIP+D2U": self = .udp
        case "SIP+D2T": self = .tcp
        case "SIPS+D2T": self = .tls
        default: return nil
        }
    }

    /// The SRV owner prefix for the transport (RFC 3263 section 4.2).
    package var srvPrefix: String {
        switch self {
        case .udp: "_sip._udp"
        case .tcp: "_sip._tcp"
        case .tls: "_sips._tcp"
        }
    }

    package var defaultPort: Int { self == .tls ? 5061 : 5060 }
}
