import Atomics
import Calls
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PluginAPI
import Records
import Routing
import SIPCore

/// The running SIP service: UDP listeners on every core, one shard per event loop, and the site in force, which a
/// reload replaces by handing each shard the new snapshot on its own loop (no lock on the message path).
public final class Engine: @unchecked Sendable {
    // @unchecked: `shards` is written once in `start()` before any datagram can arrive and only read afterwards;
    // each shard is then used only on its own loop.
    public let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    private let settings: TransactionSettings
    private var shards: [Shard] = []
    private var health: PeerHealthMonitor?
    private var registrar: PeerRegistrar?
    /// Peers' host names through DNS (RFC 3263), on the resolver's threads; created with the first name to locate.
    private var locator: PeerLocator?
    private var resolverThreads: NIOThreadPool?
    /// rtpengine, when configured (read at start: a reload does not change the instances).
    package private(set) var mediaRelay: MediaRelay?
    /// Calls in progress per peer with `limits`; replaced on reload, keeping the counts.
    private var peerCalls: PeerCallCounts?
    private let ready = ManagedAtomic(false)
    /// Responses that do not parse are logged at most this often (`parseAndReceive`).
    private let responseLog = LogThrottle()
    /// The signalling listeners by transport, each in configuration order (`SIPDestination.listener` indexes them).
    private var listeners: [PatchbayConfiguration.Transport: [any SIPTransport]] = [:]
    /// TLS peers by address, to pick the client context for an outbound connection.
    private let tlsPeerNames = NIOLockedValueBox<[SocketAddress: String]>([:])
    /// The site and routing in force and the last DNS answers (`PeerLocator`), together: the TLS peers' addresses
    /// come from all three.
    private let located = NIOLockedValueBox<
        (site: Site?, routing: SiteRouting?, locations: [SIPLocator.Target: SIPLocation])
    >((nil, nil, [:]))
    /// The TLS contexts in force: read once per new connection (any loop), replaced on reload.
    private let tlsContexts: NIOLockedValueBox<TLSContexts>
    private let parser = SIPParser()
    private var site: Site
    /// The site in force, for readers off the shards' loops (the status page); `site` itself is only used at start.
    private let siteBox: NIOLockedValueBox<Site>
    public var currentSite: Site { siteBox.withLockedValue { $0 } }

    public let metrics = PatchbayMetrics()
    public let startedAt = Date()
    private let routesVersion = ManagedAtomic(1)
    private let routesLoadedAt = NIOLockedValueBox(Date())

    /// Receives every ended call's record; set before `start()`.
    public var recordSink: (any CallRecordSink)?

    public init(site: Site, threads: Int = System.coreCount, logger: Logger) {
        self.site = site
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let timers = site.configuration.timers
        self.settings = TransactionSettings(
            t1: .milliseconds(Int64(timers.t1Milliseconds)), t2: .milliseconds(Int64(timers.t2Milliseconds)))
        self.logger = logger
        self.tlsContexts = NIOLockedValueBox(site.tls)
        self.siteBox = NIOLockedValueBox(site)
    }

    /// The UDP port actually bound (useful when the configuration asks for port 0).
    public var port: Int { listeners[.udp]?.first?.port ?? 0 }

