import Logging
import NIOCore
import Routing
import SIPCore

/// Keeps every peer host name located (RFC 3263, `SIPLocator`): looks each up when the site names it, again when
/// its answer's TTL runs out, and after `dns.retry` when a lookup failed. Every answer goes to every shard
/// (`publish`), which route calls on the last one: a call never waits for DNS. Runs on one shard's loop; the
/// queries themselves run on the resolver's threads.
final class PeerLocator: @unchecked Sendable {
    // @unchecked: used only on `loop`.
    private struct Entry {
        var location: SIPLocation?
        var refresh: Scheduled<Void>?
        /// Bumped when the entry is dropped or looked up anew, so an answer to an older lookup is ignored.
        var generation = 0
        var failing: String?
    }

    private let loop: any EventLoop
    private let makeResolver: (PatchbayConfiguration.DNS) -> any DNSResolver
    private var resolver: (any DNSResolver)?
    private let logger: Logger
    private let publish: ([SIPLocator.Target: SIPLocation]) -> Void
    private var settings = PatchbayConfiguration.DNS()
    private var entries: [SIPLocator.Target: Entry] = [:]
    /// Which peers name each target, for the log.
    private var peers: [SIPLocator.Target: [String]] = [:]
    /// Lookups not yet answered since the last `start`, and who waits for them all.
    private var outstanding: Set<SIPLocator.Target> = []
    private var settled: EventLoopPromise<Void>?
    private var lookups = 0

    init(
        loop: any EventLoop, logger: Logger,
        makeResolver: @escaping (PatchbayConfiguration.DNS) -> any DNSResolver,
        publish: @escaping ([SIPLocator.Target: SIPLocation]) -> Void
    ) {
        self.loop = loop
        self.makeResolver = makeResolver
        self.logger = logger
        self.publish = publish
    }

    /// Looks up the names `routing` has that are not located yet and forgets the ones it no longer has. The future
    /// completes when every new lookup has its first outcome.
    func start(_ routing: SiteRouting, settings: PatchbayConfiguration.DNS) -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        let changed = resolver != nil && settings != self.settings
        if resolver == nil || changed { resolver = makeResolver(settings) }
        self.settings = settings
        peers = [:]
        for (peer, targets) in routing.targets {
            for case .located(let t) in targets { peers[t, default: []].append(peer) }
        }
        let names = Set(peers.keys)
        for (t, e) in entries where !names.contains(t) {
            e.refresh?.cancel()
            entries[t] = nil
        }
        settled?.succeed()
        let promise = loop.makePromise(of: Void.self)
        settled = promise
        // New names, and every name when the DNS settings changed: looked up now (a known answer stays in use
        // until the new one comes).
        outstanding = names.filter { entries[$0] == nil || changed }
        for t in outstanding {
            entries[t]?.refresh?.cancel()
            if entries[t] == nil { entries[t] = Entry() }
            locate(t)
        }
        if outstanding.isEmpty { promise.succeed() }
        publishAll()
        return promise.futureResult
    }

    func stop() {
        for (_, e) in entries { e.refresh?.cancel() }
        entries = [:]
        settled?.succeed()
        settled = nil
    }

    /// Each name's last answer, or why it has none, for the status page and the API.
    func status() -> [EngineStatus.Located] {
        entries.map { target, entry in
            EngineStatus.Located(
                name: target.description,
                servers: (entry.location?.servers ?? []).sorted { $0.priority < $1.priority }.map(Self.describe),
                ttl: entry.location.map { Int($0.ttl) }, failing: entry.failing)
        }.sorted { $0.name < $1.name }
    }

    private func locate(_ target: SIPLocator.Target) {
        guard var entry = entries[target] else { return }
        lookups += 1
        entry.generation = lookups
        entries[target] = entry
        let machine = SIPLocator(target)
        run(machine, machine.start(), target: target, generation: entry.generation)
    }

    private func run(_ machine: SIPLocator, _ step: SIPLocator.Step, target: SIPLocator.Target, generation: Int) {
        guard entries[target]?.generation == generation else { return }
        switch step {
        case .query(let query):
            resolver!.query(query, on: loop).whenComplete { [self] result in
                var next = machine
                let answer: DNSAnswer =
                    switch result {
                    case .success(let a): a
                    case .failure(let error): .failed("\(error)")
                    }
                let step = next.answer(answer)
                run(next, step, target: target, generation: generation)
            }
        case .located(let location): located(target, location)
        case .failed(let why, let serverFailed): failed(target, why: why, serverFailed: serverFailed)
        }
    }

    private func located(_ target: SIPLocator.Target, _ location: SIPLocation) {
        guard var entry = entries[target] else { return }
        let ttl = min(max(Double(location.ttl), settings.minTTL), settings.maxTTL)
        if entry.location?.servers != location.servers || entry.failing != nil {
            logger.notice(
                "peer located",
                metadata: [
                    "peer": "\(names(target))", "name": "\(target)",
                    "servers":
                        "\(location.servers.sorted { $0.priority < $1.priority }.map(Self.describe).joined(separator: ", "))",
                    "ttl": "\(location.ttl)",
                ])
        }
        entry.location = location
        entry.failing = nil
        entry.refresh = loop.scheduleTask(in: .milliseconds(Int64(ttl * 1000))) { [self] in locate(target) }
        entries[target] = entry
        publishAll()
        settle(target)
    }

    private func failed(_ target: SIPLocator.Target, why: String, serverFailed: Bool) {
        guard var entry = entries[target] else { return }
        // A DNS server that did not answer says nothing about the name: the servers already known stay in use.
        // DNS saying the name has no servers ends them.
        let keeping = serverFailed && entry.location != nil
        let consequence =
            keeping
            ? "keeping its last answer" : "calls to \(names(target)) go to their route's next target"
        if entry.failing != why {
            logger.warning(
                "peer name does not resolve",
                metadata: [
                    "peer": "\(names(target))", "name": "\(target)", "why": "\(why)",
                    "consequence": "\(consequence); next try in \(settings.retry) s",
                ])
        }
        entry.failing = why
        if !keeping { entry.location = nil }
        entry.refresh = loop.scheduleTask(in: .milliseconds(Int64(settings.retry * 1000))) { [self] in
            locate(target)
        }
        entries[target] = entry
        publishAll()
        settle(target)
    }

    private func settle(_ target: SIPLocator.Target) {
        guard outstanding.remove(target) != nil, outstanding.isEmpty else { return }
        settled?.succeed()
        settled = nil
    }

    private func publishAll() {
        publish(entries.compactMapValues(\.location))
    }

    private func names(_ target: SIPLocator.Target) -> String {
        (peers[target] ?? []).sorted().joined(separator: ", ")
    }

    static func describe(_ s: SIPLocation.Server) -> String {
        let addresses = s.addresses.map { $0.contains(":") ? "[\($0)]:\(s.port)" : "\($0):\(s.port)" }
        return
            "\(s.host) \(s.transport.rawValue) \(addresses.joined(separator: " ")) (priority \(s.priority), weight \(s.weight))"
    }
}
