import NIOCore
import PluginAPI

/// What the layer needs from either server machine.
protocol ServerTransactionMachine {
    var request: SIPMessage { get }
    var isTerminated: Bool { get }
    mutating func start() -> [TransactionAction]
    mutating func receive(_ request: SIPMessage) -> [TransactionAction]
    mutating func send(_ response: SIPMessage) -> [TransactionAction]
    mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction]
    mutating func transportFailed() -> [TransactionAction]
}
