import Logging
import NIOCore
import PluginAPI
import Records
import SIPCore

/// What a call needs from the shard that owns it beyond what its machine reads (`CallContext`): the loop's timers
/// and transactions, and where its record goes. The engine's `Shard` is the one host; the protocol is the seam that keeps calls below
/// the engine (a call never names `Shard`), and that a call's tests can stand in for.
package protocol CallHost: CallContext {
    /// The loop's timers, shared by the transactions and the calls.
    var timers: TimerQueue { get }

    /// In-dialog requests and responses with this Call-ID reach `call` from now on.
    func track(_ call: Call, callID: String)
    func remove(_ call: Call)
    /// The call ended: its record goes to the store and the route statistics.
    func submit(_ record: CallRecord)
    /// A target gave its final answer (or none: status 0) to an attempt.
    func attemptEnded(peer: String, status: Int)

    /// Sends `command` to rtpengine; `completion` runs on the call's loop.
    func media(_ command: MediaCommand, completion: @escaping (MediaOutcome) -> Void)
    func deleteMedia(callID: String, instance: String)
    /// A slot of `peer`'s `limits` is free again.
    func releasePeer(_ peer: String)
    func playDTMF(callID: String, instance: String, fromTag: String, code: String, durationMilliseconds: Int)

    func sendStateless(_ message: SIPMessage, to destination: SIPDestination)
    func respond(_ response: SIPMessage, to request: SIPMessage)
    /// A request in a client transaction of its own; `timerB` bounds an INVITE's wait for a final response.
    func sendRequest(
        _ request: SIPMessage, to destination: SIPDestination, timerB: TimeAmount?,
        handler: @escaping (ClientEvent) -> Void)
    /// A request to `peer` that answers the peer's digest challenge with its credentials; `resent` sees the
    /// request as sent again.
    func sendRequest(
        _ request: SIPMessage, to destination: SIPDestination, peer: String,
        resent: @escaping (SIPMessage) -> Void, handler: @escaping (ClientEvent) -> Void)
}

extension CallHost {
    package func releasePeer(_ peer: String) {}

    package func sendRequest(
        _ request: SIPMessage, to destination: SIPDestination, handler: @escaping (ClientEvent) -> Void
    ) {
        sendRequest(request, to: destination, timerB: nil, handler: handler)
    }

    package func sendRequest(
        _ request: SIPMessage, to destination: SIPDestination, peer: String,
        handler: @escaping (ClientEvent) -> Void
    ) {
        sendRequest(request, to: destination, peer: peer, resent: { _ in }, handler: handler)
    }
}
