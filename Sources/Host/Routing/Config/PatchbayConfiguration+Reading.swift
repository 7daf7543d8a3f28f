import Foundation
import PluginAPI
import SIPCore
import Yams

extension PatchbayConfiguration {
    /// Reads and checks `patchbay.yaml`. Returns nil when the file cannot be used; every problem found is in
    /// `diagnostics`, not only the first. Relative paths in the file are taken relative to the file's directory.
    public static func read(file: String, diagnostics: Diagnostics) -> PatchbayConfiguration? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            diagnostics.error(SourcePosition(file: file, line: 1, column: 1), "cannot read the file")
            return nil
        }
        return parse(text, file: file, diagnostics: diagnostics)
    }

    public static func parse(_ text: String, file: String, diagnostics: Diagnostics) -> PatchbayConfiguration? {
        let before = diagnostics.errors.count
        guard let root = YAMLDocument.load(text, file: file, diagnostics: diagnostics),
            var top = YAMLMap(root, file: file, what: "the configuration", diagnostics: diagnostics)
        else { return nil }
        let dir = (file as NSString).deletingLastPathComponent

        var listeners: [Listener] = []
        for n in top.list("listen") ?? [] {
            guard var m = YAMLMap(n, file: file, what: "listener", diagnostics: diagnostics) else { continue }
            let transportGiven = m.has("transport")
            let transport = m.choice("transport", Transport.self) ?? .udp
            let host = m.string("address") ?? "0.0.0.0"
            let port = m.int("port", range: 1...65535) ?? 5060
            let advertise = m.string("advertise")
            let listenerName = m.string("name")
            var tls: ListenerTLS?
            let hasTLSKeys = ["certificate", "private_key", "client_ca", "verify_clients"].contains { m.has($0) }
            if transport == .tls {
                let certificate = m.string("certificate", required: true).map { resolve($0, relativeTo: dir) }
                let key = m.string("private_key", required: true).map { resolve($0, relativeTo: dir) }
                let clientCA = m.string("client_ca").map { resolve($0, relativeTo: dir) }
                let verify =
                    m.choice("verify_clients", ClientVerification.self) ?? (clientCA == nil ? .none : .required)
                if let certificate, let key {
                    tls = ListenerTLS(
                        certificate: certificate, privateKey: key, clientCA: clientCA, verifyClients: verify,
                        position: m.position)
                }
            } else if hasTLSKeys {
                diagnostics.error(m.position, "certificate settings belong to a 'transport: tls' listener")
            }
            m.rejectUnknownKeys()
            var listener = Listener(transport: transport, host: host, port: port, advertise: advertise, tls: tls)
            listener.name = listenerName
            if let listenerName, listeners.contains(where: { $0.name == listenerName }) {
                diagnostics.error(m.keyPosition("name"), "listener name '\(listenerName)' is used twice")
            }
            listeners.append(listener)
        }
        let unknownSources = top.choice("unknown_sources", UnknownSourcePolicy.self) ?? .reject
        let redirects = top.choice("redirects", RedirectPolicy.self) ?? .pass
        var failoverCodes: Set<Int> = [408, 480, 503]
        if let codes = top.list("failover_codes") {
            failoverCodes = []
            for n in codes {
                if case .scalar(let s) = n, let c = Int(s.string), (300...699).contains(c) {
                    failoverCodes.insert(c)
                } else {
                    diagnostics.error(
                        top.pos(n),
                        "'failover_codes' entries must be SIP status codes 300-699, found \(YAMLMap.kind(of: n))")
                }
            }
        }
        var timers = Timers()
        if var t = top.map("timers", what: "timers") {
            timers.t1Milliseconds = t.int("t1_ms", range: 10...10_000) ?? timers.t1Milliseconds
            timers.t2Milliseconds = t.int("t2_ms", range: 100...60_000) ?? timers.t2Milliseconds
            t.rejectUnknownKeys()
        }
        let drainSeconds = top.seconds("drain_timeout", range: 0...86_400) ?? 30
        var protection = Protection()
        if var p = top.map("protection", what: "protection") {
            protection.peerRate =
                p.seconds("peer_rate", range: 1...1_000_000, unit: "messages per second") ?? protection.peerRate
            protection.unknownRate =
                p.seconds("unknown_rate", range: 0.1...1_000_000, unit: "messages per second") ?? protection.unknownRate
            protection.unknownTotalRate =
                p.seconds("unknown_total_rate", range: 0.1...1_000_000, unit: "messages per second")
                ?? protection.unknownTotalRate
            protection.maxCalls = p.int("max_calls", range: 1...10_000_000) ?? protection.maxCalls
            protection.maxTransactions =
                p.int("max_transactions", range: 10...100_000_000) ?? protection.maxTransactions
            protection.maxQueueDelayMilliseconds =
                p.int("max_queue_delay_ms", range: 1...60_000) ?? protection.maxQueueDelayMilliseconds
            p.rejectUnknownKeys()
        }
        var callRecords = CallRecords(path: resolve("calls.sqlite", relativeTo: dir))
        if var c = top.map("call_records", what: "call_records") {
            callRecords.enabled = c.bool("enabled") ?? true
            callRecords.path = c.string("path").map { resolve($0, relativeTo: dir) } ?? callRecords.path
            callRecords.retentionDays = c.int("retention_days", range: 1...36_500) ?? callRecords.retentionDays
            c.rejectUnknownKeys()
        }
        var http: HTTP?
        if var h = top.map("http", what: "http") {
            var settings = HTTP(position: h.position)
            settings.host = h.string("address") ?? settings.host
            settings.port = h.int("port", range: 1...65535) ?? settings.port
            let token = h.string("token")
            let tokenFile = h.string("token_file").map { resolve($0, relativeTo: dir) }
            if let tokenFile {
                if let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) {
                    settings.token = text.trimmingCharacters(in: .whitespacesAndNewlines)
                } else {
                    diagnostics.error(h.keyPosition("token_file"), "cannot read token_file '\(tokenFile)'")
                }
            } else {
                settings.token = token
            }
            let loopback = settings.host == "localhost" || settings.host == "::1" || settings.host.hasPrefix("127.")
            if !loopback, (settings.token ?? "").isEmpty {
                diagnostics.error(
                    h.keyPosition("address"),
                    "the HTTP listener on \(settings.host) is reachable from other hosts: give it a 'token' or 'token_file'"
                )
            }
            h.rejectUnknownKeys()
            http = settings
        }
        let rtpengine = top.map("rtpengine", what: "rtpengine").map { readRtpEngine($0, diagnostics: diagnostics) }
        let dns = top.map("dns", what: "dns").map { readDNS($0, diagnostics: diagnostics) }
        let pluginDirectory = top.string("plugin_dir").map { resolve($0, relativeTo: dir) }
        let routes = top.string("routes", required: true).map { resolve($0, relativeTo: dir) } ?? ""

        var peers: [Peer] = []
        for n in top.list("peers") ?? [] {
            guard var m = YAMLMap(n, file: file, what: "peer", diagnostics: diagnostics) else { continue }
            if let p = readPeer(&m, file: file, diagnostics: diagnostics) {
                if peers.contains(where: { $0.name == p.name }) {
                    diagnostics.error(p.position, "peer '\(p.name)' is defined twice")
                } else {
                    peers.append(p)
                }
            }
            m.rejectUnknownKeys()
        }
        if peers.isEmpty { diagnostics.error(top.position, "no peers configured") }
        checkMedia(peers: peers, rtpengine: rtpengine, diagnostics: diagnostics)
        for peer in peers {
            guard let name = peer.interface else { continue }
            let named = listeners.filter { $0.name == name }
            if named.isEmpty {
                let known = listeners.compactMap(\.name)
                let hint = YAMLMap.nearest(name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
                diagnostics.error(
                    peer.interfacePosition ?? peer.position,
                    "peer '\(peer.name)': no listener named '\(name)' (named: \(known.isEmpty ? "none" : known.joined(separator: ", ")))\(hint)"
                )
            } else if !named.contains(where: { $0.transport == peer.transport }) {
                diagnostics.error(
                    peer.interfacePosition ?? peer.position,
                    "peer '\(peer.name)' uses \(peer.transport.rawValue), but interface '\(name)' has no \(peer.transport.rawValue) listener"
                )
            }
        }
        // Two peers with the same range: which one a source in it belongs to would depend on the file's order.
        var rangeOwners: [AddressRange: String] = [:]
        for peer in peers {
            for (range, position) in zip(peer.ranges, peer.rangePositions) {
                if let other = rangeOwners[range], other != peer.name {
                    diagnostics.warning(
                        position,
                        "range \(range) of peer '\(peer.name)' is also peer '\(other)''s: its sources go to '\(other)'")
                } else {
                    rangeOwners[range] = peer.name
                }
            }
        }
        top.rejectUnknownKeys()
        guard diagnostics.errors.count == before else { return nil }
        var config = PatchbayConfiguration(
            file: file, listeners: listeners, callRecords: callRecords, pluginDirectory: pluginDirectory,
            routesFile: routes, peers: peers)
        config.http = http
        config.rtpengine = rtpengine
        config.dns = dns ?? DNS()
        config.unknownSources = unknownSources
        config.redirects = redirects
        config.failoverCodes = failoverCodes
        config.timers = timers
        config.drainSeconds = drainSeconds
        config.protection = protection
        return config
    }

    static func resolve(_ path: String, relativeTo dir: String) -> String {
        path.hasPrefix("/") || dir.isEmpty ? path : (dir as NSString).appendingPathComponent(path)
    }

    private static func readPeer(_ m: inout YAMLMap, file: String, diagnostics: Diagnostics) -> Peer? {
        let dir = (file as NSString).deletingLastPathComponent
        let name = m.string("name", required: true)
        let plugin = m.string("plugin", required: true)
        let profile = m.string("profile") ?? "generic"
        let kind = m.choice("kind", PeerKind.self)
        if kind == nil, !m.has("kind") {
            diagnostics.error(
                m.position, "peer \(name.map { "'\($0)' " } ?? "")is missing 'kind' (internal or external)")
        }
        let transportGiven = m.has("transport")
        let transport = m.choice("transport", Transport.self) ?? .udp
        let addresses = readAddresses(&m, name: name, diagnostics: diagnostics)
        let ranges = readRanges(&m, diagnostics: diagnostics)
        let numbering = m.map("numbering", what: "numbering").flatMap { readNumbering($0) } ?? NumberingContext()
        let internalHeaders = m.strings("internal_headers")?.map(\.0)
        var headerPolicy = kind.map(HeaderPolicy.default(for:)) ?? HeaderPolicy(mode: .pass)
        if var h = m.map("headers", what: "headers") {
            headerPolicy.mode = h.choice("policy", HeaderPolicy.Mode.self) ?? headerPolicy.mode
            headerPolicy.allow = HeaderNameList(h.strings("allow")?.map(\.0) ?? [])
            h.rejectUnknownKeys()
        }
        let healthCheck = m.map("health_check", what: "health_check").map {
            readHealthCheck($0, diagnostics: diagnostics)
        }
        let tls = m.map("tls", what: "tls").map { readTLS($0, dir: dir, diagnostics: diagnostics) }
        let inboundAuth = m.map("inbound_auth", what: "inbound_auth").flatMap { readCredentials($0, file: file) }
        let inviteTimeout = m.seconds("invite_timeout", range: 0.1...300)
        let prack = m.choice("prack", PrackPolicy.self)
        let maxCallDuration = m.seconds("max_call_duration", range: 1...604_800)
        let media = m.map("media", what: "media").map { readMedia($0, diagnostics: diagnostics) }
        let interface = m.string("interface")
        let interfacePosition = m.keyPosition("interface")
        let limits = m.map("limits", what: "limits").map(readLimits) ?? PeerLimits()
        let responses = readResponses(&m, file: file, diagnostics: diagnostics)
        let sessionTimer = readSessionTimer(&m, diagnostics: diagnostics)
        let hasAuth = m.has("auth")
        let credentials = m.map("auth", what: "auth").flatMap { readCredentials($0, file: file) }
        let registration = m.map("registration", what: "registration").flatMap {
            readRegistration($0, credentials: credentials, hasAuth: hasAuth, diagnostics: diagnostics)
        }
        let (options, optionPositions) = readOptions(&m, file: file, diagnostics: diagnostics)
        guard let name, let plugin, let kind, !addresses.isEmpty else { return nil }
        var peer = Peer(
            name: name, plugin: plugin, profile: profile, kind: kind, transport: transport, addresses: addresses,
            numbering: numbering, options: options,
            internalHeaderList: HeaderNameList(
                internalHeaders ?? PatchbayConfiguration.defaultInternalHeaders(for: kind)),
            headerPolicy: headerPolicy, healthCheck: healthCheck, credentials: credentials, registration: registration,
            tls: tls,
            inboundAuth: inboundAuth, inviteTimeout: inviteTimeout,
            position: m.position, pluginPosition: m.keyPosition("plugin"),
            profilePosition: m.keyPosition("profile"), optionPositions: optionPositions)
        peer.transportGiven = transportGiven
        peer.prack = prack ?? .supported
        peer.sessionTimer = sessionTimer
        peer.maxCallDuration = maxCallDuration
        peer.ranges = ranges.map(\.0)
        peer.rangePositions = ranges.map(\.1)
        if let media { peer.media = media }
        peer.responses = responses
        peer.interface = interface
        peer.interfacePosition = interface == nil ? nil : interfacePosition
        peer.limits = limits
        return peer
    }

    // MARK: A peer's blocks, each read where readPeer reads it (the order of its diagnostics is the file's)

    private static func readAddresses(_ m: inout YAMLMap, name: String?, diagnostics: Diagnostics) -> [PeerAddress] {
        var addresses: [PeerAddress] = []
        for (text, pos) in m.strings("addresses") ?? [] {
            if let a = parseAddress(text) {
                addresses.append(a)
            } else {
                diagnostics.error(pos, "'\(text)' is not host:port")
            }
        }
        if let single = m.string("address") {
            if let a = parseAddress(single) {
                addresses.insert(a, at: 0)
            } else {
                diagnostics.error(m.keyPosition("address"), "'\(single)' is not host:port")
            }
        }
        if addresses.isEmpty {
            diagnostics.error(m.position, "peer \(name.map { "'\($0)' " } ?? "")needs 'address' or 'addresses'")
        }
        return addresses
    }

    private static func readRanges(_ m: inout YAMLMap, diagnostics: Diagnostics) -> [(AddressRange, SourcePosition)] {
        var ranges: [(AddressRange, SourcePosition)] = []
        for (text, pos) in m.strings("ranges") ?? [] {
            if let r = AddressRange(text) {
                ranges.append((r, pos))
            } else {
                diagnostics.error(
                    pos, "'\(text)' is not an address range (ADDRESS/PREFIX: 203.0.113.0/24, 2001:db8::/32)")
            }
        }
        return ranges
    }

    private static func readHealthCheck(_ map: YAMLMap, diagnostics: Diagnostics) -> HealthCheck {
        var h = map
        var check = HealthCheck()
        check.interval = h.seconds("interval", range: 0.1...3600) ?? check.interval
        check.timeout = h.seconds("timeout", range: 0.05...60) ?? check.timeout
        check.downAfter = h.int("down_after", range: 1...100) ?? check.downAfter
        check.upAfter = h.int("up_after", range: 1...100) ?? check.upAfter
        if let statuses = h.list("down_on") {
            check.downOn = []
            for n in statuses {
                if case .scalar(let s) = n, let c = Int(s.string), (200...699).contains(c) {
                    check.downOn.insert(c)
                } else {
                    diagnostics.error(
                        h.pos(n), "'down_on' entries must be SIP status codes 200-699, found \(YAMLMap.kind(of: n))"
                    )
                }
            }
        }
        h.rejectUnknownKeys()
        return check
    }

    private static func readTLS(_ map: YAMLMap, dir: String, diagnostics: Diagnostics) -> PeerTLS {
        var t = map
        var settings = PeerTLS(position: t.position)
        settings.ca = t.string("ca").map { resolve($0, relativeTo: dir) }
        settings.serverName = t.string("server_name")
        settings.verify = t.choice("verify", ServerVerification.self) ?? .full
        settings.certificate = t.string("certificate").map { resolve($0, relativeTo: dir) }
        settings.privateKey = t.string("private_key").map { resolve($0, relativeTo: dir) }
        if (settings.certificate == nil) != (settings.privateKey == nil) {
            diagnostics.error(t.position, "a client 'certificate' needs its 'private_key', and the other way round")
        }
        t.rejectUnknownKeys()
        return settings
    }

    private static func readLimits(_ map: YAMLMap) -> PeerLimits {
        var l = map
        var limits = PeerLimits()
        limits.maxCalls = l.int("max_calls", range: 1...1_000_000)
        limits.maxCallsPerSecond = l.seconds(
            "max_calls_per_second", range: 0.01...100_000, unit: "calls per second")
        limits.status = l.int("status", range: 400...699) ?? limits.status
        l.rejectUnknownKeys()
        return limits
    }

    private static func readResponses(_ m: inout YAMLMap, file: String, diagnostics: Diagnostics) -> [Int:
        ResponseMapping]
    {
        var responses: [Int: ResponseMapping] = [:]
        if let n = m.node("responses") {
            if let mapping = n.mapping {
                for (k, v) in mapping {
                    let position = YAMLMap.position(of: k, file: file) ?? m.position
                    guard let from = Int(k.text), (300...699).contains(from) else {
                        diagnostics.error(
                            position, "'responses' keys must be final statuses 300-699, found '\(k.text)'")
                        continue
                    }
                    if case .scalar(let s) = v {
                        if let to = Int(s.string), (300...699).contains(to) {
                            responses[from] = ResponseMapping(status: to)
                        } else {
                            diagnostics.error(
                                m.pos(v),
                                "'responses' values must be a status 300-699 or {status, reason, q850}, found '\(s.string)'"
                            )
                        }
                    } else if var e = YAMLMap(v, file: file, what: "response mapping", diagnostics: diagnostics) {
                        let to = e.int("status", range: 300...699)
                        let reason = e.string("reason")
                        let q850 = e.int("q850", range: 1...127)
                        e.rejectUnknownKeys()
                        if let to {
                            responses[from] = ResponseMapping(status: to, reason: reason, q850: q850)
                        } else {
                            diagnostics.error(e.position, "response mapping for \(from) is missing 'status'")
                        }
                    }
                }
            } else {
                diagnostics.error(m.pos(n), "'responses' must be a mapping (404: 480), found \(YAMLMap.kind(of: n))")
            }
        }
        return responses
    }

    private static func readSessionTimer(_ m: inout YAMLMap, diagnostics: Diagnostics) -> SessionTimer? {
        var sessionTimer: SessionTimer?
        if let n = m.node("session_timer") {
            if case .scalar(let s) = n, s.string == "off" {
                sessionTimer = nil
            } else if var t = m.map("session_timer", what: "session_timer") {
                var settings = SessionTimer()
                settings.expires = t.int("expires", range: 1...86_400) ?? settings.expires
                settings.minSE = t.int("min_se", range: 1...86_400) ?? settings.minSE
                settings.refresher = t.choice("refresher", SessionTimer.Refresher.self) ?? settings.refresher
                if settings.expires < settings.minSE {
                    diagnostics.error(
                        t.keyPosition("expires"),
                        "'expires' (\(settings.expires)) is less than 'min_se' (\(settings.minSE))")
                }
                if settings.minSE < 90 {
                    // RFC 4028 section 4 puts the floor at 90 s; tests use less to see a refresh in seconds.
                    diagnostics.warning(
                        t.keyPosition("min_se"),
                        "'min_se' \(settings.minSE) is below RFC 4028's 90 s floor: peers may refuse it")
                }
                t.rejectUnknownKeys()
                sessionTimer = settings
            }
        }
        return sessionTimer
    }

    private static func readRegistration(
        _ map: YAMLMap, credentials: Credentials?, hasAuth: Bool, diagnostics: Diagnostics
    ) -> Registration? {
        var r = map
        let user = r.string("user") ?? credentials?.username
        // A broken auth block has its own error; the missing user would only repeat it.
        if user == nil, !hasAuth {
            diagnostics.error(r.position, "'registration' needs 'user' (or an 'auth' block whose username is used)")
        }
        var reg = Registration(user: user ?? "")
        reg.domain = r.string("domain")
        reg.expires = r.int("expires", range: 10...86_400) ?? reg.expires
        reg.retryMin = r.seconds("retry_min", range: 0.05...3600) ?? reg.retryMin
        reg.retryMax = r.seconds("retry_max", range: 0.05...86_400) ?? max(reg.retryMax, reg.retryMin)
        if reg.retryMax < reg.retryMin {
            diagnostics.error(
                r.keyPosition("retry_max"),
                "'retry_max' (\(reg.retryMax)) is less than 'retry_min' (\(reg.retryMin))")
        }
        r.rejectUnknownKeys()
        return user == nil ? nil : reg
    }

    private static func readOptions(_ m: inout YAMLMap, file: String, diagnostics: Diagnostics) -> (
        [String: OptionValue], [String: SourcePosition]
    ) {
        var options: [String: OptionValue] = [:]
        var optionPositions: [String: SourcePosition] = [:]
        if let n = m.node("options") {
            if let mapping = n.mapping {
                for (k, v) in mapping {
                    options[k.text] = optionValue(v)
                    optionPositions[k.text] = YAMLMap.position(of: k, file: file)
                }
            } else {
                diagnostics.error(m.pos(n), "'options' must be a mapping, found \(YAMLMap.kind(of: n))")
            }
        }
        return (options, optionPositions)
    }

    /// `auth: {username, password | password_file, realm}`. A password file keeps the secret out of a
    /// configuration that is shared or versioned; it is read at load time, trailing newline dropped.
    private static func readCredentials(_ map: YAMLMap, file: String) -> Credentials? {
        var m = map
        let username = m.string("username", required: true)
        let inline = m.string("password")
        let path = m.string("password_file")
        let realm = m.string("realm")
        var password: String?
        switch (inline, path) {
        case (let p?, nil): password = p
        case (nil, let f?):
            let resolved = resolve(f, relativeTo: (file as NSString).deletingLastPathComponent)
            if let text = try? String(contentsOfFile: resolved, encoding: .utf8) {
                password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            } else {
                m.diagnostics.error(m.keyPosition("password_file"), "cannot read password_file '\(resolved)'")
            }
        case (_?, _?):
            m.diagnostics.error(m.keyPosition("password_file"), "give 'password' or 'password_file', not both")
        case (nil, nil):
            m.diagnostics.error(m.position, "'auth' needs 'password' or 'password_file'")
        }
        m.rejectUnknownKeys()
        guard let username, let password else { return nil }
        return Credentials(username: username, password: password, realm: realm)
    }

    /// `dns:`.
    private static func readDNS(_ map: YAMLMap, diagnostics: Diagnostics) -> DNS {
        var m = map
        var dns = DNS()
        for (text, position) in m.strings("servers") ?? [] {
            if var a = parseAddress(text), !a.isHostName {
                if !a.portGiven { a.port = 53 }
                dns.servers.append(a.description)
            } else {
                diagnostics.error(position, "'\(text)' is not an IP address with an optional port (127.0.0.1:5353)")
            }
        }
        dns.timeout = m.seconds("timeout", range: 0.05...30) ?? dns.timeout
        dns.tries = m.int("tries", range: 1...10) ?? dns.tries
        dns.minTTL = m.seconds("min_ttl", range: 0.1...86_400) ?? dns.minTTL
        dns.maxTTL = m.seconds("max_ttl", range: 1...604_800) ?? dns.maxTTL
        dns.retry = m.seconds("retry", range: 0.1...3600) ?? dns.retry
        if dns.minTTL > dns.maxTTL {
            diagnostics.error(
                m.keyPosition("min_ttl"), "'min_ttl' (\(dns.minTTL) s) is above 'max_ttl' (\(dns.maxTTL) s)")
        }
        m.rejectUnknownKeys()
        return dns
    }

    static func parseAddress(_ text: String) -> PeerAddress? {
        var host = Substring(text)
        var port = 5060
        var portGiven = false
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") {
                guard let p = Int(rest.dropFirst()) else { return nil }
                port = p
                portGiven = true
            }
        } else if host.filter({ $0 == ":" }).count > 1 {
            // An IPv6 address without brackets has no port.
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { return nil }
            port = p
            portGiven = true
            host = host[..<colon]
        }
        guard !host.isEmpty, !host.contains(" "), (1...65535).contains(port) else { return nil }
        return PeerAddress(host: String(host), port: port, portGiven: portGiven)
    }

    private static func readNumbering(_ map: YAMLMap) -> NumberingContext? {
        var m = map
        var ctx = NumberingContext()
        if let v = m.string("country_code") { ctx.countryCode = v }
        if let v = m.string("area_code") { ctx.areaCode = v }
        if let v = m.string("national_prefix") { ctx.nationalPrefix = v }
        if let v = m.string("international_prefix") { ctx.internationalPrefix = v }
        if let v = m.string("access_code") { ctx.accessCode = v }
        if let codes = m.strings("short_codes") { ctx.shortCodes = Set(codes.map(\.0)) }
        if let n = m.int("minimum_subscriber_length", range: 1...15) { ctx.minimumSubscriberLength = n }
        if let n = m.int("national_number_length", range: 4...15) { ctx.nationalNumberLength = n }
        for n in m.list("extensions") ?? [] {
            guard var e = YAMLMap(n, file: m.file, what: "extension range", diagnostics: m.diagnostics) else {
                continue
            }
            let range = e.string("range", required: true)
            let did = e.string("did_prefix", required: true)
            e.rejectUnknownKeys()
            guard let range, let did else { continue }
            let ends = range.split(separator: "-").map { String($0).trimmingCharacters(in: .whitespaces) }
            guard ends.count == 2, ends[0].count == ends[1].count,
                ends.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isASCIIDigit) }),
                let lo = Int(ends[0]), let hi = Int(ends[1]), lo <= hi
            else {
                m.diagnostics.error(e.keyPosition("range"), "range '\(range)' must look like 2000-2999 (same length)")
                continue
            }
            guard PhoneNumber(e164: did) != nil else {
                m.diagnostics.error(e.keyPosition("did_prefix"), "did_prefix '\(did)' must be E.164 with a leading +")
                continue
            }
            ctx.extensions.append(ExtensionRange(first: ends[0], last: ends[1], didPrefix: did))
        }
        for (key, value) in [
            ("country_code", ctx.countryCode), ("national_prefix", ctx.nationalPrefix),
            ("international_prefix", ctx.internationalPrefix),
        ]
        where value.isEmpty && key == "country_code" || !value.allSatisfy(isASCIIDigit) {
            m.diagnostics.error(m.keyPosition(key), "'\(key)' must be digits, found '\(value)'")
        }
        m.rejectUnknownKeys()
        return ctx
    }

    package static func isASCIIDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }

    static func optionValue(_ node: Node) -> OptionValue {
        switch node {
        case .scalar(let s):
            if s.style == .plain {
                if let i = Int(s.string) { return .int(i) }
                if let b = Bool.construct(from: s) { return .bool(b) }
            }
            return .string(s.string)
        case .sequence(let seq): return .list(seq.map(optionValue))
        case .mapping(let map):
            var d: [String: OptionValue] = [:]
            for (k, v) in map { d[k.text] = optionValue(v) }
            return .map(d)
        case .alias: return .string("")
        }
    }
}
