import Foundation
import Logging
import NIOCore
import PluginAPI
import Routing
import SIPCore

/// Sends OPTIONS to every address of every peer that has a `health_check` (its configured addresses and its host
/// names' servers from DNS), counts answers and failures per address, and reports an address down after
/// `down_after` failures in a row and up again after `up_after` answers in a row. A peer is down when all its
/// addresses are. Runs on one shard's loop (its probes go through that shard's transactions); the engine passes
/// each change to every shard.
final class PeerHealthMonitor: @unchecked Sendable {
    // @unchecked: used only on its shard's loop (the repeated task runs there too).
    private struct AddressState {
        var up = true
        var failures = 0
        var successes = 0
    }

    private struct PeerState {
        var up = true
        var addresses: [SocketAddress: AddressState] = [:]
        var task: RepeatedTask?
        var lastProbe: (status: Int?, at: Date)?
    }

    private let shard: Shard
    private let onChange: (String, Bool) -> Void
    private let onAddressChange: (SocketAddress, Bool) -> Void
    private var states: [String: PeerState] = [:]

    package init(
        shard: Shard, onChange: @escaping (String, Bool) -> Void,
        onAddressChange: @escaping (SocketAddress, Bool) -> Void = { _, _ in }
    ) {
        self.shard = shard
        self.onChange = onChange
        self.onAddressChange = onAddressChange
    }

    /// (Re)starts probing for `site`'s peers. A peer keeps its state across reloads while it stays configured.
    package func start(_ site: Site) {
        for (_, s) in states { s.task?.cancel() }
        var next: [String: PeerState] = [:]
        for peer in site.configuration.peers {
            guard let check = peer.healthCheck else {
                if let old = states[peer.name] {
                    if !old.up { onChange(peer.name, true) }
                    for (a, s) in old.addresses where !s.up { onAddressChange(a, true) }
                }
                continue
            }
            var state = states[peer.name] ?? PeerState()
            // The Request-URI names the peer as configured: its host name where it has one (a provider's SBC may
            // route on it), else the address requests go to.
            let uri = peer.addresses.first.map { "sip:\($0.asConfigured)" }
            state.task = shard.loop.scheduleRepeatedTask(
                initialDelay: .zero, delay: .milliseconds(Int64(check.interval * 1000))
            ) { [unowned self] _ in self.probe(peer.name, uri: uri, check: check) }
            next[peer.name] = state
        }
        states = next
    }

    package func stop() {
        for (_, s) in states { s.task?.cancel() }
    }

    func isUp(_ peer: String) -> Bool { states[peer]?.up ?? true }

    /// Each checked peer's state and last probe, for the status page.
    package func status() -> [String: (up: Bool, lastProbe: (status: Int?, at: Date)?)] {
        states.mapValues { ($0.up, $0.lastProbe) }
    }

    /// One OPTIONS to each of the peer's addresses.
    private func probe(_ peer: String, uri: String?, check: PatchbayConfiguration.HealthCheck) {
        let destinations = shard.allDestinations(of: peer)
        // Addresses DNS no longer gives are forgotten (and no longer count as down).
        if var state = states[peer] {
            let current = Set(destinations.map(\.address))
            for (a, s) in state.addresses where !current.contains(a) {
                state.addresses[a] = nil
                if !s.up { onAddressChange(a, true) }
            }
            states[peer] = state
        }
        for destination in destinations { probe(peer, at: destination, uri: uri, check: check) }
    }

    private func probe(
        _ peer: String, at destination: SIPDestination, uri: String?, check: PatchbayConfiguration.HealthCheck
    ) {
        let target = uri ?? "sip:\(destination.address.ipAddress ?? "invalid"):\(destination.address.port ?? 5060)"
        let options = SIPMessage(
            startLine: .request(method: "OPTIONS", uri: target, version: "SIP/2.0"),
            headers: [
                SIPHeader("Via", shard.via(for: destination)), SIPHeader("Max-Forwards", "70"),
                SIPHeader("From", "<sip:patchbay@\(shard.localHost):\(shard.localPort)>;tag=\(shard.newTag())"),
                SIPHeader("To", "<\(target)>"), SIPHeader("Call-ID", shard.newCallID()),
                SIPHeader("CSeq", "1 OPTIONS"),
                // Where the peer can reach Patchbay: some SBCs answer an OPTIONS without one 400, or not at all.
                SIPHeader("Contact", shard.contact(user: "patchbay", for: destination)),
                SIPHeader("Accept", "application/sdp"),
            ])
        let address = destination.address
        // Whichever comes first decides the probe: a final response, the transaction's failure, or our timeout.
        var decided = false
        let deadline = shard.loop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(check.timeout * 1000))) {
            [weak self] in
            guard !decided else { return }
            decided = true
            self?.states[peer]?.lastProbe = (nil, Date())
            self?.record(peer, address, answered: false, check: check)
        }
        shard.sendRequest(options, to: destination) { [weak self] event in
            guard let self, !decided else { return }
            switch event {
            case .response(let r):
                guard let status = r.statusCode, status >= 200 else { return }
                decided = true
                deadline.cancel()
                self.states[peer]?.lastProbe = (status, Date())
                self.record(peer, address, answered: !check.downOn.contains(status), check: check)
            case .timeout, .transportError:
                decided = true
                deadline.cancel()
                self.states[peer]?.lastProbe = (nil, Date())
                self.record(peer, address, answered: false, check: check)
            }
        }
    }

    private func record(
        _ peer: String, _ address: SocketAddress, answered: Bool, check: PatchbayConfiguration.HealthCheck
    ) {
        guard var s = states[peer] else { return }
        var a = s.addresses[address] ?? AddressState()
        if answered {
            a.successes += 1
            a.failures = 0
            if !a.up, a.successes >= check.upAfter {
                a.up = true
                onAddressChange(address, true)
            }
        } else {
            a.failures += 1
            a.successes = 0
            if a.up, a.failures >= check.downAfter {
                a.up = false
                onAddressChange(address, false)
            }
        }
        s.addresses[address] = a
        let up = s.addresses.values.contains { $0.up }
        if up != s.up {
            s.up = up
            onChange(peer, up)
        }
        states[peer] = s
    }
}
