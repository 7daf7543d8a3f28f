import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Engine
@testable import Records
@testable import Routing
@testable import SIPCore

// NIOPosix is linked through Host; the test target only needs its event loop group for real sockets.

#if canImport(Glibc)
    import Glibc
#endif

/// `TCPTransport` with real sockets on 127.0.0.1 and ephemeral ports. The far side is either a plain blocking
/// socket (so what arrives on which socket is observed without our own code in the way) or a second transport.
/// Every wait is bounded: socket reads time out after 5 s and the suite after a minute.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TCPTransportTests {
    typealias Fixtures = SIPStreamDecoderTests

    static let request = Fixtures.invite  // its body holds NULs, bare LFs and a fake start line
    static let bye = Fixtures.bye
    static let reply = Fixtures.bytes(
        "SIP/2.0 200 OK\r\nCall-ID: b@10.0.0.1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")

    /// Runs `body` with a two-loop group (the engine's shape: more than one loop, so cross-loop paths are used).
    static func withGroup(_ body: (any EventLoopGroup) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        do {
            try await body(group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    static func listen(
        on group: any EventLoopGroup, _ configuration: TCPTransport.Configuration = .init()
    ) async throws -> (TCPTransport, Inbox) {
        let inbox = Inbox()
        let transport = try await TCPTransport.listen(
            host: "127.0.0.1", port: 0, group: group, configuration: configuration
        ) { bytes, source, connection in
            inbox.append(.init(bytes: bytes, source: source, connection: connection))
        }
        return (transport, inbox)
    }

    @Test func pipelinedMessagesSplitAtOddBoundariesArriveWhole() async throws {
        try await Self.withGroup { group in
            let (transport, inbox) = try await Self.listen(on: group)
            let client = try RawClient(port: transport.port)
            let stream = Self.request + Self.bye
            // Cuts inside the start line, in the headers, one byte before the end of the first body, and inside the
            // second message's header section; paused between, so they arrive as separate reads.
            let cuts = [0, 1, 17, 150, Self.request.count - 1, Self.request.count + 3, stream.count - 1, stream.count]
            for (from, to) in zip(cuts, cuts.dropFirst()) {
                try client.send(Array(stream[from..<to]))
                try await Task.sleep(for: .milliseconds(5))
            }
            let received = try await inbox.wait(for: 2)
            #expect(received.map(\.bytes) == [Self.request, Self.bye])
            #expect(received.allSatisfy { $0.source.port == client.localPort })
            #expect(received.allSatisfy { $0.source == $0.connection.remoteAddress })
            #expect(received[0].connection == received[1].connection)
            #expect(received[0].connection.isInbound)
            try await Task.sleep(for: .milliseconds(50))
            #expect(inbox.count == 2)
            await transport.close()
        }
    }

    /// RFC 3261 section 18.2.2: the reply goes back on the connection the request came on. The client has no
    /// listening socket, so a reply on any other connection could not reach it at all.
    @Test func replySentToTheSourceReusesTheInboundConnection() async throws {
        try await Self.withGroup { group in
            let (transport, inbox) = try await Self.listen(on: group)
            let client = try RawClient(port: transport.port)
            try client.send(Self.bye)
            let request = try #require(try await inbox.wait(for: 1).first)

            try await transport.send(Self.reply, to: request.source).get()
            #expect(try client.receive(Self.reply.count) == Self.reply)
            // The handle does the same without a lookup.
            try await transport.send(Self.reply, on: request.connection).get()
            #expect(try client.receive(Self.reply.count) == Self.reply)

            let stats = transport.statistics
            #expect(stats.accepted == 1)
            #expect(stats.connected == 0)
            #expect(stats.open == 1)
            await transport.close()
        }
    }

    /// The engine's path: the request is read on the connection's loop and handed at once to the loop of the shard
    /// owning the call, which replies with `send(_:to:)` from there. Every loop must already know the connection
    /// (a miss would try to connect to the client's ephemeral port and fail).
    @Test func replyFromEveryLoopStraightAfterTheRequestFindsTheConnection() async throws {
        try await Self.withGroup { group in
            let loops = Array(group.makeIterator())
            let box = TransportBox()
            let failures = Mutex<[String]>([])
            let transport = try await TCPTransport.listen(host: "127.0.0.1", port: 0, group: group) { _, source, _ in
                for loop in loops {
                    loop.execute {
                        box.transport?.send(Self.reply, to: source).whenFailure { error in
                            failures.withLock { $0.append("\(error)") }
                        }
                    }
                }
            }
            box.transport = transport
            let client = try RawClient(port: transport.port)
            try client.send(Self.bye)
            let replies = Array(repeating: Self.reply, count: loops.count).joined()
            #expect(try client.receive(replies.count) == Array(replies))
            #expect(failures.withLock { $0 }.isEmpty)
            #expect(transport.statistics.connected == 0)
            await transport.close()
        }
    }

    /// RFC 5626 section 4.4.1 over a real socket: a CRLFCRLF ping gets a CRLF pong.
    @Test func keepAlivePingIsAnswered() async throws {
        try await Self.withGroup { group in
            let (transport, _) = try await Self.listen(on: group)
            let client = try RawClient(port: transport.port)
            try client.send(Fixtures.bytes("\r\n\r\n"))
            #expect(try client.receive(2) == Fixtures.bytes("\r\n"))
            await transport.close()
        }
    }

    @Test func closeEndsConnectionsAndRefusesSends() async throws {
        try await Self.withGroup { group in
            let (transport, inbox) = try await Self.listen(on: group)
            let client = try RawClient(port: transport.port)
            try client.send(Self.bye)
            let request = try #require(try await inbox.wait(for: 1).first)
            await transport.close()
            #expect(try client.waitForClose())
            #expect(!request.connection.isActive)
            await #expect(throws: TCPTransportError.connectionClosed) {
                try await transport.send(Self.reply, on: request.connection).get()
            }
            await #expect(throws: TCPTransportError.transportClosed) {
                try await transport.send(Self.reply, to: request.source).get()
            }
        }
    }

    /// Two sends issued back to back (the second while the first is still connecting) and a third later share one
    /// connection, and the answer on it comes back through the sending transport's `onMessage`.
    @Test func outboundSendConnectsOnceAndReusesTheConnection() async throws {
        try await Self.withGroup { group in
            let (server, serverInbox) = try await Self.listen(on: group)
            let (client, clientInbox) = try await Self.listen(on: group)
            let target = try SocketAddress(ipAddress: "127.0.0.1", port: server.port)

            let first = client.send(Self.request, to: target)
            let second = client.send(Self.bye, to: target)
            try await first.get()
            try await second.get()
            try await client.send(Self.bye, to: target).get()

            let received = try await serverInbox.wait(for: 3)
            #expect(received.map(\.bytes) == [Self.request, Self.bye, Self.bye])
            #expect(Set(received.map(\.connection)).count == 1)
            #expect(server.statistics.accepted == 1)
            #expect(client.statistics.connected == 1)

            try await server.send(Self.reply, on: received[0].connection).get()
            let answer = try #require(try await clientInbox.wait(for: 1).first)
            #expect(answer.bytes == Self.reply)
            #expect(answer.source == target)
            #expect(!answer.connection.isInbound)
            #expect(client.statistics.accepted == 0)
            await client.close()
            await server.close()
        }
    }

    @Test func oversizeMessageClosesTheConnectionAndTheListenerKeepsServing() async throws {
        try await Self.withGroup { group in
            let (transport, inbox) = try await Self.listen(on: group)
            let greedy = try RawClient(port: transport.port)
            // Refused at the end of its headers: the 70,000 body bytes are never waited for.
            try greedy.send(Fixtures.bytes("INVITE sip:a@gw SIP/2.0\r\nContent-Length: 70000\r\n\r\n"))
            #expect(try greedy.waitForClose())

            let next = try RawClient(port: transport.port)
            try next.send(Self.bye)
            #expect(try await inbox.wait(for: 1).map(\.bytes) == [Self.bye])
            #expect(transport.statistics.accepted == 2)
            #expect(try await Self.eventually { transport.statistics.open == 1 })
            await transport.close()
        }
    }

    @Test func idleConnectionIsClosed() async throws {
        try await Self.withGroup { group in
            let (transport, inbox) = try await Self.listen(on: group, .init(idleTimeout: .milliseconds(200)))
            let client = try RawClient(port: transport.port)
            try client.send(Self.bye)
            _ = try await inbox.wait(for: 1)
            #expect(try client.waitForClose())
            #expect(try await Self.eventually { transport.statistics.open == 0 })
            await transport.close()
        }
    }

    @Test func connectionsBeyondTheLimitAreRefused() async throws {
        try await Self.withGroup { group in
            let (transport, inbox) = try await Self.listen(on: group, .init(maxConnections: 1))
            let first = try RawClient(port: transport.port)
            try first.send(Self.bye)
            _ = try await inbox.wait(for: 1)

            let second = try RawClient(port: transport.port)
            #expect(try second.waitForClose())
            let elsewhere = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
            await #expect(throws: TCPTransportError.tooManyConnections(limit: 1)) {
                try await transport.send(Self.bye, to: elsewhere).get()
            }
            // The connection in service is unaffected.
            try first.send(Self.bye)
            #expect(try await inbox.wait(for: 2).count == 2)
            #expect(transport.statistics.refused == 2)
            await transport.close()
        }
    }
}

