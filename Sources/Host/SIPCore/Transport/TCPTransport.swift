import Atomics
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One TCP connection the transport holds, as a value the engine can keep with a server transaction and pass back
/// to `TCPTransport.send(_:on:)`: RFC 3261 section 18.2.2 sends a response on the connection its request came on.
/// Two handles are equal when they name the same connection.
public struct TCPConnectionHandle: Sendable, Hashable, CustomStringConvertible {
    /// The peer's address as the socket reports it. For a connection the peer opened, that is its ephemeral port,
    /// not the port in its Via; `send(_:to:)` with this address finds the connection too.
    public let remoteAddress: SocketAddress
    /// True when the peer opened the connection, false when we connected.
    public let isInbound: Bool
    package let channel: any Channel

    package init(channel: any Channel, remoteAddress: SocketAddress, isInbound: Bool) {
        self.channel = channel
        self.remoteAddress = remoteAddress
        self.isInbound = isInbound
    }

    /// The loop the connection's reads are delivered on.
    public var eventLoop: any EventLoop { channel.eventLoop }
    /// False once the connection has closed (then a reply needs `send(_:to:)` with the Via's address).
    public var isActive: Bool { channel.isActive }

    public static func == (a: Self, b: Self) -> Bool { a.channel === b.channel }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(channel)) }
    public var description: String { "tcp \(isInbound ? "from" : "to") \(remoteAddress)" }
}

public enum TCPTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `Configuration.maxConnections` connections are open already.
    case tooManyConnections(limit: Int)
    /// `send(_:on:)` on a connection that has closed.
    case connectionClosed
    /// The transport is shutting down.
    case transportClosed

    public var description: String {
        switch self {
        case .tooManyConnections(let limit): "\(limit) TCP connections are open already"
        case .connectionClosed: "the TCP connection has closed"
        case .transportClosed: "the TCP transport is closed"
        }
    }
}

/// SIP over TCP (RFC 3261 section 18.3): a listener and a pool of connections, both framed by `SIPStreamDecoder`.
///
/// Every complete message, on a connection either side opened, goes to `onMessage` on the connection's event loop,
/// with its source and the connection's handle. `send(_:to:)` writes on an open connection to that address (one
/// the peer opened counts, keyed by its remote address) or connects; `send(_:on:)` writes on a given connection.
/// Connections idle for `idleTimeout` (no byte either way; keep-alive pings count) are closed, and at most
/// `maxConnections` are open at once, inbound and outbound together.
///
/// Shared state and why: the pool is one table per event loop, touched only on its loop, so looking up a connection
/// for a message takes no lock. Each connection is entered in every loop's table when it opens and removed when it
/// closes (one task per loop per connection, not per message); the entry on the connection's own loop is made at
/// once, before any of its reads, and the others are queued before any message read from it can be handed to
/// another loop, so a reply sent from the loop of the shard that owns the call always finds the connection. The
/// only cross-loop state is a few atomic counters, touched when a connection opens or closes.
public final class TCPTransport: Sendable {
    public struct Configuration: Sendable {
        /// Close a connection after this long without traffic either way; nil keeps connections until the peer
        /// closes. The default outlasts RFC 5626's recommended 95-120 s keep-alive interval for TCP.
        public var idleTimeout: TimeAmount?
        /// Open connections at most, inbound and outbound together. Beyond it accepted connections are closed at
        /// once and sends that would connect fail with `TCPTransportError.tooManyConnections`.
        public var maxConnections: Int
        public var connectTimeout: TimeAmount
        /// Framing limits and policy, passed to each connection's `SIPStreamDecoder`.
        public var maxMessageSize: Int
        public var maxHeaderSize: Int
        public var missingContentLength: SIPStreamDecoder.MissingContentLengthPolicy
        /// SIP over TLS (RFC 3261 section 26.2) when set: every connection, both directions, starts with a handshake.
        public var tls: TLS?

        public init(
            idleTimeout: TimeAmount? = .seconds(300), maxConnections: Int = 4_096,
            connectTimeout: TimeAmount = .seconds(5),
            maxMessageSize: Int = 65_535, maxHeaderSize: Int = 16_384,
            missingContentLength: SIPStreamDecoder.MissingContentLengthPolicy = .close
        ) {
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
            self.connectTimeout = connectTimeout
            self.maxMessageSize = maxMessageSize
            self.maxHeaderSize = maxHeaderSize
            self.missingContentLength = missingContentLength
        }
    }

    /// Where a TLS connection's context comes from. Asked once per connection (never per message), so a reload's
    /// new certificate is used by every connection opened after it.
    public struct TLS: Sendable {
        /// For a connection a peer opens; nil refuses it.
        public var server: @Sendable () -> NIOSSLContext?
        /// For a connection to `destination`, with the name its certificate must carry (nil: its IP address);
        /// nil refuses to connect.
        public var client: @Sendable (_ destination: SocketAddress) -> (context: NIOSSLContext, serverName: String?)?

