import Foundation
import PluginAPI
import PluginTestKit

@testable import Routing

/// What every plugin suite shares: the plugins loaded once from the build directory as the host loads them, and
/// the raw fixtures in Tests/Fixtures.
enum PluginTestSupport {
    static let plugins = PluginLoader.load(directory: PluginLoader.defaultDirectory)

    static func fixture(_ name: String) throws -> SIPMessage {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return try AdapterFixtures.message(at: url.appendingPathComponent("Fixtures/\(name)").path)
    }
}
