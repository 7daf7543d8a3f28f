import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Engine
@testable import Routing
@testable import SIPCore

/// `UDPTransport` with real sockets on 127.0.0.1 and an ephemeral port; the far side is a plain UDP socket
/// (`LoopbackUDP`), so what arrives is observed without our own code in the way. Every wait is bounded: reads time out
/// after 5 s.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct UDPTransportTests {
    /// Answers made while a burst of datagrams is being read leave at once, none held back or lost whatever the size
    /// of the burst, in the order they were made.
    @Test func repliesMadeWhileReadingAllLeaveInOrder() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = TransportBox()
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, loops: [group.next()]) {
            bytes, source, loopIndex in
            // On the loop that read the datagram, inside its read burst: three answers each.
            let text = String(decoding: bytes, as: UTF8.self)
            for n in 1...3 { box.transport?.send(Array("\(text)/\(n)".utf8), to: source, from: loopIndex) }
        }
        box.transport = transport
        let client = try LoopbackUDP()
        // Sent back to back, so several wait in the socket together and arrive in one read burst.
        for i in 0..<40 { client.send(Array("m\(i)".utf8), to: UInt16(transport.port)) }
        var received: [String] = []
        for _ in 0..<120 { received.append(try Self.text(client.receive(timeout: .seconds(5)))) }
        #expect(received == (0..<40).flatMap { i in (1...3).map { "m\(i)/\($0)" } })
        await transport.close()
        try await group.shutdownGracefully()
    }

    /// A send made on the loop outside a read burst (a timer's retransmission) leaves at once, and so does one from
    /// another thread, which goes through NIO's channel.
    @Test func aSendOutsideAReadLeavesAtOnce() async throws {
        let greeted = try await Greeted.make()
        let (loop, transport, client, source) = (greeted.loop, greeted.transport, greeted.client, greeted.source)
        try await loop.submit { transport.send(Array("from a task".utf8), to: source, from: 0) }.get()
        transport.send(Array("from another thread".utf8), to: source, from: 0)
        #expect(try Self.text(client.receive(timeout: .seconds(5))) == "from a task")
        #expect(try Self.text(client.receive(timeout: .seconds(5))) == "from another thread")
        try await greeted.close()
    }

    /// A datagram the kernel refuses (here: an IPv6 destination for an IPv4 socket) is dropped, as NIO would drop it,
    /// and the socket goes on sending; a datagram of 60,000 bytes leaves whole from the loop's reused buffer, and a
    /// short one after it is not padded with the long one's bytes.
    @Test func aRefusedSendIsDroppedAndTheNextOnesLeaveWhole() async throws {
        let greeted = try await Greeted.make()
        let (loop, transport, client, source) = (greeted.loop, greeted.transport, greeted.client, greeted.source)
        let elsewhere = try SocketAddress(ipAddress: "::1", port: 9)
        let long = (0..<60_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try await loop.submit {
            transport.send(Array("lost".utf8), to: elsewhere, from: 0)
            transport.send(long, to: source, from: 0)
            transport.send(Array("short".utf8), to: source, from: 0)
        }.get()
        #expect(try client.receive(timeout: .seconds(5)) == long)
        #expect(try Self.text(client.receive(timeout: .seconds(5))) == "short")
        try await greeted.close()
    }

    /// After the socket is closed, a send on its loop does not write to the descriptor but leaves it to the closed
    /// channel, which fails it. The client socket made after the close gets the freed descriptor number, so a send on
    /// the stale descriptor would go out from the client to itself and arrive.
    @Test func aSendAfterCloseDoesNotTouchTheDescriptor() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, loops: [loop]) { _, _, _ in }
        await transport.close()
        let client = try LoopbackUDP()
        let destination = try SocketAddress(ipAddress: "127.0.0.1", port: Int(client.port))
        try await loop.submit { transport.send(Array("after close".utf8), to: destination, from: 0) }.get()
        #expect(client.receive(timeout: .milliseconds(300)) == nil)
        try await group.shutdownGracefully()
    }

    /// The sockets Patchbay makes itself follow the listener's address family: on ::1, with two loops sharing the port,
    /// a datagram sent from one transport's loop reaches the other, whose loop answers it straight from its socket.
    @Test(.enabled(if: ipv6LoopbackWorks)) func anIPv6ListenerSendsAndAnswersOnItsLoops() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let box = TransportBox()
        let server = try await UDPTransport.bind(host: "::1", port: 0, loops: loops) { bytes, source, loopIndex in
            box.transport?.send(Array("re: ".utf8) + bytes, to: source, from: loopIndex)
        }
        box.transport = server
        #expect(server.channels.map { $0.localAddress?.port } == [server.port, server.port])
        let answers = SourceBox()
        let texts = TextBox()
        let client = try await UDPTransport.bind(host: "::1", port: 0, loops: [loops[0]]) { bytes, source, _ in
            answers.append(source)
            texts.append(String(decoding: bytes, as: UTF8.self))
        }
        let destination = try SocketAddress(ipAddress: "::1", port: server.port)
        try await loops[0].submit { client.send(Array("hello".utf8), to: destination, from: 0) }.get()
        let deadline = ContinuousClock.now + .seconds(5)
        while texts.all.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(texts.all == ["re: hello"])
        #expect(answers.first?.port == server.port)
        await client.close()
        await server.close()
        try await group.shutdownGracefully()
    }

    /// Whether this machine's loopback has IPv6 (a CI machine may not).
    static let ipv6LoopbackWorks: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }()

    final class TextBox: Sendable {
        private let texts = Mutex<[String]>([])
        func append(_ s: String) { texts.withLock { $0.append(s) } }
        var all: [String] { texts.withLock { $0 } }
    }

    /// A port another process holds (without SO_REUSEPORT) is refused with an error naming the address and the
    /// reason, and the port can be bound once it is free: the failed start left no socket of its own on it.
    @Test func aPortInUseIsRefusedWithTheAddressAndLeavesNothingBound() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let port: Int
        do {
            // Closed once, when it goes out of scope (closing it by hand would close its number again at deinit).
            let holder = try LoopbackUDP()
            port = Int(holder.port)
            do {
                _ = try await UDPTransport.bind(host: "127.0.0.1", port: port, loops: loops) { _, _, _ in }
                Issue.record("bound a port another socket holds")
            } catch {
                let text = "\(error)"
                #expect(text.contains("bind to") && text.contains("127.0.0.1") && text.contains("\(port)"), "\(text)")
                #expect(text.contains("in use"), "\(text)")
            }
            withExtendedLifetime(holder) {}
        }
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: port, loops: loops) { _, _, _ in }
        #expect(transport.port == port)
        await transport.close()
        try await group.shutdownGracefully()
    }

    /// What a failed `sendto` leads to: only a full send buffer is worth NIO's queue; what can never go is dropped.
    @Test func failedDirectSendsAreRetriedQueuedOrDropped() {
        #expect(DirectSendFailure(errno: EINTR) == .retry)
        for code in [EAGAIN, EWOULDBLOCK, ENOBUFS] { #expect(DirectSendFailure(errno: code) == .queue) }
        for code in [EMSGSIZE, EAFNOSUPPORT, ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, EACCES, EPERM, EINVAL] {
            #expect(DirectSendFailure(errno: code) == .drop)
        }
    }

    /// A transport on one loop that has heard from `client`: `source` is the client's address as the transport saw it.
    struct Greeted {
        let group: MultiThreadedEventLoopGroup
        let loop: any EventLoop
        let transport: UDPTransport
        let client: LoopbackUDP
        let source: SocketAddress

        static func make() async throws -> Greeted {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let loop = group.next()
            let sources = SourceBox()
            let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, loops: [loop]) { _, source, _ in
                sources.append(source)
            }
            let client = try LoopbackUDP()
            client.send(Array("hello".utf8), to: UInt16(transport.port))
            let deadline = ContinuousClock.now + .seconds(5)
            while sources.first == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            let source = try #require(sources.first)
            return Greeted(group: group, loop: loop, transport: transport, client: client, source: source)
        }

        func close() async throws {
            await transport.close()
            try await group.shutdownGracefully()
        }
    }

    final class TransportBox: @unchecked Sendable {
        // Set once before the first datagram is sent.
        var transport: UDPTransport?
    }

    final class SourceBox: Sendable {
        private let sources = Mutex<[SocketAddress]>([])
        func append(_ s: SocketAddress) { sources.withLock { $0.append(s) } }
        var first: SocketAddress? { sources.withLock { $0.first } }
    }

    struct NothingArrived: Error {}

    /// A datagram's text; throws when the read timed out, so a held-back answer fails the test at once.
    static func text(_ datagram: [UInt8]?) throws -> String {
        guard let datagram else { throw NothingArrived() }
        return String(decoding: datagram, as: UTF8.self)
    }
}
