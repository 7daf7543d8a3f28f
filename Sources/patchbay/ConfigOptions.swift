import ArgumentParser
import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix
import PluginAPI
import Routing

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
