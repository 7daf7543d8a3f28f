import Foundation
import Logging
import Routing
import SIPCore

/// Puts an edited configuration or routes file in force without a restart: on SIGHUP, and when either file's
/// modification time changes (polled once a second: cheap, and it survives editors that replace the file rather
/// than write into it). A file with errors is refused with the same positioned messages as `patchbay check`, and
/// the table in force stays.
public final class Reloader: @unchecked Sendable {
    // @unchecked: all state is touched only on `queue`.
    private let engine: Engine
    private let configurationFile: String
    private let logger: Logger
    private let queue = DispatchQueue(label: "patchbay.reload")
    private var site: Site
    private var stamps: [String: Date] = [:]
    private var timer: (any DispatchSourceTimer)?
    private var signalSource: (any DispatchSourceSignal)?
    public private(set) var reloads = 0
    public private(set) var rejected = 0
    /// The last reload attempt and its result, for the status page and the API.
    private var lastReload: EngineStatus.Reload?

    public init(engine: Engine, site: Site, configurationFile: String, logger: Logger) {
        self.engine = engine
        self.site = site
        self.configurationFile = configurationFile
        self.logger = logger
    }

    public func start() {
        queue.sync { stamps = currentStamps() }
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        source.setEventHandler { [unowned self] in self.reload(reason: "SIGHUP") }
        source.resume()
        signalSource = source
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + 1, repeating: 1)
        t.setEventHandler { [unowned self] in
            let now = self.currentStamps()
            if now != self.stamps {
                self.stamps = now
                self.reload(reason: "file changed")
            }
        }
        t.resume()
        timer = t
    }

    public func stop() {
        timer?.cancel()
        signalSource?.cancel()
    }

    private func currentStamps() -> [String: Date] {
        var out: [String: Date] = [:]
        // Certificates and keys too: a renewed certificate dropped in place is put in force like an edited table.
        for f in [configurationFile, site.configuration.routesFile] + TLSContexts.files(of: site.configuration) {
            out[f] = (try? FileManager.default.attributesOfItem(atPath: f))?[.modificationDate] as? Date
        }
        return out
    }

    /// Plugins stay as loaded at start (they are never unloaded); everything else is read again.
    /// Reloads now (the management API's POST /api/reload) and returns the result: the same validation and the
    /// same positioned errors as `patchbay check`.
    public func reloadNow(reason: String) -> EngineStatus.Reload {
        queue.sync {
            stamps = currentStamps()
            reload(reason: reason)
            return lastReload!
        }
    }

    public var lastReloadResult: EngineStatus.Reload? { queue.sync { lastReload } }

    private func reload(reason: String) {
        let diagnostics = Diagnostics()
        let new = Site.load(configurationFile: configurationFile, plugins: site.plugins, diagnostics: diagnostics)
        for w in diagnostics.warnings { logger.warning("\(w)") }
        guard let new else {
            rejected += 1
            for e in diagnostics.errors { logger.error("reload rejected: \(e)") }
            logger.error(
                "reload rejected (\(reason)): the routes in force stay",
                metadata: ["routes": "\(site.routes.routes.count)"])
            lastReload = EngineStatus.Reload(
                at: Date(), ok: false, reason: reason, errors: diagnostics.errors.map(\.description))
            engine.metrics.reload(ok: false)
            return
        }
        if new.configuration.listeners != site.configuration.listeners {
            logger.warning("listener changes take effect on restart")
        }
        let failures = RouteTestRunner(site: new).run()
        for f in failures { logger.warning("\(f)") }
        site = new
        engine.install(new)
        reloads += 1
        lastReload = EngineStatus.Reload(at: Date(), ok: true, reason: reason, errors: [])
        engine.metrics.reload(ok: true)
        logger.info(
            "reloaded (\(reason))",
            metadata: ["routes": "\(new.routes.routes.count)", "peers": "\(new.configuration.peers.count)"])
    }
}
