import PluginAPI

/// IP-PBXs on the site's own network (direct SIP connections): extensions and DIDs, Remote-Party-ID, vendor headers.
final class IPPBXPlugin: ProfilePlugin, @unchecked Sendable {
    init() {
        super.init(
            name: "IPPBX", version: "0.1.0",
            profiles: [
                IPPBXProfiles.generic, IPPBXProfiles.ciscoCUCM, IPPBXProfiles.asterisk, IPPBXProfiles.avayaAura,
                IPPBXProfiles.lync,
            ])
    }
}

/// Profiles live in `Profiles/`, one file each, as `static let` members of this namespace.
enum IPPBXProfiles {}

@_cdecl("patchbay_plugin_api_version")
public func patchbayPluginAPIVersion() -> Int32 { PluginABI.version }

@_cdecl("patchbay_plugin_create")
public func patchbayPluginCreate() -> UnsafeMutableRawPointer { PluginABI.export(IPPBXPlugin()) }
