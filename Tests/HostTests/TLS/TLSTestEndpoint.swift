import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import PluginAPI

@testable import Engine
@testable import Operations
@testable import Routing
@testable import SIPCore

/// One side of a SIP-over-TLS connection for tests: a client that connects (from a chosen local address) or a
/// server that accepts, each framing what it reads with Patchbay's own SIPStreamDecoder and queueing the messages
/// for the test to take in order.
final class TLSTestEndpoint: @unchecked Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let inbox = Inbox()
    private var channel: (any Channel)?
    private var server: (any Channel)?
    private(set) var port = 0

    final class Inbox: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [SIPMessage] = []
        private(set) var closed = false
        var handshakeError: (any Error)?

        func put(_ m: SIPMessage) { lock.withLock { messages.append(m) } }
        func close(_ error: (any Error)?) {
            lock.withLock {
                closed = true
                if let error, handshakeError == nil { handshakeError = error }
            }
        }
        func take() -> SIPMessage? { lock.withLock { messages.isEmpty ? nil : messages.removeFirst() } }
        var isClosed: Bool { lock.withLock { closed } }
    }

    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = [UInt8]
        let inbox: Inbox
        var onAccept: ((any Channel) -> Void)?
        init(_ inbox: Inbox) { self.inbox = inbox }
        func channelActive(context: ChannelHandlerContext) {
            onAccept?(context.channel)
            context.fireChannelActive()
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if let m = try? SIPMessage(bytes: unwrapInboundIn(data)) { inbox.put(m) }
        }
        func channelInactive(context: ChannelHandlerContext) { inbox.close(nil) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            inbox.close(error)
            context.close(promise: nil)
        }
    }

    /// Connects to `port` on 127.0.0.1 from `localAddress`, trusting `ca`, presenting `certificate` if given.
    static func connect(
        to port: Int, from localAddress: String, ca: String, certificate: (String, String)?
    ) async throws -> TLSTestEndpoint {
        let e = TLSTestEndpoint()
        var c = TLSConfiguration.makeClientConfiguration()
        c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        if let (cert, key) = certificate {
            c.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            c.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        let context = try NIOSSLContext(configuration: c)
        let inbox = e.inbox
        e.channel = try await ClientBootstrap(group: e.group)
            .bind(to: try SocketAddress(ipAddress: localAddress, port: 0))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: nil))
                    try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(SIPStreamDecoder()))
                    try ch.pipeline.syncOperations.addHandler(Collector(inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        e.port = e.channel?.localAddress?.port ?? 0
        return e
    }

    /// Listens on 127.0.0.1 (a free port), presenting `certificate`, requiring a client certificate from `clientCA`.
    static func listen(certificate: (String, String), clientCA: String) async throws -> TLSTestEndpoint {
        let e = TLSTestEndpoint()
        var c = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate.0).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificate.1, format: .pem)))
        c.certificateVerification = .noHostnameVerification
        c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
        let context = try NIOSSLContext(configuration: c)
        let inbox = e.inbox
        e.server = try await ServerBootstrap(group: e.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try ch.pipeline.syncOperations.addHandler(ByteToMessageHandler(SIPStreamDecoder()))
                    let collector = Collector(inbox)
                    collector.onAccept = { [weak e] accepted in e?.channel = accepted }
                    try ch.pipeline.syncOperations.addHandler(collector)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        e.port = e.server?.localAddress?.port ?? 0
        return e
    }

    func send(_ message: SIPMessage) async throws {
        guard let channel else { throw PatchbayTestError("no connection") }
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: message.serialized())).get()
    }

    /// The next message matching `predicate` (others before it are skipped), or nil after `timeout`.
    func next(timeout: Duration = .seconds(5), where predicate: (SIPMessage) -> Bool = { _ in true }) async
        -> SIPMessage?
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let m = inbox.take() {
                if predicate(m) { return m }
                continue
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// True once the connection closed (a refused handshake closes it), within `timeout`.
    func waitForClose(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !inbox.isClosed { try? await Task.sleep(for: .milliseconds(10)) }
        return inbox.isClosed
    }

    var handshakeError: (any Error)? { inbox.handshakeError }

    func close() async {
        try? await channel?.close()
        try? await server?.close()
        try? await group.shutdownGracefully()
    }
}
