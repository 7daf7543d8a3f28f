import ArgumentParser
import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix
import PluginAPI
import Routing

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
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