        public init(
            server: @escaping @Sendable () -> NIOSSLContext?,
            client: @escaping @Sendable (SocketAddress) -> (context: NIOSSLContext, serverName: String?)?
        ) {
            self.server = server
            self.client = client
        }
    }

    /// Counts since the transport started (`open`: now), for logs and tests.
    public struct Statistics: Sendable, Equatable {
        /// Connections the peers opened and we took into service.
        public var accepted: Int
        /// Connections we opened.
        public var connected: Int
        /// Connections refused by `maxConnections` (accepted then closed at once, or not attempted).
        public var refused: Int
        /// Connections open now, both directions.
        public var open: Int
    }

    public typealias MessageHandler =
        @Sendable (_ bytes: [UInt8], _ source: SocketAddress, _ connection: TCPConnectionHandle) -> Void

    /// The address the listener is bound to (its port is the one picked when 0 was asked for).
    public let localAddress: SocketAddress
    public var port: Int { localAddress.port ?? 0 }
    private let core: Core
    private let listener: any Channel

    private init(core: Core, listener: any Channel) {
        self.core = core
        self.listener = listener
        self.localAddress = listener.localAddress!
    }

    /// Binds a listener (SO_REUSEADDR, so a restart does not wait out TIME_WAIT) whose connections are spread over
    /// `group`'s loops, and prepares a connection pool on each of them. `onMessage` runs on the connection's loop.
    public static func listen(
        host: String, port: Int, group: any EventLoopGroup, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "patchbay.tcp"), onMessage: @escaping MessageHandler
    ) async throws -> TCPTransport {
        let core = Core(group: group, configuration: configuration, logger: logger, onMessage: onMessage)
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            // Signalling is small request/response traffic: Nagle would only add latency.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in core.initialize(channel, isInbound: true) }
            .bind(host: host, port: port).get()
        return TCPTransport(core: core, listener: listener)
    }

    public var statistics: Statistics { core.statistics }

    /// Sends one serialised message to `destination` on an open connection to it, or on a new one. The future
    /// completes on the connection's loop once the bytes are written (or the connect or write failed).
    ///
    /// Called on one of the group's loops, the lookup uses that loop's table and never leaves the thread. Called
    /// from elsewhere, it runs on a loop chosen by the destination, so repeated sends to one address from outside
    /// share one connection. Two loops connecting to the same new destination at the same moment each open one;
    /// both are used until idle, which RFC 3261 section 18.1.1 allows.
    public func send(_ bytes: [UInt8], to destination: SocketAddress) -> EventLoopFuture<Void> {
        let pool = core.pool(for: destination)
        if pool.loop.inEventLoop { return core.send(bytes, to: destination, in: pool) }
        let core = self.core
        return pool.loop.flatSubmit { core.send(bytes, to: destination, in: pool) }
    }

    /// Sends on the given connection only: the response path of RFC 3261 section 18.2.2. Fails with
    /// `TCPTransportError.connectionClosed` if it has closed (the engine then falls back to the Via's address).
    public func send(_ bytes: [UInt8], on connection: TCPConnectionHandle) -> EventLoopFuture<Void> {
        Core.write(bytes, on: connection)
    }

    /// Stops accepting, closes every connection, and refuses further sends.
    public func close() async {
        core.closed.store(true, ordering: .sequentiallyConsistent)
        try? await listener.close()
        var closed = Set<ObjectIdentifier>()
        for pool in core.pools {
            let channels = (try? await pool.loop.submit { pool.channels() }.get()) ?? []
            for channel in channels where closed.insert(ObjectIdentifier(channel)).inserted {
                try? await channel.close()
            }
        }
    }
}

extension TCPTransport {
    /// What the listener's and the pool's channels share. Sendable: its own fields are constants or atomics; the
    /// tables live in `LoopPool`, each confined to its loop.
    final class Core: Sendable {
        package let configuration: Configuration
        package let logger: Logger
        let onMessage: MessageHandler
        let pools: [LoopPool]
        let closed = ManagedAtomic(false)
        private let open = ManagedAtomic(0)
        private let accepted = ManagedAtomic(0)
        private let connected = ManagedAtomic(0)
        private let refused = ManagedAtomic(0)

        package init(
            group: any EventLoopGroup, configuration: Configuration, logger: Logger,
            onMessage: @escaping MessageHandler
        ) {
            self.configuration = configuration
            self.logger = logger
            self.onMessage = onMessage
            self.pools = group.makeIterator().map { LoopPool(loop: $0) }
        }

