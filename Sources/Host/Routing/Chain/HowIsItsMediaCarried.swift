import PluginAPI

/// Whether each target's call has its media anchored through rtpengine, and what each side gets. Nothing is
/// decided here on the live path (the call asks rtpengine when it tries a target); the step is the chain's record
/// of the media for `--explain`.
package struct HowIsItsMediaCarried: RequestStep {
    package var question: String { "how is its media carried?" }

    package func answer(_ request: inout RequestState, in environment: any RequestEnvironment) -> StepOutcome {
        .proceed
    }

    package func explain(
        _ before: RequestState, _ after: RequestState, _ outcome: StepOutcome, in environment: any RequestEnvironment
    ) -> [RequestProcessor.Step] {
        guard let source = after.peer, !after.targets.isEmpty else { return [] }
        let site = after.site
        return after.targets.map { target in
            let title = "how is the media to \(target) carried?"
            guard site.anchors(source: source, target: target), let engine = site.configuration.rtpengine else {
                return RequestProcessor.Step(
                    title: title, notes: ["passed through: neither \(source) nor \(target) anchors its media"])
            }
            let instances = engine.instances.map { "\($0.name) (\($0.host):\($0.port), weight \($0.weight))" }
            let first = engine.interfaces.first
            func side(_ peer: String) -> String {
                let media = site.callSettings[peer]?.media ?? .init()
                var parts = ["interface \(media.interface ?? first ?? "rtpengine's default")"]
                switch media.srtp {
                case .off?: parts.append("plain RTP (SRTP terminated by rtpengine)")
                case .sdes?: parts.append("SRTP with SDES keys")
                case .dtls?: parts.append("DTLS-SRTP")
                case .optional?: parts.append("RTP with SDES keys offered (opportunistic SRTP)")
                case nil: parts.append("RTP or SRTP as the other side offers")
                }
                switch media.ice {
                case .remove?: parts.append("no ICE")
                case .lite?: parts.append("ICE-lite")
                case .force?: parts.append("full ICE")
                case nil: parts.append("ICE as offered")
                }
                if !media.codecs.isEmpty {
                    parts.append("codecs \(media.codecs.joined(separator: ", ")) only, transcoded where not offered")
                }
                if !media.transcode.isEmpty {
                    parts.append("\(media.transcode.joined(separator: ", ")) added by transcoding")
                }
                if !media.flags.isEmpty { parts.append("flags \(media.flags.joined(separator: ", "))") }
                return "\(peer)'s side: " + parts.joined(separator: "; ")
            }
            let optional = site.mediaRelayIsOptional(source: source, target: target)
            return RequestProcessor.Step(
                title: title,
                notes: [
                    "anchored through rtpengine: \(instances.joined(separator: ", ")); a new call goes to one that is up",
                    side(source), side(target),
                    optional
                        ? "if rtpengine does not answer: the call goes on unanchored, with a warning"
                        : "if rtpengine does not answer: \(target) is not tried (503), the route's next target is",
                ])
        }
    }
}
