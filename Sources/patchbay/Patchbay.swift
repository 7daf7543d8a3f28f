import ArgumentParser
import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix
import PluginAPI

@main
struct Patchbay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patchbay",
        abstract: "A plugin-based SIP routing B2BUA: PBXs, PSTN gateways and ITSP trunks, each in its own dialect.",
        subcommands: [
            CheckCommand.self, RouteCommand.self, ProcessCommand.self, PluginsCommand.self, RunCommand.self,
            CallsCommand.self,
        ])
}

func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
