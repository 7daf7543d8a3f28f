import Foundation
import NIOCore

/// Reads rtpengine's DTMF events: `{"callid": ..., "source_tag": ..., "type": "DTMF", "event": 5, "duration": 200}`
/// per datagram (rtpengine's `--dtmf-log-dest`). Off the SIP path: one datagram per digit.
final class DTMFEventReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let handler: @Sendable (String, Int, Int, String) -> Void

    init(handler: @escaping @Sendable (String, Int, Int, String) -> Void) {
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        guard let bytes = envelope.data.readBytes(length: envelope.data.readableBytes),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            object["type"] as? String == "DTMF", let callID = object["callid"] as? String,
            let tag = object["source_tag"] as? String, let event = object["event"] as? Int
        else { return }
        handler(callID, event, object["duration"] as? Int ?? 160, tag)
    }
}
