import PluginAPI

/// The smallest useful plugin: a peer that wants numbers without the `+` and tags every request it receives.
final class HelloPlugin: PeerPlugin {
    let name = "HelloPeer"
    let version = "0.1.0"
    let profiles = [VendorProfileInfo(name: "generic", summary: "E.164 without '+', adds X-Hello")]

    func makeAdapter(for peer: PeerConfiguration) throws -> PeerAdapter {
        var options = PeerOptions(peer.options)
        let greeting = try options.string("greeting") ?? "hello"
        try options.finish()
        return HelloAdapter(greeting: greeting)
    }
}

final class HelloAdapter: PeerAdapter {
    let greeting: String
    init(greeting: String) { self.greeting = greeting }

    func numberToPeer(_ number: PhoneNumber, role: NumberRole) -> String {
        number.isE164 ? String(number.digits.dropFirst()) : number.digits
    }

    func headersToPeer(_ message: inout SIPMessage) {
        message.setHeader("X-Hello", greeting)
    }
}

@_cdecl("patchbay_plugin_api_version")
public func patchbayPluginAPIVersion() -> Int32 { PluginABI.version }

@_cdecl("patchbay_plugin_create")
public func patchbayPluginCreate() -> UnsafeMutableRawPointer { PluginABI.export(HelloPlugin()) }
