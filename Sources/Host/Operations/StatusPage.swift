import Engine
import Foundation
import Routing
import SIPCore

/// The status page: one self-refreshing HTML page, rendered on the server from the engine's status (no scripts,
/// so it works in any browser, headless ones included, and shows the same thing the API returns).
enum StatusPage {
    package static func render(_ s: EngineStatus, token: String?, now: Date = Date()) -> String {
        let refresh = token.map { "/?token=\(escape($0))" } ?? "/"
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="2; url=\(refresh)">
            <title>Patchbay status</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
            h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
            table { border-collapse: collapse; font-size: 0.9em; }
            th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
            th { background: #f0f0f0; }
            .up { color: #060; font-weight: bold; } .down { color: #b00; font-weight: bold; } .drained { color: #a60; }
            .ok { color: #060; } .bad { color: #b00; }
            code { font-size: 0.95em; }
            </style></head><body>
            <h1>Patchbay</h1>
            <p>Up since \(time(s.startedAt)) &middot; \(s.calls.count) active call\(s.calls.count == 1 ? "" : "s") &middot; \(s.transactions) transactions in flight &middot; page at \(time(now))</p>

            """
        html +=
            "<h2>Peers</h2>\n<table id=\"peers\"><tr><th>Peer</th><th>State</th><th>Plugin / profile</th><th>Kind</th><th>Address</th><th>Calls</th><th>Last OPTIONS</th><th>Registration</th></tr>\n"
        for p in s.peers {
            let state =
                p.drained
                ? "<span class=\"drained\">drained</span>"
                : (p.up ? "<span class=\"up\">up</span>" : "<span class=\"down\">down</span>")
            let probe =
                p.lastProbe.map { "\($0.status.map(String.init) ?? "no answer") at \(time($0.at))" }
                ?? (p.healthChecked ? "not yet" : "not checked")
            html +=
                "<tr class=\"peer\" data-peer=\"\(escape(p.name))\"><td>\(escape(p.name))</td><td>\(state)</td><td>\(escape(p.plugin)) / \(escape(p.profile))</td><td>\(escape(p.kind))</td><td>\(escape(p.transport)) \(escape(p.address))</td><td>\(p.activeCalls)</td><td>\(escape(probe))</td><td>\(escape(p.registration ?? "-"))</td></tr>\n"
        }
        html += "</table>\n"
        if let media = s.media {
            html +=
                "<h2>Media relay</h2>\n<p>\(media.sessions) anchored session\(media.sessions == 1 ? "" : "s") &middot; \(media.failures) failed request\(media.failures == 1 ? "" : "s") to rtpengine</p>\n<table id=\"rtpengine\"><tr><th>rtpengine</th><th>State</th><th>Address</th><th>Weight</th></tr>\n"
            for i in media.instances {
                let state = i.up ? "<span class=\"up\">up</span>" : "<span class=\"down\">down</span>"
                html +=
                    "<tr class=\"rtpengine\" data-instance=\"\(escape(i.name))\"><td>\(escape(i.name))</td><td>\(state)</td><td>\(escape(i.address))</td><td>\(i.weight)</td></tr>\n"
            }
            html += "</table>\n"
        }
        if !s.dns.isEmpty {
            html +=
                "<h2>DNS</h2>\n<table id=\"dns\"><tr><th>Peer name</th><th>Servers (priority order)</th><th>TTL</th></tr>\n"
            for l in s.dns {
                let servers =
                    l.servers.isEmpty
                    ? "<span class=\"down\">\(escape(l.failing ?? "not looked up yet"))</span>"
                    : l.servers.map(escape).joined(separator: "<br>")
                html +=
                    "<tr class=\"dns\"><td>\(escape(l.name))</td><td>\(servers)</td><td>\(l.ttl.map { "\($0) s" } ?? "-")</td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "<h2>Active calls</h2>\n"
        if s.calls.isEmpty {
            html += "<p id=\"calls\">No calls in progress.</p>\n"
        } else {
            html +=
                "<table id=\"calls\"><tr><th>Since</th><th>State</th><th>From</th><th>To</th><th>Caller</th><th>Called</th><th>Route</th><th>A leg Call-ID</th></tr>\n"
            for c in s.calls {
                html +=
                    "<tr class=\"call\"><td>\(time(c.answerTime ?? c.setupTime))</td><td>\(escape(c.state))</td><td>\(escape(c.source))</td><td>\(escape(c.target ?? "-"))</td><td>\(escape(c.caller ?? "-"))</td><td>\(escape(c.called ?? "-"))</td><td>\(escape(c.route ?? "-"))</td><td><code>\(escape(c.aCallID))</code></td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "<h2>Routes in force</h2>\n<p>Version \(s.routesVersion), loaded \(time(s.routesLoadedAt)).</p>\n"
        html +=
            "<table id=\"routes\"><tr><th>#</th><th>Route</th><th>Match</th><th>Action</th><th>Attempted</th><th>Answered</th><th>Failed</th></tr>\n"
        for (i, r) in s.routes.enumerated() {
            html +=
                "<tr class=\"route\"><td>\(i + 1)</td><td>\(escape(r.name))</td><td>\(escape(r.match))</td><td>\(escape(r.action))</td><td>\(r.attempted)</td><td>\(r.answered)</td><td>\(r.failed)</td></tr>\n"
        }
        html += "</table>\n<h2>Last reload</h2>\n"
        if let r = s.lastReload {
            html +=
                "<p id=\"reload\" class=\"\(r.ok ? "ok" : "bad")\">\(r.ok ? "Put in force" : "Refused; the table above stays in force") at \(time(r.at)) (\(escape(r.reason))).</p>\n"
            if !r.errors.isEmpty { html += "<pre>" + r.errors.map(escape).joined(separator: "\n") + "</pre>\n" }
        } else {
            html += "<p id=\"reload\">No reload since start.</p>\n"
        }
        html += "</body></html>\n"
        return html
    }

    package static func time(_ d: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d) + " UTC"
    }

    package static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
