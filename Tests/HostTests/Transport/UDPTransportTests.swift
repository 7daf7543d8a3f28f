@testable import Host
import NIOCore
import NIOPosix
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `UDPTransport` with real sockets on 127.0.0.1 and an ephemeral port; the far side is a plain connected UDP socket,
/// so what arrives is observed without our own code in the way. Every wait is bounded: reads time out after 5 s.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct UDPTransportTests {
    /// Sends made while a datagram is being handled are flushed when the read burst ends, not one by one: none may
    /// be held back or lost, whatever the size of the burst, and they leave in the order they were made.
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
        let client = try UDPClient(port: transport.port)
        // Sent back to back, so several wait in the socket together and arrive in one read burst.
        for i in 0..<40 { try client.send(Array("m\(i)".utf8)) }
        var received: [String] = []
        for _ in 0..<120 { received.append(try client.receive()) }
        #expect(received == (0..<40).flatMap { i in (1...3).map { "m\(i)/\($0)" } })
        await transport.close()
        try await group.shutdownGracefully()
    }

    /// A send made on the loop outside a read burst (a timer's retransmission) is flushed at once.
    @Test func aSendOutsideAReadLeavesAtOnce() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let sources = SourceBox()
        let transport = try await UDPTransport.bind(host: "127.0.0.1", port: 0, loops: [loop]) { _, source, _ in
            sources.append(source)
        }
        let client = try UDPClient(port: transport.port)
        try client.send(Array("hello".utf8))
        let deadline = ContinuousClock.now + .seconds(5)
        while sources.first == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let source = try #require(sources.first)
        try await loop.submit { transport.send(Array("from a task".utf8), to: source, from: 0) }.get()
        transport.send(Array("from another thread".utf8), to: source, from: 0)
        #expect(try client.receive() == "from a task")
        #expect(try client.receive() == "from another thread")
        await transport.close()
        try await group.shutdownGracefully()
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

    struct SocketError: Error { let call: String }

    /// A UDP socket connected to 127.0.0.1:port, reads timing out after 5 s.
    final class UDPClient {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw SocketError(call: "socket") }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard rc == 0 else {
                Glibc.close(fd)
                throw SocketError(call: "connect")
            }
        }

        deinit { Glibc.close(fd) }

        func send(_ bytes: [UInt8]) throws {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard n == bytes.count else { throw SocketError(call: "send") }
        }

        func receive() throws -> String {
            var buffer = [UInt8](repeating: 0, count: 2048)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n >= 0 else { throw SocketError(call: "recv (timed out?)") }
            return String(decoding: buffer[..<n], as: UTF8.self)
        }
    }
}
