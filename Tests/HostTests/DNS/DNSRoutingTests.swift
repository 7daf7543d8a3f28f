import Foundation
import Testing

/// A trunk given by host name, through a real `patchbay run`, a real DNS server (dnsmasq on loopback) and sipp
/// servers: RFC 3263's NAPTR -> SRV -> A, SRV priority and weight, failover to the next SRV target on 503,
/// re-resolution when the TTL runs out, and a name that does not resolve.
@Suite(
    .serialized, .enabled(if: SippHarness.sippIsInstalled, "sipp (Debian sip-tester) is needed"),
    .enabled(if: DNSServerUnderTest.isInstalled, "dnsmasq is needed"))
struct DNSRoutingTests {
    static let trunk = "trunk.patchbay.test"
    static let srvName = "_sip._udp.trunk.patchbay.test"

    /// NAPTR for the trunk pointing at its UDP SRV, and each `sbc` name at 127.0.0.1.
    static func records(ttl: Int = 60, _ servers: [(name: String, port: UInt16, priority: Int, weight: Int)])
        -> DNSServerUnderTest.Records
    {
        var r = DNSServerUnderTest.Records()
        r.ttl = ttl
        r.naptr(trunk, order: 10, preference: 10, service: "SIP+D2U", replacement: srvName)
        for s in servers {
            r.srv(srvName, target: "\(s.name).patchbay.test", port: Int(s.port), priority: s.priority, weight: s.weight)
            r.host("\(s.name).patchbay.test", "127.0.0.1")
        }
        return r
    }

    /// Patchbay with the ITSP trunk at `name` (no port, no transport: NAPTR decides), asking `dns`.
    static func patchbay(
        _ test: String = #function, dns: DNSServerUnderTest, name: String = trunk, minTTL: String = "1",
        trunkExtra: String = "", httpPort: Int? = nil
    ) async throws -> PatchbayUnderTest {
        try await PatchbayUnderTest.start(
            test,
            top: "dns: {servers: [\"\(dns.server)\"], min_ttl: \(minTTL), retry: 1}"
                + (httpPort.map { "\nhttp: {address: 127.0.0.1, port: \($0)}" } ?? ""),
            editConfig: { config in
                config.replacingOccurrences(
                    of: #"address: 127\.0\.0\.1:\d+\n(\s+numbering: \{country_code: "49"\}\n)$"#,
                    with: "address: \(name)\n$1\(trunkExtra)", options: .regularExpression)
            })
    }

