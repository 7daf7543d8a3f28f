import NIOCore
import PluginAPI

/// What a state machine asks its driver to do. The machines never touch a socket or a clock, so they can be tested
/// event by event and driven by any loop.
public enum TransactionAction: Equatable, Sendable {
    /// Hand to the transport (first transmission or a retransmission).
    case send(SIPMessage)
    /// Pass to the transaction user: a request on the server side, a response on the client side.
    case deliver(SIPMessage)
    case startTimer(TransactionTimer, TimeAmount)
    case cancelTimer(TransactionTimer)
    /// Timer B or F fired (the TU treats it as a 408), or Timer H on the server side (the ACK never came).
    case timedOut
    case transportError
    /// Always the last action of a transaction; the driver forgets it.
    case terminated
}
