import PluginAPI
import SIPCore

extension PatchbayConfiguration {
    /// The rtpengine instances calls are anchored through, and the media interfaces they were started with
    /// (`--interface=NAME/IP[!ADVERTISED]`): a peer's `media.interface` must be one of them.
    public struct RtpEngine: Sendable, Equatable {
        public struct Instance: Sendable, Equatable {
            public var name: String
            public var host: String
            public var port: Int
            public var weight = 1
        }

        public var instances: [Instance] = []
        public var interfaces: [String] = []
        /// Seconds between `ping`s to each instance.
        public var pingInterval: Double = 5
        /// Where rtpengine sends its DTMF events (its `--dtmf-log-dest`): Patchbay listens there, for peers with
        /// `dtmf: info`.
        public var dtmfEvents: PeerAddress?
    }

    /// How a peer's media is carried. `pass` leaves the SDP to the adapters (the peers exchange media directly);
    /// `anchor` puts rtpengine in the path of every call with this peer, and the other settings say what the peer
    /// gets on its side.
    public struct MediaPolicy: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable { case pass, anchor }
        /// What the peer's leg carries: what is offered to it, and what its offers are bridged to.
        public enum SRTP: String, Sendable, CaseIterable {
            /// Plain RTP (`RTP/AVP`); the other leg's SRTP is terminated by rtpengine.
            case off
            /// SRTP with SDES keys in the SDP (`RTP/SAVP`, `a=crypto`).
            case sdes
            /// DTLS-SRTP (`UDP/TLS/RTP/SAVP`, `a=fingerprint`).
            case dtls
            /// RTP with SDES keys offered as well (opportunistic SRTP, RFC 8643): the peer may take either.
            case optional
        }
        public enum ICE: String, Sendable, CaseIterable {
            /// No ICE attributes towards the peer (most gateways and trunks).
            case remove
            /// rtpengine as an ICE-lite agent towards the peer (Teams Direct Routing's media bypass).
            case lite
            /// Full ICE with rtpengine's candidates.
            case force
        }
        public enum DTMF: String, Sendable, CaseIterable {
            /// RFC 4733 telephone-events in RTP.
            case rfc2833
            /// SIP INFO (`application/dtmf-relay`).
            case info
            /// Tones in the audio.
            case inband
        }
        /// An anchored call whose rtpengine does not answer: `required` fails it (503, or the route's next
        /// target), `optional` goes on with the media unanchored and a warning.
        public enum Relay: String, Sendable, CaseIterable { case required, optional }

        public var mode = Mode.pass
        /// rtpengine's interface on the peer's side; nil: rtpengine's first.
        public var interface: String?
        /// nil: what the other leg offered.
        public var srtp: SRTP?
        /// nil: rtpengine's default (ICE passed through as offered).
        public var ice: ICE?
        /// The codecs the peer accepts, in order: offers to it carry only these, transcoded where the other leg
        /// offered none of them. Empty: whatever was offered.
        public var codecs: [String] = []
        /// Codecs added to offers to the peer, transcoded, beside what was offered.
        public var transcode: [String] = []
        public var dtmf = DTMF.rfc2833
        public var relay = Relay.required
        /// Extra rtpengine flags for this peer's side (`SDES-pad`, `strict-source`, ...).
        public var flags: [String] = []
        public var position: SourcePosition?
        public var interfacePosition: SourcePosition?

