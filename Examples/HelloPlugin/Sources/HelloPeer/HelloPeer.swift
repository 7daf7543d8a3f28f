import PluginAPI

/// The smallest useful plugin, written the way `docs/plugins.md` describes: one vendor profile that is mostly data
/// (`ProfileRules`: E.164 numbers written without the `+`), and a `RuleAdapter` subclass for the one thing rules
/// cannot say (a greeting header whose text comes from the peer's `greeting` option). Every common option
/// (`number_format`, `codecs`, ...) works on it too, and an unknown option is refused.
final class HelloPlugin: ProfilePlugin, @unchecked Sendable {
    init() { super.init(name: "HelloPeer", version: "0.2.0", profiles: [HelloProfiles.generic]) }
}

enum HelloProfiles {
    static let generic: VendorProfile = {
        var rules = ProfileRules(name: "generic", summary: "E.164 without '+', adds X-Hello")
        rules.calledFormat = .e164
        rules.callingFormat = .e164
        rules.numberRulesOut = NumberRules([NumberRule(stripPrefix: "+")])
        return VendorProfile(rules: rules) { rules, peer, options in
            HelloAdapter(rules: rules, peer: peer, greeting: try options.string("greeting") ?? "hello")
        }
    }()
}

final class HelloAdapter: RuleAdapter, @unchecked Sendable {
    let greeting: String

    init(rules: ProfileRules, peer: PeerConfiguration, greeting: String) {
        self.greeting = greeting
        super.init(rules: rules, peer: peer)
    }

    override func headersToPeer(_ message: inout SIPMessage) {
        super.headersToPeer(&message)
        message.setHeader("X-Hello", greeting)
    }
}

@_cdecl("patchbay_plugin_api_version")
public func patchbayPluginAPIVersion() -> Int32 { PluginABI.version }

@_cdecl("patchbay_plugin_create")
public func patchbayPluginCreate() -> UnsafeMutableRawPointer { PluginABI.export(HelloPlugin()) }