    public func start() async throws {
        let configured = Set(site.configuration.listeners.map(\.transport))
        guard let listener = site.configuration.listeners.first(where: { $0.transport == .udp }) else {
            throw EngineError("no UDP listener configured")
        }
        for peer in site.configuration.peers where !configured.contains(peer.transport) {
            logger.warning(
                "peer '\(peer.name)' uses \(peer.transport.rawValue), which needs a \(peer.transport.rawValue) listener Patchbay does not have: calls to it will fail over"
            )
        }
        let loops = Array(group.makeIterator())
        let routing = SiteRouting(site: site)
        for p in routing.problems { logger.warning("\(p)") }
        let parser = self.parser
        let contexts = tlsContexts
        let peerNames = tlsPeerNames
        updateTLSPeers { ($0.site, $0.routing) = (site, routing) }
        let context = TransportContext(
            group: group, loops: loops, logger: logger,
            receive: { [unowned self] bytes, source, loopIndex in
                self.dispatch(bytes, from: source, receivedOn: loopIndex, parser: parser)
            },
            tls: { n in
                TCPTransport.TLS(
                    server: { contexts.withLockedValue { n < $0.servers.count ? $0.servers[n] : nil } },
                    client: { destination in
                        guard let name = peerNames.withLockedValue({ $0[destination] }) else { return nil }
                        return contexts.withLockedValue { $0.clients[name] }
                    })
            })
        // Every listener the configuration names, by its transport's starter, in configuration order: a
        // destination's listener index counts within its transport.
        for l in site.configuration.listeners {
            guard let start = TransportRegistry.starters[l.transport] else {
                throw EngineError("no transport '\(l.transport.rawValue)' is built in")
            }
            let n = listeners[l.transport, default: []].count
            listeners[l.transport, default: []].append(
                try await start(ListenAddress(host: l.host, port: l.port), n, context))
        }
        let transport = listeners[.udp]![0]
        let tcpPort = listeners[.tcp]?.first?.port
        let tlsPort = listeners[.tls]?.first?.port
        let wildcard = listener.host == "0.0.0.0" || listener.host == "::"
        if wildcard, listener.advertise == nil {
            logger.warning(
                "listener \(listener.host):\(listener.port) has no 'advertise' address; Via and Contact will say 127.0.0.1, which only local peers can reach"
            )
        }
        let host = LocalAddress.advertisedHost(of: listener)
        shards = loops.enumerated().map { i, loop in
            Shard(
                index: i, shardCount: loops.count, loop: loop, site: site, routing: routing, settings: settings,
                localHost: host,
                localPort: transport.port, localTCPPort: tcpPort, logger: logger
            ) { [unowned self] message, destination, index in
                self.transmit(message, to: destination, from: index)
            }
        }
        if let rtpengine = site.configuration.rtpengine {
            mediaRelay = try await MediaRelay.start(rtpengine, loops: loops, logger: logger)
        }
        let peerCalls = PeerCallCounts(site: site)
        self.peerCalls = peerCalls
        // What each listener shows in Via and Contact: its advertised host and its bound port.
        var views: [PatchbayConfiguration.Transport: [LocalAddress]] = [:]
        for l in site.configuration.listeners {
            let n = views[l.transport, default: []].count
            guard let bound = listeners[l.transport], n < bound.count else { continue }
            var view = LocalAddress(
                host: LocalAddress.advertisedHost(of: l), udpPort: transport.port, tcpPort: tcpPort, tlsPort: tlsPort)
            switch l.transport {
            case .udp: view.udpPort = bound[n].port
            case .tcp: view.tcpPort = bound[n].port
            case .tls: view.tlsPort = bound[n].port
            }
            views[l.transport, default: []].append(view)
        }
        for shard in shards {
            shard.listenerViews = views
            shard.peerCalls = peerCalls
            shard.mediaRelay = mediaRelay
            shard.localTLSPort = tlsPort
            shard.recordSink = recordSink
            shard.metrics = metrics
        }
        if let relay = mediaRelay, let events = site.configuration.rtpengine?.dtmfEvents {
            let all = shards
            try await relay.listenForDTMF(host: events.host, port: events.port, group: group) {
                [unowned self] callID, event, duration, tag in
                let shard = all[self.shardIndex(for: callID)]
                shard.loop.execute {
                    shard.mediaDTMF(callID: callID, event: event, durationMilliseconds: duration, sourceTag: tag)
                }
            }
        }
        ready.store(true, ordering: .releasing)
        await locate(routing, site.configuration.dns)
        let monitorShard = shards[0]
        let allShards = shards
        let log = logger
        let startSite = site
        try await monitorShard.loop.submit {
            let monitor = PeerHealthMonitor(
                shard: monitorShard,
                onChange: { peer, up in
                    log.notice(up ? "peer up" : "peer down", metadata: ["peer": "\(peer)"])
                    for shard in allShards { shard.loop.execute { shard.setPeer(peer, up: up) } }
                },
                onAddressChange: { address, up in
                    log.info(up ? "peer address up" : "peer address down", metadata: ["address": "\(address)"])
                    for shard in allShards {
                        shard.loop.execute {
                            if up { shard.downAddresses.remove(address) } else { shard.downAddresses.insert(address) }
                        }
                    }
                })
            monitor.start(startSite)
            self.health = monitor
            let registrar = PeerRegistrar(shard: monitorShard)
            registrar.start(startSite)
            self.registrar = registrar
        }.get()
        var metadata: Logger.Metadata = ["shards": "\(shards.count)"]
        for kind in PatchbayConfiguration.Transport.allCases {
            let configured = site.configuration.listeners.filter { $0.transport == kind }
            guard let bound = listeners[kind], !bound.isEmpty else { continue }
            metadata[kind.rawValue] = "\(zip(configured, bound).map { "\($0.host):\($1.port)" }.joined(separator: ","))"
        }
        logger.info("listening", metadata: metadata)
    }

