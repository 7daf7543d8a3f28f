import Foundation
import PluginAPI

/// Everything a configuration puts in force: the configuration, the loaded plugins, one adapter per peer and the
/// route table. Immutable; a reload builds a new one and swaps it in whole.
public struct Site: Sendable {
    public var configuration: PatchbayConfiguration
    public var plugins: PluginSet
    public var adapters: [String: any PeerAdapter]
    public var routes: RouteTable
    /// Server and client TLS contexts, built from the certificate files at load time.
    public var tls = TLSContexts()
    /// What every message relayed to a peer goes through beyond its adapter, by peer name: looked up once per
    /// relayed message, where finding the peer's whole configuration entry copied it. Made by `load` from the
    /// configuration, which is the only way a Site is made.
    public private(set) var egress: [String: Egress] = [:]

    public struct Egress: Sendable {
        public var policy: HeaderPolicy
        public var external: Bool
    }

    /// What a call needs of each peer's entry (`prack`, `session_timer`, `max_call_duration`), by peer name:
    /// looked up several times per call, where `peer(_:)` copies the whole entry each time.
    public private(set) var callSettings: [String: CallSettings] = [:]

    public struct CallSettings: Sendable {
        public var prack: PatchbayConfiguration.PrackPolicy
        public var sessionTimer: PatchbayConfiguration.SessionTimer?
        public var maxCallDuration: Double?
        public var media: PatchbayConfiguration.MediaPolicy
        public var responses: [Int: ResponseMapping]
        public var limits: PatchbayConfiguration.PeerLimits
    }

    package static func callSettings(of configuration: PatchbayConfiguration) -> [String: CallSettings] {
        Dictionary(
            configuration.peers.map {
                (
                    $0.name,
                    CallSettings(
                        prack: $0.prack, sessionTimer: $0.sessionTimer, maxCallDuration: $0.maxCallDuration,
                        media: $0.media, responses: $0.responses, limits: $0.limits)
                )
            },
            uniquingKeysWith: { first, _ in first })
    }

    package static func egress(of configuration: PatchbayConfiguration) -> [String: Egress] {
        Dictionary(
            configuration.peers.map { ($0.name, Egress(policy: $0.headerPolicy, external: $0.kind == .external)) },
            uniquingKeysWith: { first, _ in first })
    }

    public func peer(_ name: String) -> PatchbayConfiguration.Peer? { configuration.peer(named: name) }

    public var failoverCodes: Set<Int> { configuration.failoverCodes }

    /// Whether a call from `source` to `target` has its media anchored: either peer anchors, and rtpengine is
    /// configured.
    package func anchors(source: String, target: String) -> Bool {
        guard configuration.rtpengine != nil else { return false }
        return callSettings[source]?.media.mode == .anchor || callSettings[target]?.media.mode == .anchor
    }

    /// Whether an anchored call from `source` to `target` may go on unanchored when rtpengine does not answer:
    /// every side that anchors says `relay: optional`.
    package func mediaRelayIsOptional(source: String, target: String) -> Bool {
        [source, target].allSatisfy {
            let media = callSettings[$0]?.media
            return media?.mode != .anchor || media?.relay == .optional
        }
    }

    /// Reads `patchbay.yaml`, loads the plugins, makes every peer's adapter and reads the routes. Returns nil
    /// when anything is wrong; every problem found is in `diagnostics`, positioned.
    /// - Parameter plugins: already loaded plugins (plugins load once per process); nil loads the directory the
    ///   configuration names.
    public static func load(
        configurationFile: String, pluginDirectory: String? = nil, plugins: PluginSet? = nil,
        diagnostics: Diagnostics
    ) -> Site? {
        guard let config = PatchbayConfiguration.read(file: configurationFile, diagnostics: diagnostics) else {
            return nil
        }
        let dir = pluginDirectory ?? config.pluginDirectory ?? PluginLoader.defaultDirectory
        let pluginSet = plugins ?? PluginLoader.load(directory: dir)
        var adapters: [String: any PeerAdapter] = [:]
        for peer in config.peers {
            guard let loaded = pluginSet.plugin(named: peer.plugin) else {
                let refusedHere = pluginSet.refusals.map { "\n    refused \($0)" }.joined()
                let known = pluginSet.plugins.map(\.name).joined(separator: ", ")
                diagnostics.error(
                    peer.pluginPosition,
                    "peer '\(peer.name)': no plugin '\(peer.plugin)' in \(dir) (loaded: \(known.isEmpty ? "none" : known))\(refusedHere)"
                )
                continue
            }
            guard loaded.profiles.contains(where: { $0.name == peer.profile }) else {
                let offered = loaded.profiles.map(\.name).joined(separator: ", ")
                diagnostics.error(
                    peer.profilePosition,
                    "peer '\(peer.name)': plugin '\(peer.plugin)' has no profile '\(peer.profile)' (offers: \(offered))"
                )
                continue
            }
            do {
                adapters[peer.name] = try loaded.plugin.makeAdapter(for: peer.adapterConfiguration)
            } catch let e as PeerOptionError {
                let at = e.option.flatMap { peer.optionPositions[$0] } ?? peer.position
                diagnostics.error(at, "peer '\(peer.name)': \(e)")
            } catch {
                diagnostics.error(peer.position, "peer '\(peer.name)': \(peer.plugin) refused the peer: \(error)")
            }
        }
        let routes = RouteTable.read(
            file: config.routesFile, peers: Set(config.peers.map(\.name)), diagnostics: diagnostics)
        guard let routes, !diagnostics.hasErrors else { return nil }
        let tls = TLSContexts(configuration: config, diagnostics: diagnostics)
        for w in tls.warnings {
            diagnostics.warning(
                config.peers.first?.position ?? SourcePosition(file: configurationFile, line: 1, column: 1), w)
        }
        guard !diagnostics.hasErrors else { return nil }
        var site = Site(configuration: config, plugins: pluginSet, adapters: adapters, routes: routes)
        site.tls = tls
        site.egress = Self.egress(of: config)
        site.callSettings = Self.callSettings(of: config)
        return site
    }
}
