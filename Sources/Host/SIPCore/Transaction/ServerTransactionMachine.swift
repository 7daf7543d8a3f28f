import PluginAPI

/// A server machine takes retransmissions of its request and the TU's responses.
protocol ServerTransactionMachine: TransactionMachine {
    mutating func receive(_ request: SIPMessage) -> [TransactionAction]
    mutating func send(_ response: SIPMessage) -> [TransactionAction]
}
