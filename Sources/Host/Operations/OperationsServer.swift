import Engine
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SIPCore

/// The operations listener: `/metrics` (Prometheus text), the management API under `/api/`, and the status page
/// at `/`. Plain HTTP/1.1 on its own address (loopback by default); every request needs the token when one is
/// configured. Requests are few and small, so each is answered from a task that reads the engine's status.
public final class OperationsServer: Sendable {
    private let channel: any Channel
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    public static func start(
        host: String, port: Int, group: any EventLoopGroup, api: OperationsAPI, logger: Logger
    ) async throws -> OperationsServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(HTTPHandler(api: api, logger: logger))
                }
            }
            .bind(host: host, port: port).get()
        return OperationsServer(channel: channel)
    }

    public func close() async { try? await channel.close() }

    private final class HTTPHandler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked: used on its channel's loop only; the response task hops back there to write.
        package typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        package let api: OperationsAPI
        package let logger: Logger
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        package init(api: OperationsAPI, logger: Logger) {
            self.api = api
            self.logger = logger
        }

        package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
            case .body(var buffer):
                // The API takes no large bodies; anything beyond 64 KiB is cut (and the request then fails to parse).
                if body.count < 65_536 {
                    body += buffer.readBytes(length: min(buffer.readableBytes, 65_536 - body.count)) ?? []
                }
            case .end:
                guard let head else { return }
                self.head = nil
                let request = OperationsAPI.Request(
                    method: head.method.rawValue, uri: head.uri,
                    authorization: head.headers.first(name: "authorization"), body: body)
                let api = self.api
                let channel = context.channel
                let keepAlive = head.isKeepAlive
                let version = head.version
                Task {
                    let response = await api.handle(request)
                    channel.eventLoop.execute {
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: response.contentType)
                        headers.add(name: "Content-Length", value: String(response.body.count))
                        headers.add(name: "Cache-Control", value: "no-store")
                        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                        let responseHead = HTTPResponseHead(
                            version: version, status: .init(statusCode: response.status), headers: headers)
                        channel.write(HTTPServerResponsePart.head(responseHead), promise: nil)
                        channel.write(
                            HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: response.body))),
                            promise: nil)
                        let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
                        if !keepAlive { done.whenComplete { _ in channel.close(promise: nil) } }
                    }
                }
            }
        }

        package func errorCaught(context: ChannelHandlerContext, error: any Error) {
            logger.debug("operations HTTP connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }
}