// Helpers nested in the suite so their names cannot clash with other files of the test target.
extension TCPTransportTests {
    /// What a transport delivered, in order; filled on the loops, read by the test.
    final class Inbox: Sendable {
        struct Received: Sendable {
            var bytes: [UInt8]
            var source: SocketAddress
            var connection: TCPConnectionHandle
        }

        private let items = Mutex<[Received]>([])

        func append(_ item: Received) { items.withLock { $0.append(item) } }
        var count: Int { items.withLock { $0.count } }

        /// The first `count` messages, or an error if they have not all come within the timeout.
        func wait(for count: Int, timeout: Duration = .seconds(5)) async throws -> [Received] {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let all = items.withLock { $0 }
                if all.count >= count { return Array(all.prefix(count)) }
                try await Task.sleep(for: .milliseconds(5))
            }
            throw TestTimeout(what: "\(count) messages (have \(self.count))")
        }
    }

    /// Lets a transport's own `onMessage` reach the transport, which exists only after `listen` returns.
    final class TransportBox: Sendable {
        private let value = Mutex<TCPTransport?>(nil)
        var transport: TCPTransport? {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }

    struct TestTimeout: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// Polls `condition` until it holds or five seconds pass.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// A blocking IPv4 TCP client with a 5 s receive timeout.
    final class RawClient {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw SocketError(call: "socket") }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            // Without Nagle each send leaves as its own segment, so the cuts the tests make reach the server.
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
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

        var localPort: Int {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        func send(_ bytes: [UInt8]) throws {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                guard n > 0 else { throw SocketError(call: "send") }
                sent += n
            }
        }

        /// Exactly `count` bytes, or an error on timeout or end of stream.
        func receive(_ count: Int) throws -> [UInt8] {
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4_096)
            while out.count < count {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
                guard n > 0 else { throw SocketError(call: n == 0 ? "recv (end of stream)" : "recv") }
                out += chunk[0..<n]
            }
            return out
        }

        /// True when the peer closes (end of stream or reset) within the receive timeout; anything it sends first is
        /// discarded.
        func waitForClose() throws -> Bool {
            var chunk = [UInt8](repeating: 0, count: 4_096)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return true }
                if n < 0 { return errno == ECONNRESET }
            }
        }
    }

    struct SocketError: Error, CustomStringConvertible {
        var call: String
        var code = errno
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }
}
