import PluginAPI

/// The sending peer's adapter translates the request from the peer's dialect into the house format (E.164
/// numbers, canonical headers, clean SDP), and the peer's internal headers go.
package struct WhatIsItInHouseFormat: RequestStep {
    package var question: String { "what is it in the house format?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        guard let name = request.peer, let inbound = request.site.adapters[name] else {
            return .answer(.init(500, "Server Internal Error"))
        }
        if request.peerEntry == nil { request.peerEntry = request.site.peer(name) }
        guard let internalHeaders = request.peerEntry?.internalHeaderList else {
            return .answer(.init(500, "Server Internal Error"))
        }
        var house = request.message
        request.numberChanges = AdapterPipeline.fromPeer(&house, adapter: inbound, parsed: &request.houseSDP)
        house.removeHeaders(internalHeaders)
        request.house = house
        return .proceed
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard let name = after.peer, let peer = after.site.peer(name), let house = after.house else {
            return record([outcome.summary])
        }
        return record(
            ["inbound adapter \(peer.plugin)/\(peer.profile): \(peer.name) dialect -> house format"]
                + after.numberChanges.map { "number \($0)" }, diff: MessageDiff(from: after.message, to: house))
    }
}