    /// Hands the bytes to the shard that owns their call, which parses them on its own loop. Only a message whose
    /// Call-ID the raw scan cannot be sure of is parsed where it arrived and handed over parsed.
    private func dispatch(_ bytes: [UInt8], from source: SIPDestination, receivedOn loopIndex: Int, parser: SIPParser) {
        // Datagrams can arrive between the bind and the shards' creation; an atomic flag (not a lock) guards that.
        guard ready.load(ordering: .acquiring) else { return }
        metrics.received(source.transport)
        // Keep-alive pings (CRLF, RFC 5626) are answered by nothing and must not be logged as garbage.
        if bytes.allSatisfy({ $0 == 0x0D || $0 == 0x0A }) { return }
        // Rate limiting before parsing: a flood costs a table lookup per datagram, not a parse.
        guard shards[loopIndex].admit(source.address) else { return }
        let receivedAt = NIODeadline.now()
        // The kernel gives every datagram from one peer address to the same loop, so parsing where a datagram
        // arrives put all of a busy peer's parsing on one core. Parsed by the owner, it is spread by call like the
        // rest of the work (under `make bench-load` the loops' shares of the CPU went from 60/40 to 53/47).
        if let callID = SIPParser.callIDRange(in: bytes) {
            let owner = shards[shardIndex(forCallID: bytes[callID])]
            if !owner.loop.inEventLoop {
                owner.loop.execute { [self] in
                    parseAndReceive(bytes, from: source, on: owner.index, parser: parser, receivedAt: receivedAt)
                }
                return
            }
        }
        parseAndReceive(bytes, from: source, on: loopIndex, parser: parser, receivedAt: receivedAt)
    }

    /// Parses on the loop of shard `loopIndex` and hands the message to the shard that owns its call: this one, unless
    /// the Call-ID scan gave up (`dispatch`).
    private func parseAndReceive(
        _ bytes: [UInt8], from source: SIPDestination, on loopIndex: Int, parser: SIPParser, receivedAt: NIODeadline
    ) {
        let message: SIPMessage
        do {
            message = try parser.parse(bytes)
        } catch let e as SIPParseError {
            metrics.rejected("parse_error")
            // A response is dropped without an answer (RFC 3261 section 18.1.2); when it is a target's answer to a
            // call, that call then waits for a retransmission that will never parse either, so it is said at
            // notice level, throttled, rather than only at debug.
            let isResponse = bytes.starts(with: Array("SIP/2.0 ".utf8))
            if isResponse, responseLog.due(now: receivedAt.uptimeNanoseconds) {
                logger.notice(
                    "dropped a response that does not parse",
                    metadata: ["from": "\(source.address)", "reason": "\(e.reason)"])
            } else {
                logger.debug("dropped a bad message", metadata: ["from": "\(source.address)", "reason": "\(e.reason)"])
            }
            if let status = e.responseStatus, let response = Self.errorResponse(status, e.reason, bytes) {
                send(response.serialized(), to: source, from: loopIndex)
            }
            return
        } catch {
            return
        }
        let shard = shards[shardIndex(for: message.callID ?? "")]
        // A message for a call this loop owns runs now: queueing it as a task would cost an allocation and the
        // loop's task lock per message for nothing.
        if shard.loop.inEventLoop {
            shard.receive(message, from: source, receivedAt: receivedAt)
        } else {
            shard.loop.execute { shard.receive(message, from: source, receivedAt: receivedAt) }
        }
    }

    private func transmit(_ message: SIPMessage, to destination: SIPDestination, from index: Int) {
        metrics.sent(destination.transport)
        guard let listener = listener(for: destination) else {
            let shard = shards[index]
            shard.loop.execute { shard.transportFailed(sending: message) }
            return
        }
        // A stream that cannot deliver fails the transaction at once, so failover does not wait for Timer B.
        listener.send(message, to: destination.address, from: index)?.whenFailure { [unowned self] _ in
            let shard = self.shards[index]
            shard.loop.execute { shard.transportFailed(sending: message) }
        }
    }

    /// Sends bytes already serialised by the listener the destination names (a response to a request that did not
    /// parse; it belongs to no transaction).
    private func send(_ bytes: [UInt8], to destination: SIPDestination, from index: Int) {
        _ = listener(for: destination)?.send(bytes, to: destination.address, from: index)
    }