        public init() {}
    }

    static func readRtpEngine(_ map: YAMLMap, diagnostics: Diagnostics) -> RtpEngine {
        var m = map
        var engine = RtpEngine()
        let listed = m.list("instances") ?? []
        for n in listed {
            guard var i = YAMLMap(n, file: m.file, what: "rtpengine instance", diagnostics: diagnostics) else {
                continue
            }
            let name = i.string("name", required: true)
            let address = i.string("address", required: true)
            let weight = i.int("weight", range: 1...1000) ?? 1
            let addressPosition = i.keyPosition("address")
            i.rejectUnknownKeys()
            guard let name, let address else { continue }
            guard let parsed = parseAddress(address), address.contains(":") else {
                diagnostics.error(addressPosition, "rtpengine address '\(address)' must be HOST:PORT (its --listen-ng)")
                continue
            }
            if engine.instances.contains(where: { $0.name == name }) {
                diagnostics.error(i.position, "rtpengine instance '\(name)' is defined twice")
                continue
            }
            engine.instances.append(.init(name: name, host: parsed.host, port: parsed.port, weight: weight))
        }
        if listed.isEmpty {
            diagnostics.error(m.position, "'rtpengine' needs at least one entry in 'instances'")
        }
        engine.interfaces = (m.strings("interfaces") ?? []).map(\.0)
        engine.pingInterval = m.seconds("ping_interval", range: 0.1...3600) ?? engine.pingInterval
        if let events = m.string("dtmf_events") {
            if let parsed = parseAddress(events), events.contains(":") {
                engine.dtmfEvents = parsed
            } else {
                diagnostics.error(
                    m.keyPosition("dtmf_events"),
                    "'dtmf_events' '\(events)' must be HOST:PORT (rtpengine's --dtmf-log-dest)")
            }
        }
        m.rejectUnknownKeys()
        return engine
    }

    static func readMedia(_ map: YAMLMap, diagnostics: Diagnostics) -> MediaPolicy {
        var m = map
        var media = MediaPolicy()
        media.position = m.position
        media.mode = m.choice("mode", MediaPolicy.Mode.self) ?? .pass
        media.interface = m.string("interface")
        media.interfacePosition = m.keyPosition("interface")
        media.srtp = m.choice("srtp", MediaPolicy.SRTP.self)
        media.ice = m.choice("ice", MediaPolicy.ICE.self)
        media.codecs = (m.strings("codecs") ?? []).map(\.0)
        media.transcode = (m.strings("transcode") ?? []).map(\.0)
        media.dtmf = m.choice("dtmf", MediaPolicy.DTMF.self) ?? .rfc2833
        media.relay = m.choice("relay", MediaPolicy.Relay.self) ?? .required
        media.flags = (m.strings("flags") ?? []).map(\.0)
        for (codec, position) in (m.strings("codecs") ?? []) + (m.strings("transcode") ?? [])
        where codec.isEmpty || codec.contains(" ") || codec.hasPrefix("/") {
            diagnostics.error(position, "'\(codec)' is not a codec name (PCMA, G722, opus/48000/2, ...)")
        }
        let settings = ["interface", "srtp", "ice", "codecs", "transcode", "dtmf", "relay", "flags"]
        if media.mode == .pass, let key = settings.first(where: { m.has($0) }) {
            diagnostics.error(m.keyPosition(key), "'\(key)' needs 'mode: anchor': media passed through is not touched")
        }
        m.rejectUnknownKeys()
        return media
    }

    /// What a configuration's media settings must agree on: an anchoring peer needs rtpengine, and a peer's
    /// interface must be one rtpengine was started with.
    static func checkMedia(peers: [Peer], rtpengine: RtpEngine?, diagnostics: Diagnostics) {
        for peer in peers where peer.media.mode == .anchor {
            guard let rtpengine else {
                diagnostics.error(
                    peer.media.position ?? peer.position,
                    "peer '\(peer.name)' anchors its media, but no 'rtpengine' instances are configured")
                continue
            }
            if let name = peer.media.interface, !rtpengine.interfaces.contains(name) {
                let known =
                    rtpengine.interfaces.isEmpty ? "none declared" : rtpengine.interfaces.joined(separator: ", ")
                let hint = YAMLMap.nearest(name, in: rtpengine.interfaces).map { " (did you mean '\($0)'?)" } ?? ""
                diagnostics.error(
                    peer.media.interfacePosition ?? peer.position,
                    "peer '\(peer.name)': no rtpengine interface '\(name)' (rtpengine 'interfaces': \(known))\(hint)")
            }
        }
    }
}
