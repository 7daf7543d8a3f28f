import ArgumentParser
import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix
import PluginAPI
import Routing

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "List the plugins in the plugin directory and what they offer.")

    @Option(help: "Plugin directory (default: the directory of the patchbay executable).") var pluginDir: String?

    func run() throws {
        let dir = pluginDir ?? PluginLoader.defaultDirectory
        let set = PluginLoader.load(directory: dir)
        print("plugin directory: \(dir)")
        for p in set.plugins {
            print("\(p.name) \(p.version)  (plugin API \(p.apiVersion))  \(p.file)")
            for profile in p.profiles {
                print("    \(profile.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(profile.summary)")
            }
        }
        for r in set.refusals { printError("refused \(r)") }
        if set.plugins.isEmpty { throw ExitCode(1) }
    }
}