        var statistics: Statistics {
            Statistics(
                accepted: accepted.load(ordering: .relaxed), connected: connected.load(ordering: .relaxed),
                refused: refused.load(ordering: .relaxed), open: open.load(ordering: .relaxed))
        }

        /// The caller's own loop's table when it runs on one (no hop), else the table of a loop picked by address.
        package func pool(for destination: SocketAddress) -> LoopPool {
            if let own = pools.first(where: { $0.loop.inEventLoop }) { return own }
            return pools[Int(UInt(bitPattern: destination.hashValue) % UInt(pools.count))]
        }

        /// Runs on `pool.loop`.
        package func send(_ bytes: [UInt8], to destination: SocketAddress, in pool: LoopPool) -> EventLoopFuture<Void> {
            pool.loop.assertInEventLoop()
            switch pool.connections[destination] {
            case .ready(let connection) where connection.isActive:
                return Self.write(bytes, on: connection)
            case .connecting(let pending):
                return pending.flatMap { Self.write(bytes, on: $0) }
            case .ready, nil:
                return connect(to: destination, in: pool).flatMap { Self.write(bytes, on: $0) }
            }
        }

        package static func write(_ bytes: [UInt8], on connection: TCPConnectionHandle) -> EventLoopFuture<Void> {
            let channel = connection.channel
            guard channel.isActive else {
                return channel.eventLoop.makeFailedFuture(TCPTransportError.connectionClosed)
            }
            return channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
        }

        /// Runs on `pool.loop`; the connection lives on that loop. Later sends to the destination on this loop wait
        /// for this connect instead of starting another.
        private func connect(
            to destination: SocketAddress, in pool: LoopPool
        ) -> EventLoopFuture<TCPConnectionHandle> {
            if closed.load(ordering: .relaxed) { return pool.loop.makeFailedFuture(TCPTransportError.transportClosed) }
            // The hard bound is taken in `initialize`; this early check spares a doomed connect.
            if open.load(ordering: .relaxed) >= configuration.maxConnections {
                refused.wrappingIncrement(ordering: .relaxed)
                let error = TCPTransportError.tooManyConnections(limit: configuration.maxConnections)
                return pool.loop.makeFailedFuture(error)
            }
            let pending = ClientBootstrap(group: pool.loop)
                .connectTimeout(configuration.connectTimeout)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { [self] channel in initialize(channel, isInbound: false, destination: destination)
                }
                .connect(to: destination)
                .map { channel in
                    TCPConnectionHandle(
                        channel: channel, remoteAddress: channel.remoteAddress ?? destination, isInbound: false)
                }
            pool.connections[destination] = .connecting(pending)
            pending.whenComplete { [self] result in
                // The connect future completes on the bootstrap's loop, which is `pool.loop`.
                // Only replace our own placeholder: `register` may have entered the connection already.
                let placeholder: Bool
                if case .connecting = pool.connections[destination] { placeholder = true } else { placeholder = false }
                switch result {
                case .success(let connection):
                    connected.wrappingIncrement(ordering: .relaxed)
                    if placeholder { pool.connections[destination] = .ready(connection) }
                case .failure(let error):
                    logger.debug("TCP connect failed", metadata: ["to": "\(destination)", "error": "\(error)"])
                    if placeholder { pool.connections[destination] = nil }
                }
            }
            return pending
        }

        /// Pipeline of every connection, both directions: idle timer (first, so it sees every byte read and
        /// written), framing, then delivery. Fails (and NIO closes the channel) beyond `maxConnections`.
        func initialize(_ channel: any Channel, isInbound: Bool, destination: SocketAddress? = nil) -> EventLoopFuture<
            Void
        > {
            let limit = configuration.maxConnections
            guard open.loadThenWrappingIncrement(ordering: .relaxed) < limit else {
                open.wrappingDecrement(ordering: .relaxed)
                refused.wrappingIncrement(ordering: .relaxed)
                logger.notice("TCP connection refused: limit reached", metadata: ["limit": "\(limit)"])
                return channel.eventLoop.makeFailedFuture(TCPTransportError.tooManyConnections(limit: limit))
            }
            channel.closeFuture.whenComplete { [self] _ in open.wrappingDecrement(ordering: .relaxed) }
            if isInbound { accepted.wrappingIncrement(ordering: .relaxed) }
            let configuration = self.configuration
            return channel.eventLoop.makeCompletedFuture {
                let pipeline = channel.pipeline.syncOperations
                if let tls = configuration.tls {
                    if isInbound {
                        guard let context = tls.server() else { throw TCPTransportError.transportClosed }
                        try pipeline.addHandler(NIOSSLServerHandler(context: context))
                    } else {
                        guard let destination, let client = tls.client(destination) else {
                            throw TCPTransportError.transportClosed
                        }
                        try pipeline.addHandler(
                            try NIOSSLClientHandler(context: client.context, serverHostname: client.serverName))
                    }
                }
                if let idle = configuration.idleTimeout { try pipeline.addHandler(IdleStateHandler(allTimeout: idle)) }
                try pipeline.addHandler(
                    ByteToMessageHandler(
                        SIPStreamDecoder(
                            maxMessageSize: configuration.maxMessageSize, maxHeaderSize: configuration.maxHeaderSize,
                            missingContentLength: configuration.missingContentLength)))
                try pipeline.addHandler(ConnectionHandler(core: self, isInbound: isInbound))
            }
        }

