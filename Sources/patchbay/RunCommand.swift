import ArgumentParser
import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix
import Operations
import PluginAPI
import Records
import Routing

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the SIP engine: UDP listeners, transactions, B2BUA calls, live reload on edit or SIGHUP.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Option(help: "Event loops (default: one per core).") var threads: Int?
    @Option(
        help:
            "Seconds calls in progress may go on after SIGTERM (default: drain_timeout from the configuration, else 30)."
    )
    var drainTimeout: Double?

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "patchbay")
        let site = try options.loadSite()
        let engine = Engine(site: site, threads: threads ?? System.coreCount, logger: logger)
        // A store that cannot be opened is logged and Patchbay runs without records (call_records applies at start).
        let records = CallRecordStore.open(site.configuration.callRecords, logger: logger)
        engine.recordSink = records
        // Reload handling is in place before "listening" is logged, so a SIGHUP from a supervisor that waits for
        // that line can never hit the default action (terminate).
        let reloader = Reloader(engine: engine, site: site, configurationFile: options.config, logger: logger)
        reloader.start()
        try await engine.start()
        var operations: OperationsServer?
        if let http = site.configuration.http {
            let api = OperationsAPI(engine: engine, reloader: reloader, token: http.token)
            operations = try await OperationsServer.start(
                host: http.host, port: http.port, group: engine.group, api: api, logger: logger)
            logger.notice(
                "operations listening",
                metadata: [
                    "http": "\(http.host):\(operations?.port ?? 0)",
                    "token": "\(http.token == nil ? "none" : "required")",
                ])
        }
        // SIGTERM or SIGINT drains: new calls are refused with 503, calls in progress finish (up to the drain time),
        // then Patchbay exits. A second signal during the drain stops at once.
        // The handlers run on the main queue, one at a time, so the count needs no lock. Only the first signal
        // goes to the stream; later ones cut the drain short directly (a second iterator over the same stream is
        // not reliably woken).
        let received = SignalCount()
        let signals = AsyncStream<Int32> { continuation in
            for sig in [SIGTERM, SIGINT] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
                source.setEventHandler {
                    received.count += 1
                    if received.count == 1 { continuation.yield(sig) } else { engine.abandonDrain() }
                }
                source.resume()
                signalSources.append(source)
            }
        }
        var iterator = signals.makeAsyncIterator()
        guard let sig = await iterator.next() else { return }
        let counters = await engine.counters
        let drainSeconds = drainTimeout ?? engine.currentSite.configuration.drainSeconds
        logger.notice(
            "draining",
            metadata: [
                "signal": "\(sig)", "active_calls": "\(counters.activeCalls)", "drain_timeout_s": "\(drainSeconds)",
                "unknown_source_requests": "\(counters.unknownSourceRequests)",
                "rate_limited": "\(counters.rateLimitedFromPeers + counters.rateLimitedFromUnknown)",
                "overload_rejections": "\(counters.overloadRejections)",
            ])
        reloader.stop()
        let ended = await engine.drain(timeout: drainSeconds) { active in
            logger.info("waiting for calls to end", metadata: ["active_calls": "\(active)"])
        }
        if engine.drainAbandoned {
            logger.warning("second signal: stopping without waiting for calls")
        } else {
            logger.notice("stopping", metadata: ["calls_ended_at_drain_timeout": "\(ended)"])
        }
        await operations?.close()
        await engine.stop()
        await records?.close()
    }
}

/// How many stop signals arrived; touched only by the signal handlers on the main queue.
final class SignalCount: @unchecked Sendable {
    var count = 0
}

/// Kept alive for the process's lifetime.
nonisolated(unsafe) var signalSources: [any DispatchSourceSignal] = []