    /// The listener a destination names: its transport's, by index (the last one for an index beyond them; responses
    /// over a stream reuse the connection the request came on, which the transport keys by the remote address).
    private func listener(for destination: SIPDestination) -> (any SIPTransport)? {
        guard let list = listeners[destination.transport], !list.isEmpty else { return nil }
        return list[min(destination.listener, list.count - 1)]
    }

    /// Our Call-IDs start `pb<shard>-`; any other Call-ID is spread by hash.
    func shardIndex(for callID: String) -> Int {
        // The octets the raw scan in `dispatch` hashed, so the message stays on the shard that parsed it.
        OctetText.hasEscapes(callID)
            ? shardIndex(forCallID: OctetText.octets(callID)) : shardIndex(forCallID: callID.utf8)
    }

    /// `shardIndex(for:)` on the Call-ID's bytes: one definition for the raw scan and the parsed message, so both
    /// always pick the same shard.
    func shardIndex<C: Collection<UInt8>>(forCallID callID: C) -> Int {
        if let n = Self.generatedShard(callID), n < shards.count { return n }
        return Int(StableHash.fnv1a(callID) % UInt64(shards.count))
    }

    /// The shard number in a Call-ID Patchbay generated (`pb<digits>-...`), or nil for any other.
    static func generatedShard<C: Collection<UInt8>>(_ callID: C) -> Int? {
        guard callID.starts(with: "pb".utf8) else { return nil }
        var i = callID.index(callID.startIndex, offsetBy: 2)
        var n = 0
        var digits = 0
        while i != callID.endIndex, callID[i] >= 0x30, callID[i] <= 0x39, digits < 6 {
            n = n * 10 + Int(callID[i] - 0x30)
            digits += 1
            callID.formIndex(after: &i)
        }
        guard digits > 0, i != callID.endIndex, callID[i] == UInt8(ascii: "-") else { return nil }
        return n
    }

    /// A 4xx/5xx answer to a request the parser refused, built from the raw header lines (the framing itself may
    /// be what is broken), or nothing when even the headers a response needs are missing: then it is dropped.
    package static func errorResponse(_ status: Int, _ reason: String, _ bytes: [UInt8]) -> SIPMessage? {
        RawHeaders(bytes)?.response(
            status, Relay.reasonPhrase(status), toTag: "pb" + String(UInt64.random(in: 0...UInt64.max), radix: 36),
            warning: reason)
    }

    /// TLS peers by the address Patchbay connects to (configured, or a server DNS gave), to pick the client
    /// context of an outbound connection; the first peer in the configuration wins an address two of them share.
    private static func tlsPeers(
        _ site: Site, _ routing: SiteRouting, _ locations: [SIPLocator.Target: SIPLocation]
    ) -> [SocketAddress: String] {
        var names: [SocketAddress: String] = [:]
        for peer in site.configuration.peers {
            for d in routing.destinations(of: peer.name, in: locations) where d.transport == .tls {
                names[d.address] = names[d.address] ?? peer.name
            }
        }
        return names
    }

    /// Changes the site, routing or DNS answers the TLS peers' addresses come from, and puts the addresses in force
    /// under the same lock, so a reload and a DNS answer arriving together cannot leave the older of the two.
    private func updateTLSPeers(
        _ change: (inout (site: Site?, routing: SiteRouting?, locations: [SIPLocator.Target: SIPLocation])) -> Void
    ) {
        located.withLockedValue { state in
            change(&state)
            guard let site = state.site, let routing = state.routing else { return }
            let names = Self.tlsPeers(site, routing, state.locations)
            tlsPeerNames.withLockedValue { $0 = names }
        }
    }

    /// Puts a new site in force. Calls in progress finish with the snapshot they started with.
    public func install(_ newSite: Site) {
        routesVersion.wrappingIncrement(ordering: .relaxed)
        routesLoadedAt.withLockedValue { $0 = Date() }
        siteBox.withLockedValue { $0 = newSite }
        tlsContexts.withLockedValue { $0 = newSite.tls }
        let routing = SiteRouting(site: newSite)
        updateTLSPeers { ($0.site, $0.routing) = (newSite, routing) }
        for p in routing.problems { logger.warning("\(p)") }
        site = newSite
        let counts = PeerCallCounts(site: newSite, previous: peerCalls)
        peerCalls = counts
        for shard in shards {
            shard.loop.execute {
                shard.install(newSite, routing: routing)
                shard.peerCalls = counts
            }
        }
        if let monitorShard = shards.first {
            monitorShard.loop.execute { [self] in
                if self.locator != nil || !routing.locatedNames.isEmpty {
                    _ = self.makeLocator(on: monitorShard).start(routing, settings: newSite.configuration.dns)
                }
                self.health?.start(newSite)
                self.registrar?.start(newSite)
            }
        }
    }

