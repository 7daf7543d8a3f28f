import Testing

@testable import SIPCore

/// RFC 3263 section 4 step by step, DNS answered from a table: which query follows which answer, and the servers
/// and TTL the lookup ends with.
struct SIPLocatorTests {
    /// Runs the locator against `table` (a query with no entry: NXDOMAIN); returns the outcome and the queries asked.
    static func locate(_ target: SIPLocator.Target, _ table: [DNSQuery: DNSAnswer]) -> (SIPLocator.Step, [String]) {
        var locator = SIPLocator(target)
        var step = locator.start()
        var asked: [String] = []
        while case .query(let q) = step {
            asked.append(q.description)
            step = locator.answer(table[q] ?? .notFound)
            if asked.count > 20 { break }
        }
        return (step, asked)
    }

    static func srv(_ target: String, _ port: Int, priority: Int = 10, weight: Int = 1, ttl: UInt32 = 300) -> DNSRecord
    {
        DNSRecord(ttl: ttl, priority: priority, weight: weight, port: port, target: target)
    }

    @Test func naptrThenSRVThenAddressesTheLowestTTLWins() {
        let table: [DNSQuery: DNSAnswer] = [
            DNSQuery("carrier.test", .naptr): .records([
                DNSRecord(
                    ttl: 600, order: 20, preference: 10, flags: "S", service: "SIP+D2U",
                    target: "_sip._udp.carrier.test"
                ),
                DNSRecord(
                    ttl: 600, order: 10, preference: 10, flags: "S", service: "SIP+D2T",
                    target: "_sip._tcp.carrier.test"
                ),
                DNSRecord(ttl: 600, order: 5, preference: 10, flags: "S", service: "SIPS+D2T", target: "_sips._tcp.x"),
            ]),
            DNSQuery("_sip._tcp.carrier.test", .srv): .records([Self.srv("sbc1.carrier.test", 5070, ttl: 120)]),
            DNSQuery("sbc1.carrier.test", .a): .records([DNSRecord(ttl: 30, address: "192.0.2.10")]),
            DNSQuery("sbc1.carrier.test", .aaaa): .noData,
        ]
        // No TLS listener: the SIPS record, first in order, is not usable; TCP's (order 10) beats UDP's (20).
        let (step, asked) = Self.locate(.init(host: "carrier.test", supported: [.udp, .tcp]), table)
        #expect(
            asked == [
                "NAPTR carrier.test", "SRV _sip._tcp.carrier.test", "A sbc1.carrier.test", "AAAA sbc1.carrier.test",
            ])
        guard case .located(let location) = step else {
            Issue.record("\(step)")
            return
        }
        #expect(
            location.servers == [
                .init(
                    host: "sbc1.carrier.test", port: 5070, transport: .tcp, priority: 10, weight: 1,
                    addresses: ["192.0.2.10"])
            ])
        #expect(location.ttl == 30)
    }

    @Test func withoutNAPTRAnSRVPerTransportThenTheNameItself() {
        let (step, asked) = Self.locate(
            .init(host: "pbx.test", supported: [.udp, .tcp], ipv6: false),
            [DNSQuery("pbx.test", .a): .records([DNSRecord(ttl: 60, address: "192.0.2.5")])])
        #expect(asked == ["NAPTR pbx.test", "SRV _sip._udp.pbx.test", "SRV _sip._tcp.pbx.test", "A pbx.test"])
        guard case .located(let location) = step else {
            Issue.record("\(step)")
            return
        }
        #expect(
            location.servers == [.init(host: "pbx.test", port: 5060, transport: .udp, addresses: ["192.0.2.5"])])
    }

    @Test func aGivenTransportSkipsNAPTRAndAGivenPortSkipsSRV() {
        let a: [DNSQuery: DNSAnswer] = [
            DNSQuery("gw.test", .a): .records([DNSRecord(ttl: 60, address: "192.0.2.7")]),
            DNSQuery("_sips._tcp.gw.test", .srv): .records([Self.srv("gw.test", 5063)]),
        ]
        let (_, tls) = Self.locate(.init(host: "gw.test", transport: .tls, supported: [.tls], ipv6: false), a)
        #expect(tls == ["SRV _sips._tcp.gw.test", "A gw.test"])
        let (step, port) = Self.locate(.init(host: "gw.test", port: 5080, supported: [.udp], ipv6: false), a)
        #expect(port == ["A gw.test"])
        if case .located(let l) = step {
            #expect(l.servers.map(\.port) == [5080] && l.servers.map(\.transport) == [.udp])
        } else {
            Issue.record("\(step)")
        }
    }

    @Test func aServiceDecidedlyNotThereAndANameThatDoesNotExist() {
        let dot: [DNSQuery: DNSAnswer] = [
            DNSQuery("_sip._udp.none.test", .srv): .records([Self.srv(".", 0)])
        ]
        let (step, _) = Self.locate(.init(host: "none.test", transport: .udp, supported: [.udp], ipv6: false), dot)
        guard case .failed(let why, let serverFailed) = step else {
            Issue.record("\(step)")
            return
        }
        #expect(!serverFailed, "DNS answered: the name has no server, which is no server failure")
        #expect(why.contains("none.test"))

        let (timedOut, _) = Self.locate(
            .init(host: "slow.test", supported: [.udp]), [DNSQuery("slow.test", .naptr): .failed("timeout")])
        #expect(timedOut == .failed("NAPTR slow.test: timeout", serverFailed: true))
    }

    /// One SRV target without an address is left out; the others are the answer.
    @Test func aTargetWithoutAddressIsLeftOut() {
        let table: [DNSQuery: DNSAnswer] = [
            DNSQuery("_sip._udp.t.test", .srv): .records([
                Self.srv("gone.t.test", 5060, priority: 10), Self.srv("sbc2.t.test", 5062, priority: 20),
            ]),
            DNSQuery("sbc2.t.test", .aaaa): .records([DNSRecord(ttl: 60, address: "2001:db8::2")]),
        ]
        let (step, _) = Self.locate(.init(host: "t.test", transport: .udp, supported: [.udp]), table)
        guard case .located(let l) = step else {
            Issue.record("\(step)")
            return
        }
        #expect(l.servers.map(\.host) == ["sbc2.t.test"])
        #expect(l.servers.first?.addresses == ["2001:db8::2"])
    }
}

/// RFC 2782's order: priority first, weight within a priority.
struct SIPLocationOrderTests {
    struct Fixed: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    @Test func priorityThenWeight() {
        let location = SIPLocation(
            servers: [
                .init(host: "backup", port: 5060, transport: .udp, priority: 20, weight: 100),
                .init(host: "a", port: 5060, transport: .udp, priority: 10, weight: 3),
                .init(host: "b", port: 5060, transport: .udp, priority: 10, weight: 1),
                .init(host: "zero", port: 5060, transport: .udp, priority: 10, weight: 0),
            ], ttl: 60)
        var random = Fixed(state: 7)
        var firsts: [String: Int] = [:]
        for _ in 0..<4000 {
            let order = location.ordered(using: &random).map(\.host)
            #expect(order.last == "backup" && order[2] == "zero", "\(order)")
            firsts[order[0], default: 0] += 1
        }
        // 3:1 gives a 3000 and b 1000; a binomial's standard deviation here is 27.
        #expect((2850...3150).contains(firsts["a"] ?? 0), "\(firsts)")
        #expect(firsts["zero"] == nil && firsts["backup"] == nil)
    }
}
