import Calls
import Foundation
import Logging
import NIOCore
import PluginAPI
import Records
import Routing
import SIPCore

/// The calls and transactions of one event loop. Every call lives on exactly one shard, chosen from its Call-ID
/// (ours carry the shard number), so a call's state is only ever touched from its loop and needs no locks.
///
/// @unchecked Sendable: the engine passes shards to `loop.execute`, and every method runs on `loop` (the
/// transaction layer asserts it); nothing is shared across threads.
package final class Shard: CallHost, @unchecked Sendable {
    package let index: Int
    package let loop: any EventLoop
    package let settings: TransactionSettings
    package let logger: Logger
    package let localHost: String
    let localPort: Int
    let localTCPPort: Int?
    var localTLSPort: Int?
    private let transmit: (SIPMessage, SIPDestination, Int) -> Void
    package private(set) var site: Site
    var routing: SiteRouting
    private var layer: TransactionLayer<SIPDestination>!
    /// The loop's timers, shared by the transactions and the calls.
    package var timers: TimerQueue { layer.timers }
    /// Keyed by Call-ID octets (`OctetKey`): two Call-IDs are one call only when every byte is the same.
    private(set) var calls: [OctetKey: Call] = [:]
    private(set) var unknownSourceCount = 0
    /// Peers the health monitor reported down; routing skips them.
    package private(set) var downPeers: Set<String> = []
    /// Peers an operator drained through the API: no new calls are sent to them.
    package var drainedPeers: Set<String> = []
    private(set) var routeStats: [String: RouteStats] = [:]
    package var metrics: PatchbayMetrics? {
        didSet { callCounters = metrics.map(CallCounters.init) }
    }
    private(set) var callCounters: CallCounters?
    package private(set) var processing = ProcessingHistogram()
    private var counter: UInt64 = 0
    var random = RandomWords()
    /// The last DNS answer for each peer host name (`PeerLocator`).
    var locations: [SIPLocator.Target: SIPLocation] = [:]
    /// Addresses of peers the health monitor reported down while the peer has others up: skipped like a down peer.
    package internal(set) var downAddresses: Set<SocketAddress> = []
    /// Calls in progress per peer with `limits`, shared by every shard (set by the engine, replaced on reload).
    package var peerCalls: PeerCallCounts?
    /// Each peer's `limits.max_calls_per_second`, this loop's share of it.
    private var peerRates: [String: TokenBucket] = [:]
    /// rtpengine, when the configuration has it (set before the first call).
    package var mediaRelay: MediaRelay?
    /// Where ended calls' records go (the call records store), if anywhere.
    package var recordSink: (any CallRecordSink)?
    /// Set on SIGTERM: new calls are refused with 503 and a Retry-After, calls in progress go on.
    package var draining = false
    let shardCount: Int
    private var limiter: SourceLimiter
    private var protection: PatchbayConfiguration.Protection
    /// How long messages wait between arrival and being handled here, smoothed (nanoseconds).
    private(set) var queueDelay: UInt64 = 0
    private(set) var overloadRejections = 0
    private var droppedLogged = (peers: 0, unknown: 0)
    private var lastDropLog: UInt64 = 0
    /// Responses that matched nothing here (`unmatchedResponse`).
    private(set) var unmatchedResponses = 0
    private let unmatchedLog = LogThrottle()
    /// Challenges peers configured with `inbound_auth`. One secret per shard: an INVITE's retry with credentials
    /// has the same Call-ID, so it comes back to the shard that challenged it.
    let verifier = DigestVerifier()

    package init(
        index: Int, shardCount: Int = 1, loop: any EventLoop, site: Site, routing: SiteRouting,
        settings: TransactionSettings,
        localHost: String, localPort: Int, localTCPPort: Int?, logger: Logger,
        transmit: @escaping (SIPMessage, SIPDestination, Int) -> Void
    ) {
        self.index = index
        self.shardCount = max(1, shardCount)
        self.loop = loop
        protection = site.configuration.protection
        limiter = Self.limiter(for: site.configuration.protection)
        self.site = site
        self.routing = routing
        self.settings = settings
        self.localHost = localHost
        self.localPort = localPort
        self.localTCPPort = localTCPPort
        self.logger = logger
        self.transmit = transmit
        self.layer = TransactionLayer(eventLoop: loop, settings: settings) { [unowned self] message, destination in
            self.transmit(message, destination, self.index)
        }
    }

    /// Each call once: `calls` holds a call under both its legs' Call-IDs.
    private var uniqueCalls: [Call] {
        var seen = Set<ObjectIdentifier>()
        return calls.values.filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    package var activeCalls: Int { uniqueCalls.count }

    /// A new snapshot: calls in progress keep the site they started with.
    func install(_ site: Site, routing: SiteRouting) {
        self.site = site
        self.routing = routing
        self.routing.locate(locations)
        protection = site.configuration.protection
        let fresh = Self.limiter(for: protection)
        limiter.peerLimit = fresh.peerLimit
        limiter.unknownLimit = fresh.unknownLimit
        limiter.unknownTotalLimit = fresh.unknownTotalLimit
    }

    private static func limiter(for p: PatchbayConfiguration.Protection) -> SourceLimiter {
        SourceLimiter(
            peer: .rate(p.peerRate), unknown: .rate(p.unknownRate), unknownTotal: .rate(p.unknownTotalRate))
    }

    // MARK: Admission (on the receiving loop, before parsing)

    /// Whether a datagram from `address` may be parsed at all. Called on this shard's loop for traffic this loop
    /// received (the receiving loop's shard, not the call's).
    package func admit(_ address: SocketAddress) -> Bool {
        guard let ip = IPKey(address) else { return true }
        let now = NIODeadline.now().uptimeNanoseconds
        if limiter.admit(ip, known: routing.isPeerAddress(ip), now: now) { return true }
        metrics?.rejected("rate_limit")
        // One line per ten seconds per loop with what was dropped since the last one, never one per message.
        if now &- lastDropLog > 10_000_000_000 {
            lastDropLog = now
            logger.warning(
                "rate limit: dropping",
                metadata: [
                    "from_peers": "\(limiter.droppedFromPeers - droppedLogged.peers)",
                    "from_unknown": "\(limiter.droppedFromUnknown - droppedLogged.unknown)",
                    "example_source": "\(address)",
                ])
            droppedLogged = (limiter.droppedFromPeers, limiter.droppedFromUnknown)
        }
        return false
    }

    var rateLimited: (peers: Int, unknown: Int) { (limiter.droppedFromPeers, limiter.droppedFromUnknown) }

    /// Why a new call must be refused now, or nil. Limits are the site's divided among the shards.
    package func overloadReason() -> String? {
        if calls.count >= max(1, protection.maxCalls / shardCount) { return "calls" }
        if layer.count >= max(1, protection.maxTransactions / shardCount) { return "transactions" }
        if queueDelay > UInt64(protection.maxQueueDelayMilliseconds) * 1_000_000 { return "queue delay" }
        return nil
    }

    // MARK: Identifiers that carry the shard

    package func newCallID() -> String { "pb\(index)-\(randomToken())@\(localHost)" }
    package func newTag() -> String { "pb\(index)\(randomToken())" }
    package func newBranch() -> String { "z9hG4bK-pb\(index)\(randomToken())" }

    /// This host as Via and Contact show it.
    package var local: LocalAddress {
        LocalAddress(host: localHost, udpPort: localPort, tcpPort: localTCPPort, tlsPort: localTLSPort)
    }

    /// Each listener's view by transport, in configuration order (`SIPDestination.listener` indexes them): a peer
    /// reached by a listener (its `interface`, or its address family's) sees that listener's advertised host.
    package var listenerViews: [TransportKind: [LocalAddress]] = [:]

    package func local(for destination: SIPDestination?) -> LocalAddress {
        guard let destination, let views = listenerViews[destination.transport], destination.listener < views.count
        else { return local }
        return views[destination.listener]
    }

    /// Our Via for a request sent to `destination`: the transport it goes over and our port for it.
    package func via(for destination: SIPDestination? = nil) -> String {
        local(for: destination).via(for: destination?.transport, branch: newBranch())
    }

    /// Our Contact towards `destination`, so the peer's in-dialog requests come back over the same transport.
    package func contact(user: String?, for destination: SIPDestination? = nil) -> String {
        local(for: destination).contact(user: user, for: destination?.transport)
    }

    private func randomToken() -> String {
        counter &+= 1
        return String(random.next() ^ counter, radix: 36)
    }

    func setPeer(_ peer: String, up: Bool) {
        if up { downPeers.remove(peer) } else { downPeers.insert(peer) }
    }

    // MARK: Sending

    package func sendStateless(_ message: SIPMessage, to destination: SIPDestination) {
        transmit(message, destination, index)
    }

    package func respond(_ response: SIPMessage, to request: SIPMessage) { layer.respond(response, to: request) }

    package func media(_ command: MediaCommand, completion: @escaping (MediaOutcome) -> Void) {
        guard let mediaRelay else {
            // Never synchronously: the call is in the middle of performing its actions.
            loop.execute { completion(.failed("no rtpengine is configured")) }
            return
        }
        mediaRelay.run(command, on: loop, completion: completion)
    }

    package func playDTMF(callID: String, instance: String, fromTag: String, code: String, durationMilliseconds: Int) {
        mediaRelay?.playDTMF(
            callID: callID, instance: instance, fromTag: fromTag, code: code,
            durationMilliseconds: durationMilliseconds,
            on: loop)
    }

    /// rtpengine's DTMF event for the call with `callID` (a B leg's Call-ID, the session's key).
    package func mediaDTMF(callID: String, event: Int, durationMilliseconds: Int, sourceTag: String) {
        calls[OctetKey(callID)]?.dtmf(event: event, durationMilliseconds: durationMilliseconds, sourceTag: sourceTag)
    }

    package func admitCall(from peer: String, limits: PatchbayConfiguration.PeerLimits) -> Bool {
        admit(peer, limits)
    }

    package func admitOutbound(to peer: String, limits: PatchbayConfiguration.PeerLimits) -> Bool {
        admit(peer, limits)
    }

    /// The rate first (this loop's share of it, so no count is taken for a call the rate refuses), then a slot.
    private func admit(_ peer: String, _ limits: PatchbayConfiguration.PeerLimits) -> Bool {
        if let rate = limits.maxCallsPerSecond {
            let share = rate / Double(shardCount)
            let burst = max(1, share)
            let now = NIODeadline.now().uptimeNanoseconds
            var bucket = peerRates[peer] ?? TokenBucket(burst: burst, now: now)
            let allowed = bucket.take(now: now, rate: share, burst: burst)
            peerRates[peer] = bucket
            guard allowed else { return false }
        }
        return peerCalls?.begin(peer, max: limits.maxCalls) ?? true
    }

    package func releasePeer(_ peer: String) { peerCalls?.end(peer) }

    package func deleteMedia(callID: String, instance: String) {
        mediaRelay?.delete(callID: callID, instance: instance, on: loop)
    }

    package func sendRequest(
        _ request: SIPMessage, to destination: SIPDestination, timerB: TimeAmount? = nil,
        handler: @escaping (ClientEvent) -> Void
    ) {
        do {
            try layer.sendRequest(
                request, to: destination, reliableTransport: destination.isReliable, timerB: timerB,
                onResponse: { handler(.response($0)) },
                onFailure: { failure in
                    handler(failure == .transportError ? .transportError : .timeout)
                })
        } catch {
            // Only a bug of ours (no branch, a duplicate) gets here; report it as a failed attempt, asynchronously
            // like a real failure, so the caller's state is never re-entered.
            logger.error("cannot send \(request.method): \(error)")
            loop.assumeIsolated().execute { handler(.timeout) }
        }
    }

    package func track(_ call: Call, callID: String) { calls[OctetKey(callID)] = call }

    package func attemptEnded(peer: String, status: Int) { callCounters?.attempt(peer: peer, status: status) }

    package var now: Date { Date() }

    package func randomDelay(in range: ClosedRange<Int64>) -> TimeAmount { .milliseconds(Int64.random(in: range)) }

    /// A stream transport could not deliver `message` (refused, reset, no route): its transaction fails now
    /// instead of waiting for Timer B or F, so failover is immediate.
    package func transportFailed(sending message: SIPMessage) { layer.transportFailed(sending: message) }

    /// End of the drain time: every call still here is ended cleanly (BYE to both sides of an answered call; 503
    /// to a caller still waiting, CANCEL to its target) rather than cut by the process exiting.
    func endAllCalls() {
        for call in uniqueCalls { call.shutdown() }
    }

    package func submit(_ record: CallRecord) {
        if let route = record.route {
            if record.answered {
                routeStats[route, default: RouteStats()].answered += 1
            } else {
                routeStats[route, default: RouteStats()].failed += 1
            }
        }
        callCounters?.callEnded(
            route: record.route, source: record.source, outcome: record.answered ? "answered" : "failed")
        recordSink?.submit(record)
    }

    /// This shard's calls for the status page.
    func callStatus() -> [EngineStatus.Call] {
        uniqueCalls.map { call in
            EngineStatus.Call(
                aCallID: call.a.callID, bCallID: call.b?.callID, source: call.sourcePeer,
                target: call.currentTarget?.peer,
                route: call.record.route, called: call.record.calledHouse ?? call.record.calledIn,
                caller: call.record.callerHouse ?? call.record.callerIn, state: "\(call.state)",
                setupTime: call.record.setupTime, answerTime: call.record.answerTime)
        }
    }

    var transactionCount: Int { layer.count }

    package func remove(_ call: Call) {
        if let peer = call.countedPeer {
            call.countedPeer = nil
            peerCalls?.end(peer)
        }
        calls.removeValue(forKey: OctetKey(call.aCallID))
        if let b = call.bCallID { calls.removeValue(forKey: OctetKey(b)) }
    }

    // MARK: Receiving

    package func receive(_ message: SIPMessage, from source: SIPDestination, receivedAt: NIODeadline? = nil) {
        if let receivedAt {
            let waited = UInt64(max(0, (NIODeadline.now() - receivedAt).nanoseconds))
            queueDelay = (queueDelay &* 7 &+ waited) / 8
        }
        defer {
            if let receivedAt {
                processing.record(nanoseconds: UInt64(max(0, (NIODeadline.now() - receivedAt).nanoseconds)))
            }
        }
        var message = message
        if message.isRequest { Self.stampVia(&message, source: source.address) }
        guard let fresh = layer.receive(message, from: source, reliableTransport: source.isReliable) else { return }
        if fresh.isRequest {
            handleRequest(fresh, from: source)
        } else if let callID = fresh.callID, let call = calls[OctetKey(callID)], call.strayResponse(fresh) {
            return
        } else {
            unmatchedResponse(fresh, from: source)
        }
    }

    /// A response that matches no transaction and no call: counted, and logged at most once per ten seconds per
    /// loop with how many there were, so a peer answering what it should not is seen without a line per message.
    private func unmatchedResponse(_ response: SIPMessage, from source: SIPDestination) {
        unmatchedResponses += 1
        metrics?.rejected("unmatched_response")
        guard unmatchedLog.due(now: NIODeadline.now().uptimeNanoseconds) else { return }
        logger.notice(
            "response matches no transaction or call: dropped",
            metadata: [
                "from": "\(source.address)", "status": "\(response.statusCode ?? 0)",
                "cseq": "\(response.header("CSeq") ?? "")",
                "call_id": "\(response.callID ?? "")", "unmatched_so_far": "\(unmatchedResponses)",
            ])
    }

    /// RFC 3261 section 18.2.1 and RFC 3581: record where the request really came from in its top Via, so the
    /// response goes back through NATs and to the right port.
    package static func stampVia(_ message: inout SIPMessage, source: SocketAddress) {
        guard let index = message.headers.firstIndex(where: { $0.hasName("via") }), let top = message.topVia,
            let via = ViaValue.stampFacts(top), let port = source.port
        else { return }
        // On the UTF-8 bytes: walking the sent-by by Characters cost a third of this function.
        let sentBy = via.sentBy.utf8
        let host =
            sentBy.first == UInt8(ascii: "[")
            ? sentBy.dropFirst().prefix { $0 != UInt8(ascii: "]") } : sentBy.prefix { $0 != UInt8(ascii: ":") }
        let addReceived = !via.hasReceived && !isAddress(Substring(host), of: source)
        guard addReceived || via.bareRportEnd != nil else { return }
        // Only the top entry changes; the rest of the field keeps its bytes.
        var stamped: String
        if let end = via.bareRportEnd {
            stamped = top[..<end] + "=\(port)" + top[end...]
        } else {
            stamped = String(top)
        }
        if addReceived, let ip = source.ipAddress { stamped += ";received=\(ip)" }
        let value = message.headers[index].value
        message.headers[index].value = String(value[..<top.startIndex]) + stamped + value[top.endIndex...]
    }

    /// Whether a Via's host is the IP address a request came from, compared as addresses (RFC 3261 section 18.2.1:
    /// "an IP address that differs from the packet source address"), so "2001:db8::5" and "2001:DB8:0::5" are one.
    /// It spares formatting the source address as text (`inet_ntop`) for every request that needs no `received`.
    static func isAddress(_ host: Substring, of source: SocketAddress) -> Bool {
        guard let key = IPKey(text: host) else { return false }
        return key == IPKey(source)
    }

    /// A request no transaction took: the request chain (`RequestChain.standard`) decides, with this shard as its
    /// environment, and this performs what it decided.
    private func handleRequest(_ request: SIPMessage, from source: SIPDestination) {
        var state = RequestState(site: site, message: request, source: source)
        switch RequestChain.standard.run(&state, in: self) {
        case .proceed:
            // The chain ends by forwarding; nothing decided is a bug of ours, answered rather than left to time out.
            respond(
                Relay.response(500, "Server Internal Error", to: request, toTag: newTag(), contact: nil), to: request)
        case .drop(let counted):
            count(counted)
        case .answer(let answer):
            count(answer.counted)
            if answer.counted == "overload" {
                logger.debug(
                    "overload: new call refused",
                    metadata: ["reason": "\(answer.note ?? "")", "a": "\(request.callID ?? "")"])
            }
            // Only the route step answers a request already in the house format.
            if state.house != nil { rejected(request, state, answer) }
            var r = Relay.response(
                answer.status, answer.reason, to: request, toTag: answer.tagged ? newTag() : nil, contact: nil)
            r.headers += answer.headers
            respond(r, to: request)
        case .toCall:
            guard let call = calls[state.callKey] else { return }
            if request.toTag != nil || request.method == "CANCEL" || request.method == "ACK" {
                call.inDialogRequest(request, fromA: OctetText.equal(call.aCallID, request.callID ?? ""))
            } else {
                call.retransmittedInvite()
            }
        case .toTargets:
            startCall(state, from: source)
        }
    }

    /// A rejection the chain decided counted where operators look for it: the metrics and the rejection's own
    /// counters.
    private func count(_ rejection: String?) {
        guard let rejection else { return }
        metrics?.rejected(rejection)
        switch rejection {
        case "unknown_source": unknownSourceCount += 1
        case "overload": overloadRejections += 1
        default: break
        }
    }

    /// A call the routing table refused is still a call attempt an operator looks for (barred numbers, unknown
    /// DIDs): it is counted for its route and gets a record, with no target tried.
    private func rejected(_ invite: SIPMessage, _ state: RequestState, _ answer: StepOutcome.Answer) {
        let route = state.route?.name
        let peer = state.peer ?? ""
        if let route { routeStats[route, default: RouteStats()].attempted += 1 }
        callCounters?.callEnded(route: route, source: peer, outcome: "rejected")
        logger.info(
            "call rejected",
            metadata: [
                "a": "\(invite.callID ?? "")", "from": "\(peer)", "route": "\(route ?? "-")",
                "result": "\(answer.status)",
            ])
        var record = CallRecord(invite: invite, source: peer, route: route)
        record.calledHouse = state.house?.requestURIUser.map(String.init)
        record.callerHouse = state.house?.fromUser.map(String.init)
        record.result = answer.status
        record.endTime = record.setupTime
        record.endedBy = "route"
        recordSink?.submit(record)
    }

    private func startCall(_ state: RequestState, from source: SIPDestination) {
        guard let route = state.route?.name, let peer = state.peer else {
            if let counted = state.countedPeer { peerCalls?.end(counted) }
            return
        }
        routeStats[route, default: RouteStats()].attempted += 1
        let call = Call(
            shard: self, site: site, invite: state.message, source: peer, from: source, route: route,
            targets: state.targets)
        let limits = [state.route?.maxDuration, state.peerEntry?.maxCallDuration].compactMap { $0 }
        call.setUp { machine in
            machine.ringTimeout = state.ringTimeout.map { .milliseconds(Int64($0 * 1000)) }
            machine.maxDuration = limits.min().map { .milliseconds(Int64($0 * 1000)) }
            machine.house = state.house
            machine.houseSDP = state.houseSDP
            machine.emergency = state.route?.emergency ?? false
        }
        call.countedPeer = state.countedPeer
        calls[OctetKey(call.aCallID)] = call
        call.tryNextTarget()
    }
}
