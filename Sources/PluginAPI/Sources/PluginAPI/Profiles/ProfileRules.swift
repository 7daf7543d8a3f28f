/// A vendor profile as data: the number formats, header edits and codec policy a peer of that kind needs. Most
/// profiles are only this; `RuleAdapter` applies it, and a profile writes code only for what rules cannot say.
/// A peer's `options:` override any field (see `applyOptions`), so a site can adjust a profile without a new one.
public struct ProfileRules: Sendable {
    public var name: String
    public var summary: String

    // Numbers
    /// Format of Request-URI and To numbers sent to the peer.
    public var calledFormat: NumberFormat = .e164
    /// Format of From, P-Asserted-Identity, Diversion and other non-called numbers sent to the peer.
    public var callingFormat: NumberFormat = .e164
    /// Prefix the numbering context's access code (outside line) to called numbers sent to the peer that are not
    /// extensions. On by default: a peer whose context has an access code also reads its numbers with the code
    /// stripped, so leaving it off would make the peer misread what it is sent (and break the round trip).
    /// Without an access code in the context it does nothing.
    public var calledAccessCode = true
    /// The same for calling, connected and redirecting numbers (so a PBX user can call back from the display).
    public var callingAccessCode = true
    /// Applied to each number received from the peer before it is turned into the house format.
    public var numberRulesIn = NumberRules()
    /// Applied to each number sent to the peer after it is written in the peer's format.
    public var numberRulesOut = NumberRules()

    // Headers. Names are case-insensitive; an entry ending in `*` is a prefix (`X-*`).
    public var stripHeadersFromPeer: [String] = []
    public var stripHeadersToPeer: [String] = []
    public var addHeadersToPeer: [SIPHeader] = []

    // Codecs
    /// Codecs the peer is offered, in preference order (names or payload numbers); nil offers everything.
    public var codecs: [String]?
    /// Payload type the peer expects for telephone-event (RFC 4733).
    public var telephoneEvent: Int?
    public var ptime: Int?
    /// fmtp parameters made explicit in what the peer sends us (house format wants no implicit defaults).
    public var formatParametersFromPeer: [FormatParameterRule] = []
    /// fmtp parameters written into what the peer receives.
    public var formatParametersToPeer: [FormatParameterRule] = []
    /// SDP attribute prefixes removed in both directions (`X-` for vendor attributes).
    public var stripAttributes: [String] = []

    public init(name: String, summary: String) {
        self.name = name
        self.summary = summary
    }

    public var info: VendorProfileInfo { VendorProfileInfo(name: name, summary: summary) }

    public func format(for role: NumberRole) -> (NumberFormat, Bool) {
        role == .called ? (calledFormat, calledAccessCode) : (callingFormat, callingAccessCode)
    }
}

/// `codec`'s fmtp parameter `name` set to `value` (for example G729 annexb=no).
public struct FormatParameterRule: Sendable, Equatable {
    public var codec: String
    public var name: String
    public var value: String

    public init(codec: String, name: String, value: String) {
        self.codec = codec
        self.name = name
        self.value = value
    }
}

extension ProfileRules {
    /// The options every rule-based profile understands. Each one replaces the profile's value.
    public static let commonOptions = [
        "number_format", "called_format", "calling_format", "called_access_code", "calling_access_code",
        "number_rules_in", "number_rules_out", "strip_headers", "strip_headers_in", "add_headers", "codecs",
        "telephone_event", "ptime", "strip_sdp_attributes",
    ]

    /// Reads the common options, validating each; unknown keys are left for `PeerOptions.finish()`.
    public mutating func applyOptions(_ o: inout PeerOptions) throws {
        let formats = NumberFormat.allCases.map(\.rawValue)
        if let f = try o.choice("number_format", formats).flatMap(NumberFormat.init(rawValue:)) {
            calledFormat = f
            callingFormat = f
        }
        if let f = try o.choice("called_format", formats).flatMap(NumberFormat.init(rawValue:)) { calledFormat = f }
        if let f = try o.choice("calling_format", formats).flatMap(NumberFormat.init(rawValue:)) { callingFormat = f }
        if let b = try o.bool("called_access_code") { calledAccessCode = b }
        if let b = try o.bool("calling_access_code") { callingAccessCode = b }
        if let l = try o.list("number_rules_in") { numberRulesIn = try Self.rules(l, option: "number_rules_in") }
        if let l = try o.list("number_rules_out") { numberRulesOut = try Self.rules(l, option: "number_rules_out") }
        if let s = try o.strings("strip_headers") { stripHeadersToPeer = s }
        if let s = try o.strings("strip_headers_in") { stripHeadersFromPeer = s }
        if let l = try o.list("add_headers") {
            addHeadersToPeer = try l.map {
                guard case .map(let m) = $0, m.count == 1, let (k, v) = m.first, !k.isEmpty else {
                    throw PeerOptionError(option: "add_headers", "each entry is one 'Name: value' pair, found \($0)")
                }
                return SIPHeader(k, v.description)
            }
        }
        if let c = try o.strings("codecs") {
            guard !c.isEmpty else { throw PeerOptionError(option: "codecs", "the list must name at least one codec") }
            codecs = c
        }
        if let t = try o.int("telephone_event") {
            guard (96...127).contains(t) else {
                throw PeerOptionError(option: "telephone_event", "must be a dynamic payload type 96-127, found \(t)")
            }
            telephoneEvent = t
        }
        if let p = try o.int("ptime") {
            guard (10...120).contains(p), p % 10 == 0 else {
                throw PeerOptionError(option: "ptime", "must be 10-120 ms in steps of 10, found \(p)")
            }
            ptime = p
        }
        if let s = try o.strings("strip_sdp_attributes") { stripAttributes = s }
    }

    /// `[{match: '^9(\d+)$', replace: '$1'}, {strip_prefix: '9'}, {add_prefix: '0'}]`
    static func rules(_ list: [OptionValue], option: String) throws -> NumberRules {
        var rules: [NumberRule] = []
        for entry in list {
            guard case .map(let m) = entry else {
                throw PeerOptionError(
                    option: option,
                    "each rule is a mapping ({match, replace}, {strip_prefix} or {add_prefix}), found \(entry)")
            }
            if case .string(let pattern)? = m["match"] {
                let replace = m["replace"]?.description ?? ""
                do {
                    rules.append(try NumberRule(match: pattern, replace: replace))
                } catch {
                    throw PeerOptionError(option: option, "\(error)")
                }
            } else if let p = m["strip_prefix"] {
                rules.append(NumberRule(stripPrefix: p.description))
            } else if let p = m["add_prefix"] {
                rules.append(NumberRule(addPrefix: p.description))
            } else {
                throw PeerOptionError(
                    option: option, "unknown rule \(entry): use match/replace, strip_prefix or add_prefix")
            }
        }
        return NumberRules(rules)
    }
}

extension Array where Element == String {
    /// Header-name matching for strip lists: case-insensitive, `*` at the end is a prefix.
    public func matchesHeader(_ header: SIPHeader) -> Bool {
        // Compared byte by byte without case: this runs for every header of every message against every entry.
        let name = SIPHeader.longForm(header.name).utf8
        return contains { entry in
            let e = entry.utf8
            if e.last == UInt8(ascii: "*") {
                let stem = e.dropLast()
                return name.count >= stem.count && asciiEqualsIgnoringCase(name.prefix(stem.count), stem)
            }
            if e.count == 1 { return asciiEqualsIgnoringCase(SIPHeader.longForm(entry).utf8, name) }
            return asciiEqualsIgnoringCase(name, e)
        }
    }
}
