// swift-tools-version:6.0
// A Patchbay plugin built outside the Patchbay package, the way a third party would: it depends on PluginAPI only
// and produces libHelloPeer.so to drop into the plugin directory.
import PackageDescription

let package = Package(
    name: "HelloPlugin",
    products: [.library(name: "HelloPeer", type: .dynamic, targets: ["HelloPeer"])],
    dependencies: [.package(path: "../../Sources/PluginAPI")],
    targets: [.target(name: "HelloPeer", dependencies: [.product(name: "PluginAPI", package: "PluginAPI")])]
)
