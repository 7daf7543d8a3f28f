import PluginAPI

/// SIP trunks to internet telephony providers: external peers, treated strictly.
final class ITSPTrunkPlugin: ProfilePlugin, @unchecked Sendable {
    init() {
        super.init(
            name: "ITSPTrunk", version: "0.1.0",
            profiles: [
                ITSPTrunkProfiles.generic, ITSPTrunkProfiles.twilio, ITSPTrunkProfiles.vonage,
                ITSPTrunkProfiles.bandwidth,
            ])
    }
}

enum ITSPTrunkProfiles {}

@_cdecl("patchbay_plugin_api_version")
public func patchbayPluginAPIVersion() -> Int32 { PluginABI.version }

@_cdecl("patchbay_plugin_create")
public func patchbayPluginCreate() -> UnsafeMutableRawPointer { PluginABI.export(ITSPTrunkPlugin()) }
