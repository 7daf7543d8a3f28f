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

struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Dry-run a call: inbound adapter, routing table, and each target's outbound adapter.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "The peer the call comes from.") var from: String
    @Option(help: "The called number, as that peer sends it.") var to: String
    @Option(help: "The calling number, as that peer sends it.") var caller: String?
    @Flag(help: "Show every step's changes: numbers, headers, SDP.") var explain = false

    func run() throws {
        let site = try options.loadSite()
        guard let peer = site.peer(from) else {
            printError(
                "unknown peer '\(from)' (configured: \(site.configuration.peers.map(\.name).joined(separator: ", ")))")
            throw ExitCode(1)
        }
        let invite = SyntheticCall.invite(from: peer, to: to, caller: caller, callID: "dry-run")
        let result = try RequestProcessor(site: site).process(invite, from: from)
        print(Report.render(result, explain: explain))
    }
}
