// swift-tools-version:6.0
// PluginAPI is its own package so that SwiftPM builds it once, as a dynamic library that the host and every
// plugin link. A target of the root package would be copied statically into each image, each copy with its own
// type metadata, and `as? PeerAdapter` would fail across the plugin boundary.
import PackageDescription

let package = Package(
    name: "PluginAPI",
    products: [
        .library(name: "PluginAPI", type: .dynamic, targets: ["PluginAPI"]),
        // Helpers for plugin authors' tests (fixtures in, expectation out), linked only by test targets.
        .library(name: "PluginTestKit", targets: ["PluginTestKit"]),
    ],
    dependencies: [],
    targets: [
        .target(name: "PluginAPI", path: "Sources/PluginAPI"),
        .target(name: "PluginTestKit", dependencies: ["PluginAPI"], path: "Sources/PluginTestKit"),
        .testTarget(
            name: "PluginAPITests", dependencies: ["PluginAPI", "PluginTestKit"], path: "Tests/PluginAPITests"),
    ]
)
