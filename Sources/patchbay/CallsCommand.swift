import ArgumentParser
import Engine
import Foundation
import Operations
import Records
import Routing
import SIPCore

struct CallsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "Show call records: one line per call (or JSON), newest last.",
        discussion: """
            Reads the call records file named by call_records in the configuration, read-only, so it can run while \
            `patchbay run` writes it. A call matches --peer when the peer was its source, its answering target, or \
            any target tried.
            """)

    @Argument(help: "The patchbay.yaml to use.")
    var config: String = "patchbay.yaml"
    @Option(help: "Only calls set up since: a span back from now (90s, 30m, 1h, 2d, 1w) or an ISO 8601 time.")
    var since: String?
    @Option(help: "Only calls from, to or tried at this peer.") var peer: String?
    @Flag(help: "Only calls that were never answered.") var failed = false
    @Option(help: "At most this many calls (the most recent).") var limit = 100
    @Flag(help: "Print a JSON array with every field and every attempt.") var json = false

    func validate() throws {
        if let since, CallRecord.parseSince(since) == nil {
            throw ValidationError("--since '\(since)': expected 90s, 30m, 1h, 2d, 1w or an ISO 8601 time")
        }
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        // Only the configuration is read: querying records needs neither the plugins nor the routes.
        let diagnostics = Diagnostics()
        let configuration = PatchbayConfiguration.read(file: config, diagnostics: diagnostics)
        for d in diagnostics.items { printError(d.description) }
        guard let configuration else { throw ExitCode(1) }
        let settings = configuration.callRecords
        let records: [CallRecord]
        do {
            let store = try CallRecordStore(readOnlyAt: settings.path)
            records = try store.calls(
                since: since.flatMap { CallRecord.parseSince($0) }, peer: peer, failedOnly: failed, limit: limit)
        } catch {
            printError("\(error)" + (settings.enabled ? "" : " (call_records is disabled in \(config))"))
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(records.map(\.reportJSON))
            print(String(decoding: data, as: UTF8.self))
        } else {
            for r in records { print(r.reportLine) }
        }
    }
}
