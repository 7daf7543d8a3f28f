import PluginAPI

/// PSTN gateways (ISDN/analogue) on the site's own network: national and international dialling formats.
final class PSTNGatewayPlugin: ProfilePlugin, @unchecked Sendable {
    init() {
        super.init(
            name: "PSTNGateway", version: "0.1.0",
            profiles: [
                PSTNGatewayProfiles.generic, PSTNGatewayProfiles.ciscoIOS, PSTNGatewayProfiles.audioCodes,
                PSTNGatewayProfiles.genericISDN,
            ])
    }
}

enum PSTNGatewayProfiles {}

@_cdecl("patchbay_plugin_api_version")
public func patchbayPluginAPIVersion() -> Int32 { PluginABI.version }

@_cdecl("patchbay_plugin_create")
public func patchbayPluginCreate() -> UnsafeMutableRawPointer { PluginABI.export(PSTNGatewayPlugin()) }
