import NIOCore
import SIPCore

/// RFC 3261's schedule for a message the call itself repeats over UDP (a 2xx until its ACK, section 13.3.1.4; a
/// reliable 18x until its PRACK, RFC 3262 section 3): first after T1, the wait doubling up to T2, given up once
/// 64*T1 have passed.
struct Retransmission: Equatable {
    /// The wait before the next send.
    private(set) var interval: TimeAmount
    private var elapsed: TimeAmount = .zero

    init(_ settings: TransactionSettings) {
        interval = settings.t1
    }

    /// The wait ran out: the wait before the send after this one, or nil when 64*T1 have passed and the message is
    /// given up.
    mutating func next(_ settings: TransactionSettings) -> TimeAmount? {
        elapsed = elapsed + interval
        guard elapsed < settings.t1 * 64 else { return nil }
        interval = min(interval * 2, settings.t2)
        return interval
    }
}
