import NIOCore
import Testing

@testable import Engine
@testable import SIPCore

struct SourceLimiterTests {
    let second: UInt64 = 1_000_000_000
    let peer = IPKey(try! SocketAddress(ipAddress: "192.0.2.10", port: 5060))!
    let scanner = IPKey(try! SocketAddress(ipAddress: "203.0.113.7", port: 5060))!

    func limiter() -> SourceLimiter {
        SourceLimiter(
            peer: .init(rate: 100, burst: 200), unknown: .init(rate: 5, burst: 10),
            unknownTotal: .init(rate: 50, burst: 100))
    }

    @Test func bucketAllowsTheBurstThenTheRate() {
        var b = TokenBucket(burst: 10, now: 0)
        let burst = (0..<20).filter { _ in b.take(now: 0, rate: 5, burst: 10) }.count
        #expect(burst == 10)
        // One second later five more tokens, not ten: the rate, not the burst, refills.
        let next = (0..<20).filter { _ in b.take(now: second, rate: 5, burst: 10) }.count
        #expect(next == 5)
    }

    @Test func anUnknownSourceGetsATinyBudgetWhileAPeerKeepsItsOwn() {
        var l = limiter()
        let scannerPassed = (0..<1000).filter { _ in l.admit(scanner, known: false, now: 0) }.count
        let peerPassed = (0..<150).filter { _ in l.admit(peer, known: true, now: 0) }.count
        #expect(scannerPassed == 10)
        #expect(peerPassed == 150, "the flood did not eat the peer's budget")
        #expect(l.droppedFromUnknown == 990)
        #expect(l.droppedFromPeers == 0)
    }

    @Test func manyUnknownAddressesShareOneTotal() {
        var l = limiter()
        var passed = 0
        for i in 0..<1000 {
            let spoofed = IPKey(try! SocketAddress(ipAddress: "198.51.\(i / 250).\(i % 250)", port: 5060))!
            if l.admit(spoofed, known: false, now: 0) { passed += 1 }
        }
        #expect(passed == 100, "each address has budget left, but all of them together are held to the total")
    }

    @Test func theTableStaysBoundedUnderASpoofedFlood() {
        var l = limiter()
        l.capacity = 100
        var peerRefused = 0
        for i in 0..<5000 {
            let spoofed = IPKey(
                try! SocketAddress(ipAddress: "10.\(i / 65536).\((i / 256) % 256).\(i % 256)", port: 5060))!
            _ = l.admit(spoofed, known: false, now: UInt64(i) * 1_000_000)
            if i % 50 == 0, !l.admit(peer, known: true, now: UInt64(i) * 1_000_000) { peerRefused += 1 }
        }
        #expect(peerRefused == 0, "a configured peer is always remembered")
    }

    @Test func ipv4AndIPv6KeysDiffer() throws {
        let v4 = IPKey(try SocketAddress(ipAddress: "127.0.0.1", port: 1))
        let v6 = IPKey(try SocketAddress(ipAddress: "::1", port: 1))
        let mapped = IPKey(try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 1))
        #expect(v4 != v6)
        #expect(v4 == mapped, "IPv4 is kept as its IPv4-mapped IPv6 form")
    }
}
