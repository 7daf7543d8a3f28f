import PluginAPI

/// A client machine also takes the responses to its request, so the layer can hold both kinds in one table.
protocol ClientTransactionMachine: TransactionMachine {
    mutating func receive(_ response: SIPMessage) -> [TransactionAction]
}
