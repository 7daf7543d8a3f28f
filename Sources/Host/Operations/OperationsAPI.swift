import Engine
import Foundation
import Routing
import SIPCore

/// The management API and what the operations listener serves, as request in, response out (no sockets), so it is
/// tested directly and through the listener alike.
///
/// ```
/// GET  /metrics                    Prometheus text exposition
/// GET  /                           the status page (HTML, refreshes itself)
/// GET  /api/status                 everything below in one document
/// GET  /api/peers                  peers with health, last OPTIONS answer, calls, drained or not
/// GET  /api/calls                  calls in progress
/// GET  /api/routes                 the routing table in force, its version and per-route counters
/// POST /api/reload                 reload now: 200 with the result, or 422 with positioned errors
/// POST /api/peers/NAME/drain       no new calls to NAME (calls in progress go on); /undrain puts it back
/// ```
public struct OperationsAPI: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var uri: String
        public var authorization: String?
        public var body: [UInt8]

        public init(method: String, uri: String, authorization: String? = nil, body: [UInt8] = []) {
            self.method = method
            self.uri = uri
            self.authorization = authorization
            self.body = body
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
    }

    package let engine: Engine
    package let reloader: Reloader?
    package let token: String?

    public init(engine: Engine, reloader: Reloader?, token: String?) {
        self.engine = engine
        self.reloader = reloader
        self.token = token
    }

    public func handle(_ request: Request) async -> Response {
        let (path, query) = Self.split(request.uri)
        if let token, !token.isEmpty {
            let bearer = request.authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            guard bearer == token || query["token"] == token else {
                return json(
                    401, ["error": "a token is required: Authorization: Bearer TOKEN, or ?token=TOKEN for the page"])
            }
        }
        let parts = path.split(separator: "/").map(String.init)
        let route = "\(request.method) /" + parts.joined(separator: "/")
        switch route {
        case "GET /":
            let status = await engine.status(lastReload: reloader?.lastReloadResult)
            return Response(
                status: 200, contentType: "text/html; charset=utf-8",
                body: Array(StatusPage.render(status, token: token).utf8))
        case "GET /metrics":
            // Gauges are values of the moment: read from the engine when scraped.
            let status = await engine.status(lastReload: nil)
            engine.metrics.gauges(
                activeCalls: status.calls.count, transactions: status.transactions,
                peersUp: Dictionary(uniqueKeysWithValues: status.peers.map { ($0.name, $0.up) }), media: status.media)
            let histogram = await engine.processingHistogram()
            return Response(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: engine.metrics.exposition(processing: histogram))
        case "GET /api/status":
            let s = await engine.status(lastReload: reloader?.lastReloadResult)
            return json(
                200,
                [
                    "started_at": Self.time(s.startedAt), "peers": s.peers.map(Self.peer),
                    "calls": s.calls.map(Self.call),
                    "routes": Self.routes(s), "last_reload": s.lastReload.map(Self.reload) ?? NSNull(),
                    "transactions": s.transactions,
                    "media": s.media.map(Self.media) ?? NSNull(),
                    "dns": s.dns.map(Self.located),
                ])
        case "GET /api/peers":
            return json(200, await engine.status(lastReload: nil).peers.map(Self.peer))
        case "GET /api/calls":
            return json(200, await engine.status(lastReload: nil).calls.map(Self.call))
        case "GET /api/routes":
            return json(200, Self.routes(await engine.status(lastReload: reloader?.lastReloadResult)))
        case "POST /api/reload":
            guard let reloader else { return json(503, ["error": "reloading is not available"]) }
            let result = await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: reloader.reloadNow(reason: "API")) }
            }
            return json(result.ok ? 200 : 422, Self.reload(result))
        default:
            if request.method == "POST", parts.count == 4, parts[0] == "api", parts[1] == "peers",
                parts[3] == "drain" || parts[3] == "undrain"
            {
                let name = parts[2].removingPercentEncoding ?? parts[2]
                guard engine.currentSite.peer(name) != nil else { return json(404, ["error": "no peer '\(name)'"]) }
                await engine.setDrained(name, parts[3] == "drain")
                return json(200, ["peer": name, "drained": parts[3] == "drain"])
            }
            let known = ["/api/status", "/api/peers", "/api/calls", "/api/routes", "/api/reload", "/metrics", "/"]
            if known.contains("/" + parts.joined(separator: "/")) {
                return json(405, ["error": "\(request.method) \(path) is not supported"])
            }
            return json(404, ["error": "no such page: \(path)"])
        }
    }

    // MARK: JSON

    private func json(_ status: Int, _ object: Any) -> Response {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]))
            ?? Data("{}".utf8)
        return Response(status: status, contentType: "application/json", body: Array(data))
    }

    package static func time(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }

    package static func located(_ l: EngineStatus.Located) -> [String: Any] {
        ["name": l.name, "servers": l.servers, "ttl": l.ttl ?? NSNull(), "failing": l.failing ?? NSNull()]
    }

    package static func media(_ m: EngineStatus.Media) -> [String: Any] {
        [
            "sessions": m.sessions, "failures": m.failures,
            "rtpengine": m.instances.map {
                ["name": $0.name, "address": $0.address, "weight": $0.weight, "up": $0.up] as [String: Any]
            },
        ]
    }

    package static func peer(_ p: EngineStatus.Peer) -> [String: Any] {
        var out: [String: Any] = [
            "name": p.name, "plugin": p.plugin, "profile": p.profile, "kind": p.kind, "transport": p.transport,
            "address": p.address, "up": p.up, "drained": p.drained, "health_checked": p.healthChecked,
            "active_calls": p.activeCalls,
        ]
        if let probe = p.lastProbe {
            out["last_options"] = ["status": probe.status ?? NSNull(), "at": time(probe.at)] as [String: Any]
        }
        if let r = p.registration { out["registration"] = r }
        return out
    }

    package static func call(_ c: EngineStatus.Call) -> [String: Any] {
        [
            "a_call_id": c.aCallID, "b_call_id": c.bCallID ?? NSNull(), "source": c.source,
            "target": c.target ?? NSNull(),
            "route": c.route ?? NSNull(), "called": c.called ?? NSNull(), "caller": c.caller ?? NSNull(),
            "state": c.state,
            "setup_time": time(c.setupTime), "answer_time": c.answerTime.map(time) ?? NSNull(),
        ]
    }

    package static func routes(_ s: EngineStatus) -> [String: Any] {
        [
            "version": s.routesVersion, "loaded_at": time(s.routesLoadedAt),
            "routes": s.routes.map { r in
                [
                    "name": r.name, "match": r.match, "action": r.action, "attempted": r.attempted,
                    "answered": r.answered, "failed": r.failed,
                ] as [String: Any]
            },
        ]
    }

    package static func reload(_ r: EngineStatus.Reload) -> [String: Any] {
        ["at": time(r.at), "ok": r.ok, "reason": r.reason, "errors": r.errors]
    }

    package static func split(_ uri: String) -> (String, [String: String]) {
        let pieces = uri.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        if pieces.count == 2 {
            for pair in pieces[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { query[String(kv[0])] = String(kv[1]).removingPercentEncoding ?? String(kv[1]) }
            }
        }
        return (String(pieces.first ?? "/"), query)
    }
}
