// What the benchmark executables share: the messages in Benchmarks/Messages and the load bench's site
// (Examples/bench), found from this file's path so the executables run from any directory.
import Foundation
import Routing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The bytes of Benchmarks/Messages/NAME.
public func benchMessage(_ name: String) -> [UInt8] {
    let url = root.appendingPathComponent("Benchmarks/Messages/\(name)")
    guard let data = FileManager.default.contents(atPath: url.path) else { fatalError("missing \(url.path)") }
    return Array(data)
}

/// Examples/bench/patchbay.yaml, loaded with its plugins.
public func loadBenchSite() -> Site {
    let diagnostics = Diagnostics()
    let file = root.appendingPathComponent("Examples/bench/patchbay.yaml").path
    guard let site = Site.load(configurationFile: file, diagnostics: diagnostics) else {
        fatalError("cannot load \(file): \(diagnostics.errors.map(\.description).joined(separator: "\n"))")
    }
    return site
}
