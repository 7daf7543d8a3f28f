import PluginAPI
import SIPCore

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
    public static func check(offered: SIPMessage, sent: SIPMessage, peer: String, adapter: (any PeerAdapter)?)
        -> MediaRefusal?
    {
        // m= lines are read from the bodies without looking at Content-Type: only SDP has them at a line start, and
        // a body without any gives nothing to refuse.
        guard !offered.body.isEmpty, !sent.body.isEmpty else { return nil }
        let before = audioPorts(offered.body)
        let after = audioPorts(sent.body)
        // Active audio streams only: other media (-1) neither count as an offer of audio nor keep one alive.
        guard before.contains(where: { $0 > 0 }) else { return nil }
        // Streams are matched by position (RFC 3264 section 6: the answer, and so any rewrite, keeps the m= lines).
        for (i, port) in before.enumerated() where port > 0 && i < after.count && after[i] > 0 { return nil }
        return MediaRefusal(peer: peer, codecs: (adapter as? RuleAdapter)?.rules.codecs)
    }

    /// The port of each `m=` line of an SDP body, in order, with -1 for a media type other than audio. Read on the
    /// bytes: parsing both offers as SDP again cost 32,000 instructions per INVITE (`make bench-callgrind`).
    static func audioPorts(_ body: [UInt8]) -> [Int] {
        body.withUnsafeBufferPointer { b in
            var ports: [Int] = []
            var i = 0
            let n = b.count
            while i < n {
                if i + 2 < n, b[i] == UInt8(ascii: "m"), b[i + 1] == UInt8(ascii: "=") {
                    var j = i + 2
                    let typeStart = j
                    while j < n, b[j] != 0x20, b[j] != 0x0A { j += 1 }
                    let isAudio = asciiEqualsIgnoringCase(UnsafeBufferPointer(rebasing: b[typeStart..<j]), "audio".utf8)
                    while j < n, b[j] == 0x20 { j += 1 }
                    var port = 0
                    while j < n, b[j] >= 0x30, b[j] <= 0x39, port < 1 << 20 {
                        port = port * 10 + Int(b[j] - 0x30)
                        j += 1
                    }
                    ports.append(isAudio ? port : -1)
                }
                // The next line: memchr, not a byte loop over the whole body.
                i = ByteScan.first(0x0A, in: b, i, n).map { $0 + 1 } ?? n
            }
            return ports
        }
    }
}
