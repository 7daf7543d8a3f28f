import PluginAPI

/// A target Patchbay does not send an offer to because its codec policy left nothing to talk with: every audio
/// stream the caller offered was disabled on the way to it (`m=audio 0 RTP/AVP 101`: no codec of the offer is on
/// the peer's list, only telephone-event was left). Sending that offer would only have the target answer 488; the
/// engine moves on to the route's next target instead, and answers the caller 488 with this `Warning` when none is
/// left (RFC 3261 section 20.43, code 305 "Incompatible media format").
public struct MediaRefusal: Sendable, Equatable, CustomStringConvertible {
    public var peer: String
    /// The peer's codec list as its profile or options set it, when the adapter is rule-based.
    public var codecs: [String]?

    public var description: String {
        "codec policy of peer '\(peer)' leaves no audio codec of the offer"
            + (codecs.map { " (it accepts: \($0.joined(separator: ", ")))" } ?? "")
    }

    /// The `Warning` value for the caller's 488.
    public func warning(host: String) -> String {
        "305 \(host) \"Incompatible media format: \(description)\""
    }

    /// Non-nil when `sent` (the request for the target, after its adapter) disables every audio stream that
    /// `offered` (the house request) had active. A request without an offer (delayed offer) is never refused.
    public static func check(offered: SIPMessage, sent: SIPMessage, peer: String, adapter: (any PeerAdapter)?) -> MediaRefusal? {
        guard let before = offered.sdp, let after = sent.sdp else { return nil }
        var activeBefore = 0
        var activeAfter = 0
        for (i, m) in before.media.enumerated() where m.type.lowercased() == "audio" && m.port != 0 {
            activeBefore += 1
            if i < after.media.count, after.media[i].port != 0 { activeAfter += 1 }
        }
        guard activeBefore > 0, activeAfter == 0 else { return nil }
        return MediaRefusal(peer: peer, codecs: (adapter as? RuleAdapter)?.rules.codecs)
    }
}