    @Test func theSecondSRVTargetTakesTheCallWhenTheFirstAnswers503() async throws {
        let sbc1 = try SippPorts.freeUDPPort()
        let sbc2 = try SippPorts.freeUDPPort()
        let dns = try DNSServerUnderTest(Self.records([("sbc1", sbc1, 10, 1), ("sbc2", sbc2, 20, 1)]))
        defer { dns.stop() }
        let http = Int(try SippPorts.freeUDPPort())
        let pb = try await Self.patchbay(dns: dns, httpPort: http)
        defer { pb.stop() }
        #expect(pb.log.contains("peer located"), "\(pb.log)")
        #expect(await pb.waitForLog("operations listening"))
        let (_, body) = try await OperationsTests.get(http, "/api/status")
        let servers = ((OperationsTests.json(body) as? [String: Any])?["dns"] as? [[String: Any]])?.first?["servers"]
        #expect(
            (servers as? [String])?.map { $0.components(separatedBy: " ").first ?? "" } == [
                "sbc1.patchbay.test", "sbc2.patchbay.test",
            ], "in priority order: \(body)")
        let first = try await pb.sipp(
            "uas-reject", label: "sbc1", port: sbc1, toPatchbay: false,
            keys: ["status": "503", "reason": "Service Unavailable"])
        defer { _ = first.stop() }
        let second = try await pb.sipp("uas-answer", label: "sbc2", port: sbc2, toPatchbay: false)
        defer { _ = second.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0015112345678")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await first.wait(timeout: .seconds(5)) == .exited(0), "priority 10 first: \(first.diagnostics)")
        #expect(await second.wait(timeout: .seconds(5)) == .exited(0), "then priority 20: \(second.diagnostics)")
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["itsp:503,itsp:200"], "the gateway (the route's next target) was not tried")
        // The Request-URI names the trunk as configured, without a port (RFC 3263: the name, not an address).
        let invite = try second.messages().received("INVITE").first
        #expect(
            invite?.text.hasPrefix("INVITE sip:+4915112345678@\(Self.trunk) SIP/2.0") == true, "\(invite?.text ?? "")")
        #expect(dns.output.contains("query[NAPTR] \(Self.trunk)"), "located through NAPTR: \(dns.output)")
    }

    @Test func callsAreSpreadByWeightWithinAPriority() async throws {
        let heavy = try SippPorts.freeUDPPort()
        let light = try SippPorts.freeUDPPort()
        let dns = try DNSServerUnderTest(Self.records([("heavy", heavy, 10, 4), ("light", light, 10, 1)]))
        defer { dns.stop() }
        let pb = try await Self.patchbay(dns: dns, minTTL: "60")
        defer { pb.stop() }
        let a = try await pb.sipp("uas-answer", label: "heavy", port: heavy, toPatchbay: false, calls: nil)
        defer { _ = a.stop() }
        let b = try await pb.sipp("uas-answer", label: "light", port: light, toPatchbay: false, calls: nil)
        defer { _ = b.stop() }
        let pbx = try await pb.sipp(
            "uac-call", label: "pbx", port: pb.ports.pbx, service: "0015112345678", calls: 60
        ) { $0.rate = 30 }
        _ = await pbx.wait(timeout: .seconds(30))
        #expect(try pbx.statistics().successfulCalls == 60, "\(pbx.diagnostics)")
        _ = a.stop()
        _ = b.stop()
        let toHeavy = try a.messages().received("INVITE").count
        let toLight = try b.messages().received("INVITE").count
        #expect(toHeavy + toLight == 60)
        // Weights 4:1 over 60 calls: 48 expected, a standard deviation of 3.1 (the exact proportion is
        // SIPLocationOrderTests'). Equal weights would give 30; more than 3.5 deviations either way fails.
        #expect((37...57).contains(toHeavy), "heavy \(toHeavy), light \(toLight)")
    }

    @Test func aChangedRecordIsUsedOnceItsTTLHasRunOut() async throws {
        let old = try SippPorts.freeUDPPort()
        let new = try SippPorts.freeUDPPort()
        let dns = try DNSServerUnderTest(Self.records(ttl: 1, [("old", old, 10, 1)]))
        defer { dns.stop() }
        let pb = try await Self.patchbay(dns: dns)
        defer { pb.stop() }
        let before = try await pb.sipp("uas-answer", label: "old", port: old, toPatchbay: false)
        defer { _ = before.stop() }
        let call1 = try await pb.sipp("uac-call", label: "pbx1", port: pb.ports.pbx, service: "0015112345678")
        #expect(await call1.wait(timeout: .seconds(15)) == .exited(0), "\(call1.diagnostics)")
        #expect(await before.wait(timeout: .seconds(5)) == .exited(0), "\(before.diagnostics)")

        try dns.restart(Self.records(ttl: 1, [("new", new, 10, 1)]))
        #expect(
            await pb.waitForLog("new.patchbay.test", timeout: .seconds(10)), "looked up again after 1 s: \(pb.log)")
        let after = try await pb.sipp("uas-answer", label: "new", port: new, toPatchbay: false)
        defer { _ = after.stop() }
        let call2 = try await pb.sipp("uac-call", label: "pbx2", port: pb.ports.pbx, service: "0015112345678")
        #expect(await call2.wait(timeout: .seconds(15)) == .exited(0), "\(call2.diagnostics)")
        #expect(await after.wait(timeout: .seconds(5)) == .exited(0), "the new record's server: \(after.diagnostics)")
    }

    @Test func aNameThatDoesNotResolveSendsTheCallToTheNextTarget() async throws {
        let dns = try DNSServerUnderTest(Self.records([]))
        defer { dns.stop() }
        let http = Int(try SippPorts.freeUDPPort())
        let pb = try await Self.patchbay(dns: dns, name: "nowhere.patchbay.test", httpPort: http)
        defer { pb.stop() }
        #expect(pb.log.contains("peer name does not resolve"), "\(pb.log)")
        #expect(pb.log.contains("nowhere.patchbay.test"))
        // The API and the status page say why the trunk has no server.
        #expect(await pb.waitForLog("operations listening"))
        let (code, body) = try await OperationsTests.get(http, "/api/status")
        #expect(code == 200)
        let located = (OperationsTests.json(body) as? [String: Any])?["dns"] as? [[String: Any]]
        #expect(located?.first?["name"] as? String == "nowhere.patchbay.test", "\(body)")
        #expect((located?.first?["failing"] as? String)?.contains("NXDOMAIN") == true, "\(body)")
        #expect((located?.first?["servers"] as? [String])?.isEmpty == true)
        let (_, page) = try await OperationsTests.get(http, "/")
        #expect(page.contains("<table id=\"dns\">") && page.contains("nowhere.patchbay.test"))
        let gw = try await pb.sipp("uas-answer", label: "gw", port: pb.ports.gateway, toPatchbay: false)
        defer { _ = gw.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0015112345678")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await gw.wait(timeout: .seconds(5)) == .exited(0), "\(gw.diagnostics)")
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["itsp:503,gw:200"])
    }

    /// Each server DNS gives is probed on its own: a silent one is taken out of the trunk's rotation, the trunk
    /// stays up through the other, and a call goes straight to that one.
    @Test func aServerThatFailsItsHealthCheckIsSkippedWhileTheOtherCarriesTheTrunk() async throws {
        let silent = try SippPorts.freeUDPPort()
        let alive = try SippPorts.freeUDPPort()
        let dns = try DNSServerUnderTest(Self.records([("silent", silent, 10, 1), ("alive", alive, 20, 1)]))
        defer { dns.stop() }
        let pb = try await Self.patchbay(
            dns: dns, minTTL: "60",
            trunkExtra: "    health_check: {interval: 3, timeout: 0.3, down_after: 1, up_after: 1}\n")
        defer { pb.stop() }
        let options = try await pb.sipp(
            "uas-options", label: "alive-options", port: alive, toPatchbay: false, calls: nil)
        #expect(
            await pb.waitForLog("peer address down", timeout: .seconds(10)), "the silent server is down: \(pb.log)")
        _ = options.stop()
        #expect(pb.log.contains("127.0.0.1:\(silent)"))
        #expect(!pb.log.contains("peer down"), "the trunk itself stays up")
        let probe = try #require(try options.messages().received("OPTIONS").first)
        #expect(probe.startLine.hasPrefix("OPTIONS sip:\(Self.trunk) "), "named as configured: \(probe.startLine)")

        let answer = try await pb.sipp("uas-answer", label: "alive", port: alive, toPatchbay: false)
        defer { _ = answer.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0015112345678")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await pb.waitForLog("call ended"))
        #expect(pb.attempts == ["itsp:200"], "the priority-10 server, down, was not tried")
    }

    /// A trunk given by name registers at the server DNS gives, with the name as its address-of-record's domain.
    @Test func aTrunkGivenByNameRegistersAtItsSRVServerUnderItsName() async throws {
        let server = try SippPorts.freeUDPPort()
        let dns = try DNSServerUnderTest(Self.records([("sbc1", server, 10, 1)]))
        defer { dns.stop() }
        let pb = try await Self.patchbay(
            dns: dns, minTTL: "60",
            trunkExtra: "    auth: {username: \"4930123000\", password: \"s3cret\"}\n    registration: {expires: 300}\n"
        )
        defer { pb.stop() }
        let registrar = try await pb.sipp(
            "uas-registrar", label: "registrar", port: server, toPatchbay: false,
            keys: ["user": "4930123000", "password": "s3cret", "expires": "60"])
        defer { _ = registrar.stop() }
        #expect(await pb.waitForLog("registered", timeout: .seconds(15)), "\(pb.log)")
        _ = registrar.stop()
        let register = try #require(try registrar.messages().received("REGISTER").first)
        #expect(register.startLine.hasPrefix("REGISTER sip:\(Self.trunk) "), "\(register.startLine)")
        #expect(register.header("To")?.contains("sip:4930123000@\(Self.trunk)") == true, "\(register.text)")
    }

    /// A reload that moves the trunk from an address to a host name: the name is looked up at once and the next
    /// call goes to its server.
    @Test func aReloadThatGivesTheTrunkByNameLooksItUp() async throws {
        let server = try SippPorts.freeUDPPort()
        let dns = try DNSServerUnderTest(Self.records([("sbc1", server, 10, 1)]))
        defer { dns.stop() }
        let pb = try await PatchbayUnderTest.start()
        defer { pb.stop() }
        let config = try String(contentsOf: pb.configFile, encoding: .utf8)
        let byName =
            config.replacingOccurrences(
                of: #"address: 127\.0\.0\.1:\d+\n(\s+numbering: \{country_code: "49"\}\n)$"#,
                with: "address: \(Self.trunk)\n$1", options: .regularExpression)
            + "dns: {servers: [\"\(dns.server)\"]}\n"
        try byName.write(to: pb.configFile, atomically: true, encoding: .utf8)
        kill(pb.pid, SIGHUP)
        #expect(await pb.waitForLog("peer located", timeout: .seconds(10)), "\(pb.log)")
        let sbc = try await pb.sipp("uas-answer", label: "sbc1", port: server, toPatchbay: false)
        defer { _ = sbc.stop() }
        let pbx = try await pb.sipp("uac-call", label: "pbx", port: pb.ports.pbx, service: "0015112345678")
        defer { _ = pbx.stop() }
        #expect(await pbx.wait(timeout: .seconds(15)) == .exited(0), "\(pbx.diagnostics)")
        #expect(await sbc.wait(timeout: .seconds(5)) == .exited(0), "\(sbc.diagnostics)")
    }
}