    /// Starts locating the peers' host names, and waits (a few seconds at most) for the first answers, so that
    /// the first calls after a start find their peers. Nothing to do for a site without host names.
    private func locate(_ routing: SiteRouting, _ dns: PatchbayConfiguration.DNS) async {
        guard !routing.locatedNames.isEmpty || locator != nil, let monitorShard = shards.first else { return }
        let locator = makeLocator(on: monitorShard)
        let loop = monitorShard.loop
        let first = try? await loop.submit { locator.start(routing, settings: dns) }.get()
        guard let first else { return }
        // Bounded: a dead DNS server must not hold the start for its every query's timeouts.
        let bound = loop.makePromise(of: Void.self)
        first.whenComplete { _ in bound.succeed() }
        let limit = loop.scheduleTask(in: .milliseconds(Int64(min(5, dns.timeout * Double(dns.tries) + 1) * 1000))) {
            bound.succeed()
        }
        try? await bound.futureResult.get()
        limit.cancel()
    }

    /// The locator, made with its resolver threads the first time a site has a host name. Called on the monitor
    /// shard's loop (by `install`) or before any traffic (by `start`), so never twice at once.
    private func makeLocator(on monitorShard: Shard) -> PeerLocator {
        if let locator { return locator }
        let threads = NIOThreadPool(numberOfThreads: 2)
        threads.start()
        resolverThreads = threads
        let allShards = shards
        let locator = PeerLocator(
            loop: monitorShard.loop, logger: logger,
            makeResolver: { dns in
                CAresResolver(
                    pool: threads, servers: dns.servers, timeoutMilliseconds: Int(dns.timeout * 1000), tries: dns.tries)
            },
            publish: { [unowned self] locations in
                for shard in allShards { shard.loop.execute { shard.setLocations(locations) } }
                self.updateTLSPeers { $0.locations = locations }
                // After the shard has the answer (its loop runs what is queued in order).
                monitorShard.loop.execute { self.registrar?.start(self.currentSite) }
            })
        self.locator = locator
        return locator
    }

    /// Takes `peer` out of routing (no new calls; calls in progress go on), or puts it back.
    public func setDrained(_ peer: String, _ drained: Bool) async {
        for shard in shards {
            try? await shard.loop.submit {
                if drained { shard.drainedPeers.insert(peer) } else { shard.drainedPeers.remove(peer) }
            }.get()
        }
    }

    /// The shards' processing-time histograms added up, for /metrics.
    public func processingHistogram() async -> ProcessingHistogram {
        var total = ProcessingHistogram()
        for shard in shards {
            if let h = try? await shard.loop.submit({ shard.processing }).get() { total.add(h) }
        }
        return total
    }

