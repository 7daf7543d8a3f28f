import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import SIPCore

/// c-ares against a real DNS server (dnsmasq on loopback): each record type Patchbay asks, with its TTL, and the
/// answers for a name that does not exist and for a server that is not there.
@Suite(.serialized, .enabled(if: DNSServerUnderTest.isInstalled, "dnsmasq is needed"))
struct CAresResolverTests {
    static func ask(_ server: String, _ name: String, _ type: DNSQuery.RecordType, timeout: Int32 = 1000) -> DNSAnswer {
        CAresResolver.run(DNSQuery(name, type), servers: server, timeout: timeout, tries: 1)
    }

    @Test func eachRecordTypeWithItsTTL() throws {
        var records = DNSServerUnderTest.Records()
        records.ttl = 42
        records.naptr(
            "trunk.patchbay.test", order: 10, preference: 20, service: "SIP+D2U",
            replacement: "_sip._udp.trunk.patchbay.test")
        records.srv("_sip._udp.trunk.patchbay.test", target: "sbc1.patchbay.test", port: 5071, priority: 10, weight: 3)
        records.srv("_sip._udp.trunk.patchbay.test", target: "sbc2.patchbay.test", port: 5072, priority: 20, weight: 1)
        records.host("sbc1.patchbay.test", "127.0.0.1", "::1")
        records.host("sbc2.patchbay.test", "127.0.0.2")
        let dns = try DNSServerUnderTest(records)
        defer { dns.stop() }

        let naptr = Self.ask(dns.server, "trunk.patchbay.test", .naptr).records
        #expect(naptr.count == 1, "\(dns.output)")
        #expect(naptr.first?.order == 10 && naptr.first?.preference == 20)
        #expect(naptr.first?.service == "SIP+D2U" && naptr.first?.flags == "S")
        #expect(naptr.first?.target == "_sip._udp.trunk.patchbay.test")
        #expect(naptr.first?.ttl == 42)

        let srv = Self.ask(dns.server, "_sip._udp.trunk.patchbay.test", .srv).records
        #expect(
            srv.sorted { $0.port < $1.port } == [
                DNSRecord(ttl: 42, priority: 10, weight: 3, port: 5071, target: "sbc1.patchbay.test"),
                DNSRecord(ttl: 42, priority: 20, weight: 1, port: 5072, target: "sbc2.patchbay.test"),
            ], "\(dns.output)")

        #expect(Self.ask(dns.server, "sbc1.patchbay.test", .a).records == [DNSRecord(ttl: 42, address: "127.0.0.1")])
        #expect(Self.ask(dns.server, "sbc1.patchbay.test", .aaaa).records == [DNSRecord(ttl: 42, address: "::1")])
    }

    @Test func aMissingNameAndAMissingServer() throws {
        var records = DNSServerUnderTest.Records()
        records.host("sbc1.patchbay.test", "127.0.0.1")
        let dns = try DNSServerUnderTest(records)
        defer { dns.stop() }
        #expect(Self.ask(dns.server, "nowhere.patchbay.test", .a) == .notFound)
        #expect(Self.ask(dns.server, "sbc1.patchbay.test", .srv) == .noData, "the name exists, its SRV does not")
        dns.stop()
        let silent = Self.ask(dns.server, "sbc1.patchbay.test", .a, timeout: 200)
        guard case .failed(let why) = silent else {
            Issue.record("a stopped server gave \(silent)")
            return
        }
        #expect(!why.isEmpty)
    }

    /// The query runs on a pool thread: the loop that asked only completes a future.
    @Test func aQueryOnTheThreadPool() async throws {
        var records = DNSServerUnderTest.Records()
        records.host("sbc1.patchbay.test", "127.0.0.2")
        let dns = try DNSServerUnderTest(records)
        defer { dns.stop() }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let resolver = CAresResolver(pool: pool, servers: [dns.server], timeoutMilliseconds: 1000, tries: 1)
        let answer = try await resolver.query(DNSQuery("sbc1.patchbay.test", .a), on: group.next()).get()
        #expect(answer.records.map(\.address) == ["127.0.0.2"])
        try await pool.shutdownGracefully()
        try await group.shutdownGracefully()
    }
}
