// swift-tools-version:6.0
import PackageDescription

// Every plugin and the host link the one PluginAPI dynamic library from its own package (see its Package.swift).
let pluginAPI: Target.Dependency = .product(name: "PluginAPI", package: "PluginAPI")

let plugins = ["IPPBX", "PSTNGateway", "ITSPTrunk"]

/// The host's layers, bottom first (see the targets below).
let hostLayers = ["SIPCore", "Media", "Routing", "Records", "Calls", "Engine", "Operations"]
let hostLayerDependencies: [Target.Dependency] = hostLayers.map { .target(name: $0) }

let package = Package(
    name: "Patchbay",
    products: [
        .executable(name: "patchbay", targets: ["patchbay"]),
        .library(name: "Host", targets: hostLayers),
        .library(name: "Harness", targets: ["Harness"]),
    ] + plugins.map { .library(name: $0, type: .dynamic, targets: [$0]) },
    dependencies: [
        .package(path: "Sources/PluginAPI"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Call records: SQLite through GRDB (Debian libsqlite3-dev).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // libosip2 itself (Debian libosip2-dev), and small C wrappers for its function-like macros and its trace
        // hook (a va_list callback Swift cannot take apart).
        .systemLibrary(
            name: "CLibOsip", path: "Sources/CLibOsip", pkgConfig: "libosip2", providers: [.apt(["libosip2-dev"])]),
        .target(name: "COsip", dependencies: ["CLibOsip"], path: "Sources/COsip"),
        // c-ares (Debian libc-ares-dev) for RFC 3263's NAPTR, SRV, A and AAAA lookups, and a C wrapper that runs
        // one query to its end on the calling thread (a resolver thread, never an event loop).
        .systemLibrary(
            name: "CLibCAres", path: "Sources/CLibCAres", pkgConfig: "libcares", providers: [.apt(["libc-ares-dev"])]),
        .target(name: "CDNS", dependencies: ["CLibCAres"], path: "Sources/CDNS"),
        // The host, in layers whose dependencies only point down (README, "Layout"): a layer imports the ones
        // below it and never one above, which the compiler enforces because each is a target of its own.
        //   SIPCore     messages on libosip2, transactions, transports, protection, digest
        //   Media       rtpengine's ng protocol (bencode over UDP)
        //   Routing     configuration, route tables, plugins, the site and the request chain (house format)
        //   Records     call records and their store
        //   Calls       a call's two legs
        //   Engine      shards, the engine that wires the loops, health, registration, telemetry
        //   Operations  the HTTP status page and API
        .target(
            name: "SIPCore",
            dependencies: [
                pluginAPI, "COsip", "CDNS", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/Host/SIPCore"
        ),
        // rtpengine's ng control protocol (bencode over UDP): what anchors a call's media. No SIP in it.
        .target(
            name: "Media",
            dependencies: [
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/Host/Media"
        ),
        .target(
            name: "Routing",
            dependencies: [
                "SIPCore", pluginAPI, .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Sources/Host/Routing"
        ),
        .target(
            name: "Records",
            dependencies: [
                "Routing", pluginAPI, .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/Host/Records"
        ),
        .target(
            name: "Calls",
            dependencies: [
                "SIPCore", "Routing", "Records", pluginAPI, .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Host/Calls"
        ),
        .target(
            name: "Engine",
            dependencies: [
                "SIPCore", "Media", "Routing", "Records", "Calls", pluginAPI,
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Host/Engine"
        ),
        .target(
            name: "Operations",
            dependencies: [
                "Engine", "Routing", "Calls", pluginAPI, .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Host/Operations"
        ),
        // The per-message path, the transaction layer and the fuzz target as plain entry points: only the
        // benchmarks, the fuzzer and the tests depend on it, never the executable.
        .target(
            name: "Harness",
            dependencies: [
                "SIPCore", "Media", "Routing", "Calls", "Engine", pluginAPI,
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Sources/Host/Harness"
        ),
        .executableTarget(
            name: "patchbay",
            dependencies: [
                pluginAPI, .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ] + hostLayerDependencies,
            path: "Sources/patchbay",
            // gperftools' tcmalloc in place of glibc's malloc: every message allocates (Strings, arrays, closures)
            // and hands some of it to another event loop to free, which glibc's per-thread arenas serve poorly.
            // Under the bench load it took 7 % off the event loops' CPU per call, with the same memory per call
            // (docs/benchmarks-history.md). Only the executable links it; the tests and benchmarks keep the system
            // malloc.
            linkerSettings: [.linkedLibrary("tcmalloc_minimal", .when(platforms: [.linux]))]
        ),
        // libosip2's parse and serialise beside Patchbay's, one input, one run (ratios only):
        //   swift run -c release ParseSerialise Tests/Fixtures/pbx-invite-national.sip
        // `make fuzz`: libFuzzer over the per-message path (see Fuzz/PatchbayFuzz); a corpus replayer otherwise.
        .target(name: "CFuzzerDriver", path: "Fuzz/CFuzzerDriver"),
        .executableTarget(
            name: "PatchbayFuzz",
            dependencies: ["Harness", "Routing", "CFuzzerDriver", .product(name: "Logging", package: "swift-log")],
            path: "Fuzz/PatchbayFuzz"),
        .executableTarget(
            name: "ParseSerialise", dependencies: ["SIPCore", "COsip", pluginAPI], path: "Benchmarks/ParseSerialise"),
        .testTarget(
            name: "HostTests",
            dependencies: [
                "Harness", pluginAPI, .product(name: "PluginTestKit", package: "PluginAPI"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // The call records tests look into the SQLite file behind the store's back.
                .product(name: "GRDB", package: "GRDB.swift"),
            ] + hostLayerDependencies,
            path: "Tests/HostTests"
        ),
        .testTarget(
            name: "PluginTests",
            dependencies: ["Routing", "SIPCore", pluginAPI, .product(name: "PluginTestKit", package: "PluginAPI")],
            path: "Tests/PluginTests"
        ),
    ] + plugins.map { .target(name: $0, dependencies: [pluginAPI], path: "Plugins/\($0)", exclude: ["README.md"]) }
)
