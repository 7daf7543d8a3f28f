import Logging
import NIOCore
import NIOPosix

/// A client of rtpengine's ng control protocol: a bencoded dictionary in a UDP datagram after a cookie
/// (`<cookie> d7:command4:pinge`), the answer after the same cookie. A request without an answer is sent again
/// (`Settings.retransmitInterval`) and fails with `.timeout` after `Settings.attempts` sends; an answer whose
/// `result` is `error` fails with `.refused` and rtpengine's reason. One UDP socket per client; its pending requests
/// live on the socket's event loop.
public final class NGClient: @unchecked Sendable {
    // @unchecked: `pending` and `counter` are touched only on `loop` (every entry point hops there first).
    public struct Settings: Sendable {
        public var retransmitInterval: TimeAmount = .milliseconds(500)
        public var attempts = 3

        public init() {}
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// No answer after every retransmission: the instance is down or unreachable.
        case timeout(command: String)
        /// rtpengine answered `result: error`.
        case refused(command: String, reason: String)
        /// The answer did not decode, or had no `result`.
        case malformed(String)
        case closed

        public var description: String {
            switch self {
            case .timeout(let c): "rtpengine did not answer '\(c)'"
            case .refused(let c, let r): "rtpengine refused '\(c)': \(r)"
            case .malformed(let why): "rtpengine's answer is malformed: \(why)"
            case .closed: "the ng client is closed"
            }
        }
    }

    private struct Pending {
        var promise: EventLoopPromise<BencodeValue>
        var datagram: ByteBuffer
        var address: SocketAddress
        var command: String
        var sent = 1
        var timer: Scheduled<Void>?
    }

    public let loop: any EventLoop
    private let channel: any Channel
    private let settings: Settings
    private let logger: Logger
    private let prefix: String
    private var counter: UInt64 = 0
    private var pending: [String: Pending] = [:]
    private var isClosed = false
    private let decoder = BencodeDecoder()

    private init(channel: any Channel, settings: Settings, logger: Logger) {
        self.channel = channel
        self.loop = channel.eventLoop
        self.settings = settings
        self.logger = logger
        self.prefix = String(UInt32.random(in: 0...UInt32.max), radix: 36) + "_"
    }

    /// A client with its own UDP socket on `host` (an ephemeral port).
    public static func start(
        group: any EventLoopGroup, host: String = "127.0.0.1", settings: Settings = Settings(),
        logger: Logger = Logger(label: "patchbay.ng")
    ) async throws -> NGClient {
        let box = ClientBox()
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.pipeline.addHandler(Receiver(box: box))
            }
            .bind(host: host, port: 0).get()
        let client = NGClient(channel: channel, settings: settings, logger: logger)
        box.client = client
        return client
    }

    /// Sends `message` (a dictionary with at least `command`) to the instance at `address`.
    public func request(_ message: BencodeValue, to address: SocketAddress) -> EventLoopFuture<BencodeValue> {
        loop.flatSubmit { [self] in
            let promise = loop.makePromise(of: BencodeValue.self)
            guard !isClosed else {
                promise.fail(Failure.closed)
                return promise.futureResult
            }
            counter &+= 1
            let cookie = prefix + String(counter, radix: 36)
            var datagram = channel.allocator.buffer(capacity: 64)
            datagram.writeString(cookie + " ")
            datagram.writeBytes(message.encoded())
            let command = message["command"]?.text ?? "?"
            pending[cookie] = Pending(promise: promise, datagram: datagram, address: address, command: command)
            send(cookie)
            return promise.futureResult
        }
    }

    public func close() async {
        try? await loop.submit { [self] in
            isClosed = true
            for (_, p) in pending {
                p.timer?.cancel()
                p.promise.fail(Failure.closed)
            }
            pending = [:]
        }.get()
        try? await channel.close()
    }

    private func send(_ cookie: String) {
        guard var p = pending[cookie] else { return }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: p.address, data: p.datagram), promise: nil)
        p.timer = loop.scheduleTask(in: settings.retransmitInterval) { [self] in
            self.retransmit(cookie)
        }
        pending[cookie] = p
    }

    private func retransmit(_ cookie: String) {
        guard var p = pending[cookie] else { return }
        guard p.sent < settings.attempts else {
            pending[cookie] = nil
            logger.warning("rtpengine did not answer", metadata: ["command": "\(p.command)", "to": "\(p.address)"])
            p.promise.fail(Failure.timeout(command: p.command))
            return
        }
        p.sent += 1
        pending[cookie] = p
        send(cookie)
    }

    fileprivate func received(_ bytes: [UInt8]) {
        // "<cookie> <bencode>": an answer to nothing pending (a second answer to a retransmission) is dropped.
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return }
        let cookie = String(decoding: bytes[..<space], as: UTF8.self)
        guard let p = pending.removeValue(forKey: cookie) else { return }
        p.timer?.cancel()
        let answer: BencodeValue
        do {
            answer = try decoder.decode(bytes[(space + 1)...])
        } catch {
            return p.promise.fail(Failure.malformed("\(error)"))
        }
        switch answer["result"]?.text {
        case "error"?:
            p.promise.fail(
                Failure.refused(command: p.command, reason: answer["error-reason"]?.text ?? "no reason given"))
        case nil:
            p.promise.fail(Failure.malformed("no 'result'"))
        default:
            p.promise.succeed(answer)
        }
    }

    /// Links the channel's handler to the client made after the channel.
    private final class ClientBox: @unchecked Sendable {
        var client: NGClient?
    }

    private final class Receiver: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let box: ClientBox

        init(box: ClientBox) {
            self.box = box
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var envelope = unwrapInboundIn(data)
            guard let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) else { return }
            box.client?.received(bytes)
        }
    }
}
