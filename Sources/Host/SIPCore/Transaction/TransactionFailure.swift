import NIOCore
import PluginAPI

/// Why the transaction layer gave up on a transaction, as reported to the TU.
public enum TransactionFailure: Hashable, Sendable {
    case timeout
    case transportError
}
