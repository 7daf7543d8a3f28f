import Foundation
import PluginAPI
import SIPCore
import Yams

extension RouteTable {
    /// Reads `routes.yaml`. `peers` are the names configured in `patchbay.yaml`: a route or test naming any other
    /// is an error. Routes that an earlier route shadows are warnings.
    public static func read(file: String, peers: Set<String>, diagnostics: Diagnostics) -> RouteTable? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            diagnostics.error(SourcePosition(file: file, line: 1, column: 1), "cannot read the routes file")
            return nil
        }
        return parse(text, file: file, peers: peers, diagnostics: diagnostics)
    }

    public static func parse(_ text: String, file: String, peers: Set<String>, diagnostics: Diagnostics)
        -> RouteTable?
    {
        let before = diagnostics.errors.count
        guard let root = YAMLDocument.load(text, file: file, diagnostics: diagnostics),
            var top = YAMLMap(root, file: file, what: "the routes file", diagnostics: diagnostics)
        else { return nil }
        var routes: [Route] = []
        guard let routeNodes = top.list("routes") else {
            diagnostics.error(top.position, "the routes file has no 'routes' list")
            return nil
        }
        for n in routeNodes {
            guard var m = YAMLMap(n, file: file, what: "route", diagnostics: diagnostics) else { continue }
            let route = readRoute(&m, peers: peers)
            m.rejectUnknownKeys()
            guard let route else { continue }
            if routes.contains(where: { $0.name == route.name }) {
                diagnostics.error(route.position, "route '\(route.name)' is defined twice")
            }
            if let earlier = routes.first(where: { route.isShadowed(by: $0) }) {
                diagnostics.warning(
                    route.position,
                    "route '\(route.name)' can never match: route '\(earlier.name)' at line \(earlier.position.line) matches everything it does"
                )
            }
            routes.append(route)
        }
        var tests: [RouteTest] = []
        for n in top.list("tests") ?? [] {
            guard var m = YAMLMap(n, file: file, what: "route test", diagnostics: diagnostics) else { continue }
            if let t = readTest(&m, peers: peers, routes: routes) { tests.append(t) }
            m.rejectUnknownKeys()
        }
        top.rejectUnknownKeys()
        guard diagnostics.errors.count == before else { return nil }
        return RouteTable(file: file, routes: routes, tests: tests)
    }

    private static func readRoute(_ m: inout YAMLMap, peers: Set<String>) -> Route? {
        let d = m.diagnostics
        let name = m.string("name", required: true)
        var sources: Set<String>?
        var called: [NumberPattern] = []
        var caller: [NumberPattern] = []
        var headers: [Route.HeaderCondition] = []
        if var match = m.map("match", what: "match") {
            if let list = match.strings("from") {
                for (p, pos) in list where !peers.contains(p) { d.error(pos, unknownPeer(p, peers)) }
                sources = Set(list.map(\.0))
            }
            called = readPatterns(&match, "to")
            caller = readPatterns(&match, "caller")
            if var h = match.map("headers", what: "header conditions") {
                for (k, v) in h.mapping {
                    _ = h.node(k.text)
                    guard case .scalar(let s) = v else {
                        d.error(h.pos(v), "header condition for '\(k.text)' must be a regex string or true")
                        continue
                    }
                    if s.style == .plain, s.string == "true" {
                        headers.append(Route.HeaderCondition(name: k.text, regex: nil))
                    } else if let r = compile(s.string, anchored: false, at: h.pos(v), d) {
                        headers.append(Route.HeaderCondition(name: k.text, regex: r))
                    }
                }
            }
            match.rejectUnknownKeys()
        }
        var action: Route.Action?
        if let rejectNode = m.node("reject") {
            let pos = m.pos(rejectNode)
            if case .scalar(let s) = rejectNode, let code = Int(s.string), (400...699).contains(code) {
                action = .reject(status: code, reason: m.string("reason") ?? defaultReason(code))
            } else {
                d.error(
                    pos, "'reject' must be a SIP status code between 400 and 699, found \(YAMLMap.kind(of: rejectNode))"
                )
            }
        }
        if let targetNodes = m.list("targets") {
            if action != nil { d.error(m.keyPosition("targets"), "a route has either 'targets' or 'reject', not both") }
            var targets: [Route.Target] = []
            for (i, n) in targetNodes.enumerated() {
                if case .scalar(let s) = n {
                    if !peers.contains(s.string) { d.error(m.pos(n), unknownPeer(s.string, peers)) }
                    targets.append(Route.Target(peer: s.string, priority: i, weight: 1))
                } else if var t = YAMLMap(n, file: m.file, what: "target", diagnostics: d) {
                    let peer = t.string("peer", required: true)
                    let priority = t.int("priority", range: 0...1000) ?? i
                    let weight = t.int("weight", range: 1...1000) ?? 1
                    t.rejectUnknownKeys()
                    if let peer {
                        if !peers.contains(peer) { d.error(t.keyPosition("peer"), unknownPeer(peer, peers)) }
                        targets.append(Route.Target(peer: peer, priority: priority, weight: weight))
                    }
                }
            }
            if targets.isEmpty { d.error(m.keyPosition("targets"), "'targets' is empty") }
            action = .forward(targets)
        } else if action == nil {
            d.error(m.position, "route \(name.map { "'\($0)' " } ?? "")needs 'targets' or 'reject'")
        }
        var ringTimeout: Double?
        if let n = m.node("ring_timeout") {
            if case .scalar(let s) = n, let v = Double(s.string), v >= 0.1, v <= 3600 {
                ringTimeout = v
            } else {
                d.error(m.pos(n), "'ring_timeout' must be seconds between 0.1 and 3600, found \(YAMLMap.kind(of: n))")
            }
        }
        let maxDuration = m.seconds("max_duration", range: 1...604_800)
        let emergency = m.bool("emergency") ?? false
        var schedule: RouteSchedule?
        if let n = m.node("when") {
            schedule = readSchedule(n, m)
        }
        guard let name, let action else { return nil }
        var route = Route(
            name: name, sources: sources, called: called, caller: caller, headers: headers, action: action,
            ringTimeout: ringTimeout, position: m.position)
        route.maxDuration = maxDuration
        route.emergency = emergency
        route.schedule = schedule
        return route
    }

    /// `to: "+4930"` (prefix), a list of those, or `{prefix: ...}`, `{exact: ...}`, `{regex: ...}` entries.
    private static func readPatterns(_ m: inout YAMLMap, _ key: String) -> [NumberPattern] {
        guard let n = m.node(key) else { return [] }
        let nodes: [Node] = n.sequence.map(Array.init) ?? [n]
        var out: [NumberPattern] = []
        for node in nodes {
            if case .scalar(let s) = node {
                if let bad = invalidNumberCharacter(s.string) {
                    m.diagnostics.error(
                        m.pos(node), "'\(key)' prefix '\(s.string)' contains '\(bad)'; use {regex: ...} for patterns")
                } else {
                    out.append(.prefix(s.string))
                }
            } else if var p = YAMLMap(node, file: m.file, what: "number pattern", diagnostics: m.diagnostics) {
                if let prefix = p.string("prefix") { out.append(.prefix(prefix)) }
                if let exact = p.string("exact") { out.append(.exact(exact)) }
                if let pattern = p.string("regex"),
                    let r = compile(pattern, anchored: true, at: p.keyPosition("regex"), m.diagnostics)
                {
                    out.append(.regex(r))
                }
                p.rejectUnknownKeys()
            }
        }
        return out
    }

    static func invalidNumberCharacter(_ s: String) -> Character? {
        s.first { !($0.isASCII && ($0.isNumber || $0 == "+" || $0 == "*" || $0 == "#")) }
    }

    static func compile(_ pattern: String, anchored: Bool, at pos: SourcePosition, _ d: Diagnostics) -> CompiledRegex? {
        do {
            return try CompiledRegex(pattern, anchored: anchored)
        } catch {
            d.error(
                pos,
                "invalid regex '\(pattern)': it does not compile (check parentheses, brackets, escapes and repeats)")
            return nil
        }
    }

    static func unknownPeer(_ name: String, _ peers: Set<String>) -> String {
        let hint = YAMLMap.nearest(name, in: peers.sorted()).map { " (did you mean '\($0)'?)" } ?? ""
        return "unknown peer '\(name)'\(hint)"
    }

    static func defaultReason(_ code: Int) -> String {
        switch code {
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 480: return "Temporarily Unavailable"
        case 484: return "Address Incomplete"
        case 486: return "Busy Here"
        case 488: return "Not Acceptable Here"
        case 503: return "Service Unavailable"
        case 603: return "Decline"
        default: return "Rejected"
        }
    }

    /// `when: {days: mon-fri, hours: "08:00-18:00", timezone: Europe/Berlin}`, or a list of such windows (one
    /// time zone for all: the first given, else the system's).
    private static func readSchedule(_ node: Node, _ parent: YAMLMap) -> RouteSchedule? {
        let d = parent.diagnostics
        let nodes: [Node] = node.sequence.map(Array.init) ?? [node]
        var windows: [RouteSchedule.Window] = []
        var zone: TimeZone?
        var texts: [String] = []
        for n in nodes {
            guard var w = YAMLMap(n, file: parent.file, what: "'when' window", diagnostics: d) else { return nil }
            var days = Set(1...7)
            var dayText = "every day"
            if let list = w.strings("days") {
                dayText = list.map(\.0).joined(separator: ",")
                days = []
                for (text, position) in list {
                    guard let some = RouteSchedule.days(text) else {
                        d.error(position, "'\(text)' is not a day or a range of days (mon, mon-fri, sat-sun)")
                        continue
                    }
                    days.formUnion(some)
                }
            }
            var start = 0
            var end = 0
            let hoursText = w.string("hours")
            if let hours = hoursText {
                if let (s, e) = RouteSchedule.hours(hours) {
                    (start, end) = (s, e)
                } else {
                    d.error(
                        w.keyPosition("hours"),
                        "'hours' must be HH:MM-HH:MM (08:00-18:00, 22:00-06:00), found '\(hours)'")
                }
            }
            if let name = w.string("timezone") {
                if let tz = TimeZone(identifier: name) {
                    zone = zone ?? tz
                } else {
                    d.error(w.keyPosition("timezone"), "unknown time zone '\(name)' (an IANA name: Europe/Berlin, UTC)")
                }
            }
            w.rejectUnknownKeys()
            windows.append(RouteSchedule.Window(days: days, start: start, end: end))
            texts.append("\(dayText) \(hoursText ?? "all day")")
        }
        let tz = zone ?? TimeZone.current
        return RouteSchedule(
            windows: windows, timeZone: tz, description: texts.joined(separator: ", ") + " \(tz.identifier)")
    }

    private static func readTest(_ m: inout YAMLMap, peers: Set<String>, routes: [Route]) -> RouteTest? {
        let d = m.diagnostics
        let from = m.string("from", required: true)
        if let from, !peers.contains(from) { d.error(m.keyPosition("from"), unknownPeer(from, peers)) }
        let to = m.string("to", required: true)
        let caller = m.string("caller")
        var at: Date?
        if let text = m.string("at") {
            at = ISO8601DateFormatter().date(from: text)
            if at == nil {
                d.error(
                    m.keyPosition("at"), "'at' must be an ISO 8601 time with its offset (2026-12-07T10:00:00+01:00)")
            }
        }
        let name = m.string("name") ?? "\(from ?? "?") -> \(to ?? "?")"
        var test = RouteTest(
            name: name, from: from ?? "", to: to ?? "", caller: caller, expectRoute: nil, expectTargets: nil,
            expectNumbers: [:], expectCallers: [:], expectReject: nil, position: m.position)
        guard var e = m.map("expect", what: "expect") else {
            if !m.has("expect") { d.error(m.position, "route test '\(name)' has no 'expect'") }
            return nil
        }
        test.expectRoute = e.string("route")
        if let r = test.expectRoute, !routes.contains(where: { $0.name == r }) {
            d.error(e.keyPosition("route"), "unknown route '\(r)'")
        }
        if let targets = e.strings("targets") {
            for (p, pos) in targets where !peers.contains(p) { d.error(pos, unknownPeer(p, peers)) }
            test.expectTargets = targets.map(\.0)
        }
        for key in ["numbers", "callers"] {
            guard var nm = e.map(key, what: "'\(key)'") else { continue }
            var dict: [String: String] = [:]
            for (k, v) in nm.mapping {
                _ = nm.node(k.text)
                if !peers.contains(k.text) { d.error(nm.pos(k), unknownPeer(k.text, peers)) }
                if case .scalar(let s) = v {
                    dict[k.text] = s.string
                } else {
                    d.error(nm.pos(v), "expected number for '\(k.text)' must be a string")
                }
            }
            if key == "numbers" { test.expectNumbers = dict } else { test.expectCallers = dict }
        }
        test.expectReject = e.int("reject", range: 400...699)
        test.at = at
        e.rejectUnknownKeys()
        guard from != nil, to != nil else { return nil }
        return test
    }
}
