import PluginAPI

/// Each target's request: the house-format request addressed to the target, through its header policy and its
/// adapter (`RequestProcessor.leg`). The offline commands build them all here; the engine builds a target's
/// request only when it tries that target, since most calls never fail over.
package struct WhatDoesEachTargetReceive: RequestStep {
    package var question: String { "what does each target receive?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        guard request.everyTargetsRequest, let house = request.house else { return .toTargets }
        let processor = RequestProcessor(site: request.site)
        request.legs = request.targets.compactMap { processor.leg(for: $0, house: house, parsed: request.houseSDP) }
        return .toTargets
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard let house = after.house, !after.legs.isEmpty else {
            return record(["each target's request is made when that target is tried"])
        }
        return after.legs.compactMap { leg in
            guard let peer = after.site.peer(leg.peer) else { return nil }
            let policy =
                "header policy: \(peer.headerPolicy.summary)"
                + (leg.headersDropped.isEmpty ? "" : "; dropped: " + leg.headersDropped.joined(separator: ", "))
            let refusal = leg.mediaRefusal.map { ["not sent: \($0); the next target is tried, or the caller gets 488"] }
            return RequestProcessor.Step(
                title: "what does \(leg.peer) receive?",
                notes: ["outbound adapter \(peer.plugin)/\(peer.profile): house format -> \(leg.peer) dialect"]
                    + leg.numberChanges.map { "number \($0)" } + [policy, Self.whereItGoes(peer)] + (refusal ?? []),
                diff: MessageDiff(from: house, to: leg.message))
        }
    }

    /// Where the request is sent: the configured address, or how DNS finds the servers (RFC 3263), and the order
    /// of failover among them.
    static func whereItGoes(_ peer: PatchbayConfiguration.Peer) -> String {
        let each = peer.addresses.map { a -> String in
            guard a.isHostName else { return "\(a)" }
            let how =
                a.portGiven
                ? "A/AAAA" : peer.transportGiven ? "SRV \(peer.transport.srvPrefix), A/AAAA" : "NAPTR, SRV, A/AAAA"
            return "\(a.asConfigured) (found by DNS at run time: \(how))"
        }
        guard each.count > 1 || peer.addresses.contains(where: \.isHostName) else { return "sent to \(each[0])" }
        return "sent to " + each.joined(separator: ", then ")
            + "; each server in turn on 503, 408, no answer or a transport error, before the route's next target"
    }
}
