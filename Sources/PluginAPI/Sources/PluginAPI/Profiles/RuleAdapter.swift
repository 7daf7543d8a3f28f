/// Applies a `ProfileRules` to messages. Subclass it and override a hook (calling `super`) for the little a
/// profile needs beyond rules, such as turning Remote-Party-ID into P-Asserted-Identity.
open class RuleAdapter: PeerAdapter, @unchecked Sendable {
    // @unchecked: every stored property is a `let` of a Sendable type; subclasses must keep it that way.
    public let rules: ProfileRules
    public let peer: PeerConfiguration
    /// `rules.codecs`, compiled once rather than per message.
    private let codecSelectors: [CodecSelector]?
    /// `rules.stripHeadersFromPeer` and `.stripHeadersToPeer`, compiled once.
    private let stripFromPeer: HeaderNameList
    private let stripToPeer: HeaderNameList

    public init(rules: ProfileRules, peer: PeerConfiguration) {
        self.rules = rules
        self.peer = peer
        codecSelectors = rules.codecs?.map(CodecSelector.init)
        stripFromPeer = HeaderNameList(rules.stripHeadersFromPeer)
        stripToPeer = HeaderNameList(rules.stripHeadersToPeer)
    }

    open func headersFromPeer(_ message: inout SIPMessage) {
        message.removeHeaders(stripFromPeer)
    }

    open func numberFromPeer(_ number: String, role: NumberRole) -> PhoneNumber {
        peer.numbering.toHouse(rules.numberRulesIn.apply(number))
    }

    open func sdpFromPeer(_ sdp: inout SessionDescription, in message: SIPMessage) {
        for p in rules.formatParametersFromPeer { sdp.setFormatParameter(codec: p.codec, name: p.name, value: p.value) }
        for prefix in rules.stripAttributes { sdp.removeAttributes(prefix: prefix) }
    }

    open func numberToPeer(_ number: PhoneNumber, role: NumberRole) -> String {
        let (format, accessCode) = rules.format(for: role)
        return rules.numberRulesOut.apply(peer.numbering.fromHouse(number, format: format, withAccessCode: accessCode))
    }

    open func headersToPeer(_ message: inout SIPMessage) {
        message.removeHeaders(stripToPeer)
        for h in rules.addHeadersToPeer { message.setHeader(h.name, h.value) }
    }

    open func sdpToPeer(_ sdp: inout SessionDescription, in message: SIPMessage) {
        if let codecSelectors { sdp.keepAndOrderCodecs(codecSelectors) }
        if let te = rules.telephoneEvent { _ = sdp.remapTelephoneEvent(to: te) }
        if let p = rules.ptime { sdp.setPacketTime(p) }
        for p in rules.formatParametersToPeer { sdp.setFormatParameter(codec: p.codec, name: p.name, value: p.value) }
        for prefix in rules.stripAttributes { sdp.removeAttributes(prefix: prefix) }
    }
}

/// One selectable profile of a plugin: its rules and how to make its adapter (a `RuleAdapter` subclass).
public struct VendorProfile: Sendable {
    public var rules: ProfileRules
    /// Options this profile reads beyond `ProfileRules.commonOptions`, handed to `make`.
    public var make: @Sendable (ProfileRules, PeerConfiguration, inout PeerOptions) throws -> any PeerAdapter

    public init(
        rules: ProfileRules,
        make: @escaping @Sendable (ProfileRules, PeerConfiguration, inout PeerOptions) throws -> any PeerAdapter = {
            rules, peer, _ in RuleAdapter(rules: rules, peer: peer)
        }
    ) {
        self.rules = rules
        self.make = make
    }
}

/// A plugin made of vendor profiles: finds the profile a peer names, applies its options, refuses unknown ones.
open class ProfilePlugin: PeerPlugin, @unchecked Sendable {
    // @unchecked: immutable after init.
    public let name: String
    public let version: String
    public let vendorProfiles: [VendorProfile]

    public init(name: String, version: String, profiles: [VendorProfile]) {
        self.name = name
        self.version = version
        self.vendorProfiles = profiles
    }

    public var profiles: [VendorProfileInfo] { vendorProfiles.map(\.rules.info) }

    public func makeAdapter(for peer: PeerConfiguration) throws -> any PeerAdapter {
        guard let profile = vendorProfiles.first(where: { $0.rules.name == peer.profile }) else {
            throw PeerOptionError(
                option: nil,
                "plugin \(name) has no profile '\(peer.profile)' (offers: \(profiles.map(\.name).joined(separator: ", ")))"
            )
        }
        var options = PeerOptions(peer.options)
        var rules = profile.rules
        try rules.applyOptions(&options)
        let adapter = try profile.make(rules, peer, &options)
        try options.finish()
        return adapter
    }
}
