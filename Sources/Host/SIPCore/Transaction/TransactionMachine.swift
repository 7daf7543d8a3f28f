import NIOCore
import PluginAPI

/// What the transaction layer drives in every machine, client or server: start it, fire its timers, tell it the
/// transport failed, and see whether it has ended.
protocol TransactionMachine {
    var request: SIPMessage { get }
    var isTerminated: Bool { get }
    mutating func start() -> [TransactionAction]
    mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction]
    mutating func transportFailed() -> [TransactionAction]
}
