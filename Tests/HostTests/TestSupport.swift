import Foundation
import PluginAPI
import Synchronization

@testable import Engine
@testable import Operations
@testable import Records
@testable import Routing
@testable import SIPCore

/// Paths and helpers shared by the host tests.
enum TestSupport {
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func path(_ relative: String) -> String { (repoRoot as NSString).appendingPathComponent(relative) }

    /// Where `swift build` put the plugin libraries and the patchbay executable: the test bundle's own directory.
    static var buildDirectory: String { PluginLoader.defaultDirectory }

    /// Plugins load once per process (they are never unloaded), so every test shares this set.
    static let builtPlugins: PluginSet = PluginLoader.load(directory: buildDirectory)

    /// A new directory under the system's temporary directory, removed with everything in it when the test process
    /// exits, so that test runs do not pile up in /tmp.
    static func temporaryDirectory(suffix: String = "") throws -> String {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent(
            "patchbay-test-\(UUID().uuidString)\(suffix)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        TemporaryDirectories.add(dir)
        return dir
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Runs a program to completion and returns its exit status and combined output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], cwd: String? = nil) throws -> (
        status: Int32, output: String
    ) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func loadSite(_ config: String, diagnostics: Diagnostics = Diagnostics()) -> Site? {
        Site.load(configurationFile: config, plugins: builtPlugins, diagnostics: diagnostics)
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        let path = self.path("Tests/Fixtures/\(name)")
        guard let data = FileManager.default.contents(atPath: path) else { throw CocoaError(.fileNoSuchFile) }
        return Array(data)
    }
}

/// The directories `TestSupport.temporaryDirectory` made, for removal at exit. (Swift Testing has no hook after the
/// last test; `atexit` runs when the test process ends normally, after every test and the processes they started.)
enum TemporaryDirectories {
    private static let paths = Mutex<[String]>([])
    private static let registered = Mutex(false)

    static func add(_ path: String) {
        paths.withLock { $0.append(path) }
        let first = registered.withLock { done in
            defer { done = true }
            return !done
        }
        if first { atexit { TemporaryDirectories.removeAll() } }
    }

    private static func removeAll() {
        for path in paths.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
