import NIOCore
import PluginAPI

/// T1, T2 and T4 (RFC 3261 section 17.1.1.1 and appendix A) and whether the transport under the transaction is
/// reliable, which decides whether the retransmission timers run and whether the wait states (D, I, J, K) last.
public struct TransactionSettings: Sendable, Equatable {
    /// Round-trip estimate; every other interval but D is derived from it.
    public var t1: TimeAmount
    /// Cap on the retransmission interval of non-INVITE requests and of INVITE final responses.
    public var t2: TimeAmount
    /// How long a message may stay in the network.
    public var t4: TimeAmount
    public var reliableTransport: Bool
    /// Timer B of INVITE client transactions when not 64*T1: a peer's `invite_timeout`.
    public var timerB: TimeAmount?

    public init(
        t1: TimeAmount = .milliseconds(500), t2: TimeAmount = .seconds(4), t4: TimeAmount = .seconds(5),
        reliableTransport: Bool = false
    ) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        self.reliableTransport = reliableTransport
    }

    /// The same timers over another kind of transport: one layer serves UDP and TCP peers alike.
    public func with(reliableTransport: Bool) -> TransactionSettings {
        var copy = self
        copy.reliableTransport = reliableTransport
        return copy
    }

    /// 64*T1: the give-up time of Timers B, F and H, and Timer J on an unreliable transport.
    public var transactionTimeout: TimeAmount { 64 * t1 }

    /// How long an INVITE client transaction waits for its first response.
    public var inviteTimeout: TimeAmount { timerB ?? transactionTimeout }

    /// RFC 3261 says "at least 32 s" and does not tie it to T1: it covers the other side's Timer G retransmissions
    /// of a final response, which are paced by the other side's T1 and T2, not ours.
    public var timerD: TimeAmount { reliableTransport ? .zero : .seconds(32) }
    public var timerI: TimeAmount { reliableTransport ? .zero : t4 }
    public var timerJ: TimeAmount { reliableTransport ? .zero : transactionTimeout }
    public var timerK: TimeAmount { reliableTransport ? .zero : t4 }
}
