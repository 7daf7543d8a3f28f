import Foundation
import PluginAPI

#if canImport(Glibc)
    import Glibc
#endif

/// A plugin library that passed every check, with what `patchbay plugins` shows.
public struct LoadedPlugin: Sendable {
    public var name: String
    public var version: String
    public var apiVersion: Int32
    public var file: String
    public var profiles: [VendorProfileInfo]
    public var plugin: any PeerPlugin
}

/// A library in the plugin directory that was not loaded, and why. The rest still load.
public struct PluginRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}

public struct PluginSet: Sendable {
    public var plugins: [LoadedPlugin]
    public var refusals: [PluginRefusal]

    public func plugin(named name: String) -> LoadedPlugin? { plugins.first { $0.name == name } }
}

/// Loads the drop-in plugin directory. Plugins are loaded once per process and never unloaded: `dlclose` of a Swift
/// image leaves the runtime's conformance caches pointing into unmapped memory, and even a refused library is kept
/// mapped (RTLD_NODELETE) for the same reason. Route tables reload live; plugins change on restart.
public enum PluginLoader {
    /// The directory `swift build` writes the plugin libraries to, next to the `patchbay` executable.
    public static var defaultDirectory: String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    public static func load(directory: String) -> PluginSet {
        var set = PluginSet(plugins: [], refusals: [])
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            set.refusals.append(PluginRefusal(file: directory, reason: "cannot read the plugin directory"))
            return set
        }
        for f in files.sorted() where f.hasPrefix("lib") && f.hasSuffix(".so") && f != "libPluginAPI.so" {
            let path = (directory as NSString).appendingPathComponent(f)
            switch loadOne(path) {
            case .success(let p):
                if let other = set.plugin(named: p.name) {
                    set.refusals.append(
                        PluginRefusal(
                            file: path,
                            reason: "duplicates plugin '\(p.name)' already loaded from \(other.file)"))
                } else {
                    set.plugins.append(p)
                }
            case .failure(let r):
                set.refusals.append(r)
            }
        }
        return set
    }

    private typealias VersionFunction = @convention(c) () -> Int32
    private typealias CreateFunction = @convention(c) () -> UnsafeMutableRawPointer?

    static func loadOne(_ path: String) -> Result<LoadedPlugin, PluginRefusal> {
        func refuse(_ reason: String) -> Result<LoadedPlugin, PluginRefusal> {
            .failure(PluginRefusal(file: path, reason: reason))
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let err = dlerror().map { String(cString: $0) } ?? "unknown error"
            return refuse("not a loadable library: \(err)")
        }
        // Read the version before anything in the library runs beyond its static initialisers.
        guard let versionSym = dlsym(handle, PluginABI.versionSymbol) else {
            return refuse("not a Patchbay plugin: no \(PluginABI.versionSymbol) symbol")
        }
        let found = unsafeBitCast(versionSym, to: VersionFunction.self)()
        guard found == PluginABI.hostVersion else {
            return refuse("built against plugin API version \(found), expecting version \(PluginABI.hostVersion)")
        }
        guard let createSym = dlsym(handle, PluginABI.createSymbol) else {
            return refuse("not a Patchbay plugin: no \(PluginABI.createSymbol) symbol")
        }
        guard let raw = unsafeBitCast(createSym, to: CreateFunction.self)() else {
            return refuse("failed to initialise: \(PluginABI.createSymbol) returned nothing")
        }
        let object = Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue()
        guard let plugin = object as? any PeerPlugin else {
            // The usual cause: PluginAPI linked statically into the plugin, so its PeerPlugin is another type.
            return refuse(
                "failed to initialise: the object it created is not a PeerPlugin (is PluginAPI linked dynamically?)")
        }
        guard !plugin.name.isEmpty else { return refuse("failed to initialise: the plugin has no name") }
        guard !plugin.profiles.isEmpty else {
            return refuse("failed to initialise: plugin '\(plugin.name)' offers no profiles")
        }
        return .success(
            LoadedPlugin(
                name: plugin.name, version: plugin.version, apiVersion: found, file: path, profiles: plugin.profiles,
                plugin: plugin))
    }
}
