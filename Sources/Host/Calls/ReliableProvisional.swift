import NIOCore
import PluginAPI

/// A reliable provisional response Patchbay sent the caller (RFC 3262): retransmitted until the caller's PRACK.
struct ReliableProvisional {
    /// The 18x as sent, with `Require: 100rel` and its `RSeq`.
    var response: SIPMessage
    var rseq: UInt32
    /// The callee's RSeq when the callee's 18x was reliable too: the caller's PRACK is then relayed to the callee
    /// (with this RSeq in its RAck) and the callee's answer to it relayed back. Nil: Patchbay answers the PRACK.
    var calleeRSeq: UInt32?
    var retransmission: Retransmission
}
