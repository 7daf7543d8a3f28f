import ArgumentParser
import Calls
import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix
import Operations
import PluginAPI
import Records
import Routing
import SIPCore

struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
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
            printError(
                "\(file): not a valid SIP message: \(e.reason)"
                    + (e.responseStatus.map { " (a peer would get \($0))" } ?? ""))
            throw ExitCode(1)
        }
        for peer in [from] + (to.map { [$0] } ?? []) where site.peer(peer) == nil {
            printError(
                "unknown peer '\(peer)' (configured: \(site.configuration.peers.map(\.name).joined(separator: ", ")))")
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
            processed = try OfflineMessage.request(message, from: from, site: site)
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
