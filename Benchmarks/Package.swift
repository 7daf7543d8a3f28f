// swift-tools-version:6.1
// Micro-benchmarks of Patchbay's per-message hot path (ordo-one/benchmark), a package of its own so the root
// package does not depend on the benchmark tooling. Run from the project root: `make bench-micro`, or
//   swift package --package-path Benchmarks benchmark --target HotPath
import PackageDescription

// The root package by path; SwiftPM names a path dependency after its directory, whatever the checkout is called.
let root = Context.packageDirectory.split(separator: "/").dropLast().last.map { String($0).lowercased() } ?? "patchbay"

let package = Package(
    name: "PatchbayBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(path: ".."),
        .package(path: "../Sources/PluginAPI"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        // The messages and the site both executables use.
        .target(
            name: "BenchFixtures",
            dependencies: [.product(name: "Host", package: root)],
            path: "BenchFixtures"
        ),
        // parse -> classify -> inbound adapter -> route -> outbound adapter -> serialise for an INVITE with a
        // five-codec offer, a 200 OK with SDP and a BYE (Messages/*.sip), beside libosip2's parse + serialise
        // of the same bytes as the floor. The plugins are dependencies so their libraries are built beside the
        // benchmark executable, where the plugin loader looks.
        .executableTarget(
            name: "HotPath",
            dependencies: [
                "BenchFixtures",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Host", package: root), .product(name: "Harness", package: root),
                .product(name: "PluginAPI", package: "PluginAPI"),
                .product(name: "IPPBX", package: root),
                .product(name: "ITSPTrunk", package: root),
            ],
            path: "HotPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The same paths as a plain loop, run under callgrind by scripts/bench-callgrind.sh: instructions per
        // message, exact on a noisy machine; and the transaction layer's share of a call on a virtual clock.
        .executableTarget(
            name: "HotPathCount",
            dependencies: [
                "BenchFixtures",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Host", package: root), .product(name: "Harness", package: root),
                .product(name: "PluginAPI", package: "PluginAPI"),
                .product(name: "IPPBX", package: root),
                .product(name: "ITSPTrunk", package: root),
            ],
            path: "HotPathCount"
        ),
    ]
)
