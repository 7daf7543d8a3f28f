/// What a plugin library offers: a name, a version, its vendor profiles, and adapters made from peer entries.
///
/// A plugin library exports two C symbols, and nothing else is needed from it:
///
/// ```swift
/// @_cdecl("patchbay_plugin_api_version")
/// public func patchbayPluginAPIVersion() -> Int32 { PluginABI.version }
/// @_cdecl("patchbay_plugin_create")
/// public func patchbayPluginCreate() -> UnsafeMutableRawPointer { PluginABI.export(MyPlugin()) }
/// ```
///
/// The host reads the version before it calls anything else in the library and refuses a mismatch.
public protocol PeerPlugin: AnyObject, Sendable {
    /// Unique among loaded plugins; peers name it in `plugin:`.
    var name: String { get }
    var version: String { get }
    var profiles: [VendorProfileInfo] { get }

    /// Makes the adapter for one configured peer. Throws `PeerOptionError` for an unknown profile, an unknown
    /// option or an option with a bad value; the host reports it at the option's position in the YAML.
    func makeAdapter(for peer: PeerConfiguration) throws -> PeerAdapter
}

public struct VendorProfileInfo: Sendable, Hashable {
    public var name: String
    public var summary: String

    public init(name: String, summary: String) {
        self.name = name
        self.summary = summary
    }
}

/// The binary contract between host and plugins.
public enum PluginABI {
    /// Raised whenever a change to this module would break a plugin built against the previous one. It is emitted
    /// into the plugin's own image (`@_alwaysEmitIntoClient`), so the value the host reads from a plugin is the one
    /// the plugin was compiled with, not the host's.
    @_alwaysEmitIntoClient
    public static var version: Int32 { 3 }

    /// The version the host was built with, for messages: "found version X, expecting version Y".
    public static let hostVersion: Int32 = version

    public static let versionSymbol = "patchbay_plugin_api_version"
    public static let createSymbol = "patchbay_plugin_create"

    /// Hands a plugin object to the host as a +1 retained pointer; the host never releases it (plugins are never
    /// unloaded).
    @_alwaysEmitIntoClient
    public static func export(_ plugin: any PeerPlugin) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(plugin as AnyObject).toOpaque()
    }
}
