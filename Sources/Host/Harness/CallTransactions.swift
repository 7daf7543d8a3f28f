import Calls
import NIOCore
import PluginAPI
import Routing
import SIPCore

/// The transaction layer's share of one call, as a public entry point for `Benchmarks/HotPathCount` (bench-callgrind
/// path `transactions`), which the per-message `HotPath` leaves out. It lives here, not in the benchmark, so that the
/// layer runs specialised for `SIPDestination` as in the engine: called from another module with a type of its own,
/// the generic layer spent a tenth of its instructions looking up generic metadata.
///
/// One `run` is the call's four transactions as a B2BUA runs them: the INVITE and the BYE in from the caller and out
/// to the callee, with their responses; then the caller's `advance` runs the virtual clock past every timer, so each
/// transaction has ended when `run` returns. The messages are made once, at init.
public final class CallTransactions {
    private let layer: TransactionLayer<SIPDestination>
    private let caller: SIPDestination
    private let callee: SIPDestination
    private let inviteA, byeA, inviteB, byeB: SIPMessage
    private let ringingA, okA, tryingB, ringingB, okB, byeOkA, byeOkB: SIPMessage
    private let sent = Count()

    private final class Count { var value = 0 }

    /// `invite` and `bye` as the caller sends them; `loop` must be one the caller can drive (an `EmbeddedEventLoop`).
    public init(invite: SIPMessage, bye: SIPMessage, loop: any EventLoop) throws {
        caller = SIPDestination(transport: .udp, address: try SocketAddress(ipAddress: "127.0.0.1", port: 5070))
        callee = SIPDestination(transport: .udp, address: try SocketAddress(ipAddress: "127.0.0.1", port: 5080))
        let sent = self.sent
        layer = TransactionLayer(eventLoop: loop) { message, _ in sent.value &+= message.headers.count }
        inviteA = invite
        byeA = bye
        inviteB = Self.onBLeg(invite)
        byeB = Self.onBLeg(bye)
        // Built as the calls build theirs (`Relay.response`); the callee's with a To tag from 180 on.
        ringingA = Relay.response(180, "Ringing", to: inviteA, toTag: "a", contact: nil)
        okA = Relay.response(200, "OK", to: inviteA, toTag: "a", contact: nil)
        tryingB = Relay.response(100, "Trying", to: inviteB, toTag: nil, contact: nil)
        ringingB = Relay.response(180, "Ringing", to: inviteB, toTag: "b", contact: nil)
        okB = Relay.response(200, "OK", to: inviteB, toTag: "b", contact: nil)
        byeOkA = Relay.response(200, "OK", to: byeA, toTag: nil, contact: nil)
        byeOkB = Relay.response(200, "OK", to: byeB, toTag: nil, contact: nil)
    }

    /// Runs one call's transactions; returns the header count of what the layer sent, so nothing is optimised away.
    public func run(advance: () -> Void) throws -> Int {
        sent.value = 0
        //  caller          Patchbay                 callee
        //    | INVITE -------> |                        |   server transaction; 100 Trying from the layer
        //    |                 | INVITE --------------> |   client transaction
        //    |                 | <------- 100, 180, 200 |
        //    | <---- 180, 200  |                        |
        //    | BYE ----------> | BYE -----------------> |
        //    |                 | <------------- 200 OK  |
        //    | <----- 200 OK   |                        |   then `advance`: Timers J and K and the 2xx's end
        guard layer.receive(inviteA, from: caller) != nil else { throw Failure.noTransaction("INVITE") }
        try layer.sendRequest(inviteB, to: callee, onResponse: { _ in }, onFailure: { _ in })
        for response in [tryingB, ringingB, okB] { _ = layer.receive(response, from: callee) }
        layer.respond(ringingA, to: inviteA)
        layer.respond(okA, to: inviteA)
        guard layer.receive(byeA, from: caller) != nil else { throw Failure.noTransaction("BYE") }
        try layer.sendRequest(byeB, to: callee, onResponse: { _ in }, onFailure: { _ in })
        _ = layer.receive(byeOkB, from: callee)
        layer.respond(byeOkA, to: byeA)
        advance()
        guard layer.count == 0 else { throw Failure.outlived(layer.count) }
        return sent.value
    }

    public enum Failure: Error {
        case noTransaction(String)
        case outlived(Int)
    }

    /// The request as Patchbay sends it on the B leg: its own Via and branch.
    private static func onBLeg(_ request: SIPMessage) -> SIPMessage {
        var headers = request.headers.filter { !$0.hasName("via") }
        headers.insert(SIPHeader("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-pb0-b-leg"), at: 0)
        return SIPMessage(startLine: request.startLine, headers: headers, body: request.body)
    }
}
