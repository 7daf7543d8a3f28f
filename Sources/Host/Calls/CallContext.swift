import Foundation
import Logging
import NIOCore
import PluginAPI
import Routing
import SIPCore

/// What a call's machine reads from where it runs, without changing anything there: new identifiers, our
/// addresses, the peers' addresses and availability, the timers' settings, the clock for the record. The shard
/// provides it live (through `CallHost`); a test provides a fixed one, so a ladder is reproducible.
package protocol CallContext: AnyObject {
    var logger: Logger { get }
    var settings: TransactionSettings { get }
    var local: LocalAddress { get }
    /// Where Patchbay is as seen from `destination` (an IPv6 peer sees the IPv6 listener).
    func local(for destination: SIPDestination?) -> LocalAddress
    var localHost: String { get }
    var downPeers: Set<String> { get }
    var drainedPeers: Set<String> { get }
    /// The wall clock, for the call record's times.
    var now: Date { get }

    /// A delay drawn from `range` (milliseconds), for waits RFC 3261 wants random (section 14.1's glare retry).
    func randomDelay(in range: ClosedRange<Int64>) -> TimeAmount

    func newCallID() -> String
    func newTag() -> String
    func newBranch() -> String
    func via(for destination: SIPDestination?) -> String
    func contact(user: String?, for destination: SIPDestination?) -> String
    /// Where a request to `peer` may go, in the order this attempt tries them: its configured addresses and the
    /// servers DNS gave for its host names (SRV order, drawn anew per call). Empty: nowhere (not resolved).
    func destinations(of peer: String) -> [SIPDestination]
    /// The one answer that changes something where the call runs: takes a slot of `peer`'s `limits` for an attempt
    /// to it (given back by `CallAction.releasePeer`), or says the peer is at its limit.
    func admitOutbound(to peer: String, limits: PatchbayConfiguration.PeerLimits) -> Bool
}

extension CallContext {
    package func address(of peer: String) -> SIPDestination? { destinations(of: peer).first }

    package func local(for destination: SIPDestination?) -> LocalAddress { local }

    package func admitOutbound(to peer: String, limits: PatchbayConfiguration.PeerLimits) -> Bool { true }
}