    /// Everything the status page and the API show, read from each shard on its loop.
    public func status(lastReload: EngineStatus.Reload?) async -> EngineStatus {
        let site = currentSite
        var calls: [EngineStatus.Call] = []
        var routeStats: [String: RouteStats] = [:]
        var transactions = 0
        var drained: Set<String> = []
        var down: Set<String> = []
        for shard in shards {
            guard
                let part = try? await shard.loop.submit({
                    (shard.callStatus(), shard.routeStats, shard.transactionCount, shard.drainedPeers, shard.downPeers)
                }).get()
            else { continue }
            calls += part.0
            for (k, v) in part.1 {
                routeStats[k, default: RouteStats()].attempted += v.attempted
                routeStats[k, default: RouteStats()].answered += v.answered
                routeStats[k, default: RouteStats()].failed += v.failed
            }
            transactions += part.2
            drained.formUnion(part.3)
            down.formUnion(part.4)
        }
        var probes: [String: (up: Bool, lastProbe: (status: Int?, at: Date)?)] = [:]
        var registrations: [String: RegistrationState.Phase] = [:]
        var located: [EngineStatus.Located] = []
        if let first = shards.first {
            let monitorState = try? await first.loop.submit { [self] in
                (self.health?.status() ?? [:], self.registrar?.phases ?? [:], self.locator?.status() ?? [])
            }.get()
            probes = monitorState?.0 ?? [:]
            registrations = monitorState?.1 ?? [:]
            located = monitorState?.2 ?? []
        }
        let peers = site.configuration.peers.map { p in
            EngineStatus.Peer(
                name: p.name, plugin: p.plugin, profile: p.profile, kind: p.kind.rawValue,
                transport: p.transport.rawValue,
                address: p.addresses.first?.description ?? "", up: !down.contains(p.name),
                drained: drained.contains(p.name),
                healthChecked: p.healthCheck != nil, lastProbe: probes[p.name]?.lastProbe,
                activeCalls: calls.filter { $0.source == p.name || $0.target == p.name }.count,
                registration: registrations[p.name].map { "\($0)" })
        }
        let routes = site.routes.routes.map { r in
            let stats = routeStats[r.name] ?? RouteStats()
            return EngineStatus.Route(
                name: r.name, match: r.matchSummary, action: r.actionSummary, attempted: stats.attempted,
                answered: stats.answered, failed: stats.failed)
        }
        var media: EngineStatus.Media?
        if let relay = mediaRelay {
            let states = (try? await relay.set.states().get()) ?? [:]
            media = EngineStatus.Media(
                instances: relay.set.instances.map {
                    .init(name: $0.name, address: "\($0.address)", weight: $0.weight, up: states[$0.name] ?? false)
                },
                sessions: relay.activeSessions, failures: relay.failedRequests)
        }
        return EngineStatus(
            startedAt: startedAt, media: media, peers: peers, calls: calls.sorted { $0.setupTime < $1.setupTime },
            routes: routes,
            routesVersion: routesVersion.load(ordering: .relaxed),
            routesLoadedAt: routesLoadedAt.withLockedValue { $0 },
            lastReload: lastReload, transactions: transactions, dns: located)
    }

    public struct Counters: Sendable {
        public var activeCalls = 0
        public var unknownSourceRequests = 0
        public var rateLimitedFromPeers = 0
        public var rateLimitedFromUnknown = 0
        public var overloadRejections = 0
    }

    /// Calls in progress and what protection refused, summed over the shards (each read on its own loop); logged
    /// when Patchbay stops.
    public var counters: Counters {
        get async {
            var total = Counters()
            for shard in shards {
                guard
                    let c = try? await shard.loop.submit({
                        (shard.activeCalls, shard.unknownSourceCount, shard.rateLimited, shard.overloadRejections)
                    }).get()
                else { continue }
                total.activeCalls += c.0
                total.unknownSourceRequests += c.1
                total.rateLimitedFromPeers += c.2.peers
                total.rateLimitedFromUnknown += c.2.unknown
                total.overloadRejections += c.3
            }
            return total
        }
    }

    /// SIGTERM: refuse new calls (503 with Retry-After), let calls in progress finish for up to `timeout`
    /// seconds, then end the rest with BYE and give their transactions a moment to complete. Returns the number
    /// of calls that had to be ended.
    @discardableResult
    public func drain(timeout: Double, progress: (Int) -> Void = { _ in }) async -> Int {
        for shard in shards { shard.loop.execute { shard.draining = true } }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        var lastReported = -1
        while ContinuousClock.now < deadline {
            if drainAbandoned { return await counters.activeCalls }
            let active = await counters.activeCalls
            if active == 0 { return 0 }
            if active != lastReported {
                progress(active)
                lastReported = active
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let left = await counters.activeCalls
        guard left > 0 else { return 0 }
        for shard in shards { shard.loop.execute { shard.endAllCalls() } }
        // BYE transactions complete in one round trip normally; Timer F bounds them otherwise (64*T1).
        let byeDeadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < byeDeadline, await counters.activeCalls > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return left
    }

    private let abandoned = ManagedAtomic(false)
    /// A second stop signal: `drain` returns at once and the calls still up are cut.
    public func abandonDrain() { abandoned.store(true, ordering: .relaxed) }
    public var drainAbandoned: Bool { abandoned.load(ordering: .relaxed) }

    public func stop() async {
        if let monitorShard = shards.first {
            try? await monitorShard.loop.submit { [self] in
                self.health?.stop()
                self.registrar?.stop()
                self.locator?.stop()
            }.get()
        }
        for list in listeners.values { for t in list { await t.close() } }
        await mediaRelay?.stop()
        try? await resolverThreads?.shutdownGracefully()
        try? await group.shutdownGracefully()
    }
}

public struct EngineError: Error, CustomStringConvertible {
    public var description: String
    package init(_ d: String) { description = d }
}
