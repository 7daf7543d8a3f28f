import ArgumentParser
import Foundation
import Host
import Logging
import NIOCore
import NIOPosix
import PluginAPI

@main
struct Patchbay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patchbay",
        abstract: "A plugin-based SIP routing B2BUA: PBXs, PSTN gateways and ITSP trunks, each in its own dialect.",
        subcommands: [Check.self, Route.self, Process.self, Plugins.self, Run.self, Calls.self])
}

struct ConfigOptions: ParsableArguments {
    @Argument(help: "The patchbay.yaml to use.")
    var config: String = "patchbay.yaml"

    @Option(help: "Plugin directory (overrides plugin_dir in the configuration).")
    var pluginDir: String?

    /// Loads the site or prints every positioned diagnostic and exits 1.
    func loadSite() throws -> Site {
        let diagnostics = Diagnostics()
        let site = Site.load(configurationFile: config, pluginDirectory: pluginDir, diagnostics: diagnostics)
        for d in diagnostics.items { printError(d.description) }
        guard let site else { throw ExitCode(1) }
        return site
    }
}

func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration, the routes, every peer's plugin options, and run the route tests.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let site = try options.loadSite()
        let failures = RouteTestRunner(site: site).run()
        for f in failures { printError(f.description) }
        let total = site.routes.tests.count
        print(
            "\(site.configuration.file): \(site.configuration.peers.count) peers, \(site.routes.routes.count) routes; "
                + "route tests: \(total - failures.count) passed, \(failures.count) failed")
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

struct Route: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry-run a call: inbound adapter, routing table, and each target's outbound adapter.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "The peer the call comes from.") var from: String
    @Option(help: "The called number, as that peer sends it.") var to: String
    @Option(help: "The calling number, as that peer sends it.") var caller: String?
    @Flag(help: "Show every step's changes: numbers, headers, SDP.") var explain = false

    func run() throws {
        let site = try options.loadSite()
        guard let peer = site.peer(from) else {
            printError("unknown peer '\(from)' (configured: \(site.configuration.peers.map(\.name).joined(separator: ", ")))")
            throw ExitCode(1)
        }
        let invite = SyntheticCall.invite(from: peer, to: to, caller: caller, callID: "dry-run")
        let result = try RequestProcessor(site: site).process(invite, from: from)
        print(Report.render(result, explain: explain))
    }
}

struct Process: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a raw SIP message through the engine's path and print the message Patchbay would send.",
        discussion: """
            An initial INVITE from --from: the INVITE its first target receives, with Patchbay's own Via, Contact \
            and From host. A response from --from (a target) to the caller peer --to: the response the caller \
            receives (adapters and header policy only; the Via, From, To, Call-ID and CSeq are a synthetic \
            caller's). Call-ID, tags and branch are placeholders; everything else is what the engine sends.
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "The peer the message comes from.") var from: String
    @Option(help: "For a response: the caller's peer, which receives it.") var to: String?
    @Argument(help: "A file holding one raw SIP message: an initial INVITE or a response.") var file: String
    @Flag(help: "Also show every step's changes.") var explain = false

    func run() throws {
        let site = try options.loadSite()
        guard let bytes = FileManager.default.contents(atPath: file) else {
            printError("\(file): cannot read")
            throw ExitCode(1)
        }
        let message: SIPMessage
        do {
            message = try SIPParser().parse(Array(bytes))
        } catch let e as SIPParseError {
            printError("\(file): not a valid SIP message: \(e.reason)" + (e.responseStatus.map { " (a peer would get \($0))" } ?? ""))
            throw ExitCode(1)
        }
        for peer in [from] + (to.map { [$0] } ?? []) where site.peer(peer) == nil {
            printError("unknown peer '\(peer)' (configured: \(site.configuration.peers.map(\.name).joined(separator: ", ")))")
            throw ExitCode(1)
        }
        guard message.isRequest else {
            guard let to else {
                printError("\(file) is a response: name the caller's peer that receives it with --to")
                throw ExitCode(1)
            }
            print(OfflineMessage.response(message, from: from, to: to, site: site).text, terminator: "")
            return
        }
        let processed: (result: RequestProcessor.Result, sent: SIPMessage?)
        do {
            processed = try OfflineMessage.request(message, from: from, site: site, explain: explain)
        } catch let e as OfflineMessage.ProcessingError {
            printError("\(file): \(e)")
            throw ExitCode(1)
        }
        if explain { print(Report.render(processed.result, explain: true)) }
        if let sent = processed.sent {
            print(sent.text, terminator: "")
        } else if case .rejected(_, let status, let reason) = processed.result.outcome {
            print("SIP/2.0 \(status) \(reason) (no message leaves: the caller gets this answer)")
        }
    }
}

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the plugins in the plugin directory and what they offer.")

    @Option(help: "Plugin directory (default: the directory of the patchbay executable).") var pluginDir: String?

    func run() throws {
        let dir = pluginDir ?? PluginLoader.defaultDirectory
        let set = PluginLoader.load(directory: dir)
        print("plugin directory: \(dir)")
        for p in set.plugins {
            print("\(p.name) \(p.version)  (plugin API \(p.apiVersion))  \(p.file)")
            for profile in p.profiles { print("    \(profile.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(profile.summary)") }
        }
        for r in set.refusals { printError("refused \(r)") }
        if set.plugins.isEmpty { throw ExitCode(1) }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the SIP engine: UDP listeners, transactions, B2BUA calls, live reload on edit or SIGHUP.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Option(help: "Event loops (default: one per core).") var threads: Int?
    @Option(help: "Seconds calls in progress may go on after SIGTERM (default: drain_timeout from the configuration, else 30).")
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
            operations = try await OperationsServer.start(host: http.host, port: http.port, group: engine.group, api: api, logger: logger)
            logger.notice(
                "operations listening", metadata: ["http": "\(http.host):\(operations?.port ?? 0)", "token": "\(http.token == nil ? "none" : "required")"])
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
