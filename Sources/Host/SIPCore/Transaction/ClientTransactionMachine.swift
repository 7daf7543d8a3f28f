import NIOCore
import PluginAPI

/// What the layer needs from either client machine, so it can hold both kinds in one table.
protocol ClientTransactionMachine {
    var request: SIPMessage { get }
    var isTerminated: Bool { get }
    mutating func start() -> [TransactionAction]
    mutating func receive(_ response: SIPMessage) -> [TransactionAction]
    mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction]
    mutating func transportFailed() -> [TransactionAction]
}