        /// Enters a connection that just became active in every loop's table: on its own loop at once, on the others
        /// by a task queued before any of its messages can be handed on.
        package func register(_ connection: TCPConnectionHandle) {
            for pool in pools {
                if pool.loop.inEventLoop {
                    pool.connections[connection.remoteAddress] = .ready(connection)
                } else {
                    pool.loop.execute { pool.connections[connection.remoteAddress] = .ready(connection) }
                }
            }
        }

        /// Removes a closed connection from every table, unless a newer connection to the address replaced it.
        func unregister(_ connection: TCPConnectionHandle) {
            for pool in pools {
                if pool.loop.inEventLoop {
                    pool.remove(connection)
                } else {
                    pool.loop.execute { pool.remove(connection) }
                }
            }
        }
    }

    /// One loop's table of connections by remote address. `@unchecked Sendable` because it is handed between
    /// threads only to be used on `loop`: every access runs there (asserted in debug builds).
    final class LoopPool: @unchecked Sendable {
        enum Entry {
            case connecting(EventLoopFuture<TCPConnectionHandle>)
            case ready(TCPConnectionHandle)
        }

        package let loop: any EventLoop
        private var table: [SocketAddress: Entry] = [:]

        package init(loop: any EventLoop) { self.loop = loop }

        var connections: [SocketAddress: Entry] {
            get {
                loop.assertInEventLoop()
                return table
            }
            _modify {
                loop.assertInEventLoop()
                yield &table
            }
        }

        package func remove(_ connection: TCPConnectionHandle) {
            if case .ready(let current) = connections[connection.remoteAddress], current == connection {
                connections[connection.remoteAddress] = nil
            }
        }

        func channels() -> [any Channel] {
            connections.values.compactMap { if case .ready(let c) = $0 { c.channel } else { nil } }
        }
    }

    /// Last handler of every connection: registers it while open, delivers each framed message, and closes the
    /// connection on a framing error (the stream has lost its boundaries) or when it has been idle too long.
    final class ConnectionHandler: ChannelInboundHandler {
        package typealias InboundIn = [UInt8]

        private let core: Core
        private let isInbound: Bool
        private var connection: TCPConnectionHandle?

        package init(core: Core, isInbound: Bool) {
            self.core = core
            self.isInbound = isInbound
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { activate(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            activate(context)
            context.fireChannelActive()
        }

        private func activate(_ context: ChannelHandlerContext) {
            guard connection == nil, let remote = context.remoteAddress else { return }
            // `close()` collects connections from the tables on each loop after setting the flag: a connection is
            // either in its own loop's table by then or sees the flag here.
            if core.closed.load(ordering: .sequentiallyConsistent) {
                context.close(promise: nil)
                return
            }
            let connection = TCPConnectionHandle(channel: context.channel, remoteAddress: remote, isInbound: isInbound)
            self.connection = connection
            core.register(connection)
            core.logger.debug("TCP connection open", metadata: ["connection": "\(connection)"])
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let connection {
                core.unregister(connection)
                core.logger.debug("TCP connection closed", metadata: ["connection": "\(connection)"])
            }
            context.fireChannelInactive()
        }

        package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let connection else { return }
            core.onMessage(unwrapInboundIn(data), connection.remoteAddress, connection)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .all? = event as? IdleStateHandler.IdleStateEvent {
                core.logger.debug("closing idle TCP connection", metadata: ["peer": "\(peer(context))"])
                context.close(promise: nil)
                return
            }
            context.fireUserInboundEventTriggered(event)
        }

        package func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A failed handshake is a configuration problem an operator must see (a certificate expired, a CA
            // missing); other stream errors are routine.
            if error is NIOSSLError || error is BoringSSLError {
                core.logger.warning(
                    "TLS handshake or record error: closing",
                    metadata: ["peer": "\(peer(context))", "error": "\(error)"])
            } else {
                core.logger.debug(
                    "closing TCP connection", metadata: ["peer": "\(peer(context))", "error": "\(error)"])
            }
            context.close(promise: nil)
        }

        private func peer(_ context: ChannelHandlerContext) -> String {
            connection.map { "\($0.remoteAddress)" } ?? context.remoteAddress.map { "\($0)" } ?? "?"
        }
    }
}
