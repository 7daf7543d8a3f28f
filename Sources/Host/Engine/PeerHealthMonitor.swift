import Foundation
import Logging
import NIOCore
import PluginAPI
import Routing

/// Sends OPTIONS to every peer that has a `health_check`, counts answers and failures, and reports a peer down
/// after `down_after` failures in a row and up again after `up_after` answers in a row. Runs on one shard's loop
/// (its probes go through that shard's transactions); the engine passes each change to every shard.
final class PeerHealthMonitor: @unchecked Sendable {
    // @unchecked: used only on its shard's loop (the repeated task runs there too).
    private struct PeerState {
        var up = true
        var failures = 0
        var successes = 0
        var task: RepeatedTask?
        var lastProbe: (status: Int?, at: Date)?
    }

    private let shard: Shard
    private let onChange: (String, Bool) -> Void
    private var states: [String: PeerState] = [:]

    package init(shard: Shard, onChange: @escaping (String, Bool) -> Void) {
        self.shard = shard
        self.onChange = onChange
    }

    /// (Re)starts probing for `site`'s peers. A peer keeps its state across reloads while it stays configured.
    package func start(_ site: Site) {
        for (_, s) in states { s.task?.cancel() }
        var next: [String: PeerState] = [:]
        for peer in site.configuration.peers {
            guard let check = peer.healthCheck else {
                if states[peer.name]?.up == false { onChange(peer.name, true) }
                continue
            }
            var state = states[peer.name] ?? PeerState()
            // The Request-URI names the peer as configured: its host name where it has one (a provider's SBC may
            // route on it), else the address requests go to.
            let host = peer.addresses.first.map { "sip:\($0.description)" }
            state.task = shard.loop.scheduleRepeatedTask(
                initialDelay: .zero, delay: .milliseconds(Int64(check.interval * 1000))
            ) { [unowned self] _ in self.probe(peer.name, uri: host, check: check) }
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

    private func probe(_ peer: String, uri: String?, check: PatchbayConfiguration.HealthCheck) {
        guard let destination = shard.address(of: peer) else { return }
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
        // Whichever comes first decides the probe: a final response, the transaction's failure, or our timeout.
        var decided = false
        let deadline = shard.loop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(check.timeout * 1000))) {
            [weak self] in
            guard !decided else { return }
            decided = true
            self?.states[peer]?.lastProbe = (nil, Date())
            self?.record(peer, answered: false, check: check)
        }
        shard.sendRequest(options, to: destination) { [weak self] event in
            guard let self, !decided else { return }
            switch event {
            case .response(let r):
                guard let status = r.statusCode, status >= 200 else { return }
                decided = true
                deadline.cancel()
                self.states[peer]?.lastProbe = (status, Date())
                self.record(peer, answered: !check.downOn.contains(status), check: check)
            case .timeout, .transportError:
                decided = true
                deadline.cancel()
                self.states[peer]?.lastProbe = (nil, Date())
                self.record(peer, answered: false, check: check)
            }
        }
    }

    private func record(_ peer: String, answered: Bool, check: PatchbayConfiguration.HealthCheck) {
        guard var s = states[peer] else { return }
        if answered {
            s.successes += 1
            s.failures = 0
            if !s.up, s.successes >= check.upAfter {
                s.up = true
                onChange(peer, true)
            }
        } else {
            s.failures += 1
            s.successes = 0
            if s.up, s.failures >= check.downAfter {
                s.up = false
                onChange(peer, false)
            }
        }
        states[peer] = s
    }
}
