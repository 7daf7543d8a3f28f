/// A name-addr or addr-spec header value (From, To, Contact, P-Asserted-Identity, Remote-Party-ID, Diversion,
/// History-Info, Referred-By, ...): optional display name, URI, and header parameters such as `tag` or `reason`.
public struct NameAddress: Sendable, Hashable, CustomStringConvertible {
    /// The display name without surrounding quotes (quoted-pair escapes kept as written).
    public var displayName: String?
    public var uri: SIPURI
    public var parameters: [SIPParameter]
    /// `Contact: *` in REGISTER; kept so such a value round-trips.
    public var isWildcard: Bool = false

    public init(displayName: String? = nil, uri: SIPURI, parameters: [SIPParameter] = []) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
    }

    public var tag: String? {
        get { parameters[parameter: "tag"] }
        set {
            if let newValue { parameters.set("tag", newValue) } else { parameters.remove("tag") }
        }
    }

    /// Parses one value; nil when it holds no URI that can be parsed.
    public init?(_ text: String) {
        guard let parsed = UserPartScan.withBytes(of: Substring(text), Self.parse) else { return nil }
        self = parsed
    }

    /// On bytes with integer offsets, as `SIPURI.parse`: From, To, Contact and the identity headers are parsed
    /// several times per call.
    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> NameAddress? {
        let (lo, hi) = UserPartScan.trimmed(b, 0, b.count)
        if hi - lo == 1, b[lo] == UInt8(ascii: "*") {
            var wildcard = NameAddress(uri: SIPURI(scheme: "sip", host: "*"))
            wildcard.isWildcard = true
            return wildcard
        }
        if let lt = UserPartScan.angle(b, lo, hi) {
            guard let gt = UserPartScan.first(b, UInt8(ascii: ">"), lt, hi),
                let uri = SIPURI.parse(b, lt + 1, gt)
            else { return nil }
            let (nameLo, nameHi) = UserPartScan.trimmed(b, lo, lt)
            var displayName: String?
            if nameHi - nameLo >= 2, b[nameLo] == UInt8(ascii: "\""), b[nameHi - 1] == UInt8(ascii: "\"") {
                displayName = UserPartScan.string(b, nameLo + 1, nameHi - 1)
            } else if nameLo < nameHi {
                displayName = UserPartScan.string(b, nameLo, nameHi)
            }
            return NameAddress(displayName: displayName, uri: uri, parameters: [SIPParameter].parse(b, gt + 1, hi))
        }
        // addr-spec form: parameters after the URI belong to the header (RFC 3261 section 20.10).
        let semi = firstOutsideQuotes(b, UInt8(ascii: ";"), lo, hi)
        guard let uri = SIPURI.parse(b, lo, semi ?? hi) else { return nil }
        return NameAddress(uri: uri, parameters: semi.map { [SIPParameter].parse(b, $0 + 1, hi) } ?? [])
    }

    /// Where the URI's user part is in one value, read exactly as `init(_:)` reads it, without building anything:
    /// nil when that initialiser would fail or the URI has no user. Number translation reads and rewrites only this.
    static func userRange(in text: Substring) -> Range<Substring.Index>? { UserPartScan.inNameAddress(text) }

    /// The `tag` parameter of a name-addr value, without parsing its URI: dialog matching reads the To tag of every
    /// request and response. Read as `[SIPParameter].parse(...)[parameter: "tag"]` reads the header parameters (the
    /// differential test in TagScanTests holds it to that), on bytes, without building the parameter list.
    static func tag(in text: String) -> String? {
        UserPartScan.withBytes(of: Substring(text)) { b in
            tagValue(b).map { UserPartScan.string(b, $0.lowerBound, $0.upperBound) }
        }
    }

    /// The first `tag` header parameter's value in `b`, as offsets (nil also for a bare `;tag`, as the first
    /// parameter named tag decides).
    private static func tagValue(_ b: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let parametersStart: Int
        if let lt = UserPartScan.angle(b, 0, b.count) {
            guard let gt = UserPartScan.first(b, UInt8(ascii: ">"), lt, b.count) else { return nil }
            parametersStart = gt + 1
        } else {
            guard let semi = firstOutsideQuotes(b, UInt8(ascii: ";"), 0, b.count) else { return nil }
            parametersStart = semi
        }
        var tag: Range<Int>?
        [SIPParameter].forEach(b, parametersStart, b.count) { name, value in
            guard name.count == 3, asciiLower(b[name.lowerBound]) == UInt8(ascii: "t"),
                asciiLower(b[name.lowerBound + 1]) == UInt8(ascii: "a"),
                asciiLower(b[name.lowerBound + 2]) == UInt8(ascii: "g")
            else { return true }
            tag = value
            return false
        }
        return tag
    }

    /// Position of the `<` that opens the URI, ignoring any inside a quoted display name.
    private static func indexOfAngle(_ t: Substring) -> Substring.Index? {
        // Bytes, not Characters: the delimiters are ASCII (see splitOutsideQuotes).
        UserPartScan.offsetIndex(in: t) { UserPartScan.angle($0, 0, $0.count) }
    }

    public var description: String {
        if isWildcard { return "*" }
        // One allocation for the whole text (`TextBuilder`): From, To and Contact are written this way for every
        // request a leg sends, and interpolation went through `String(describing:)` and a temporary per piece.
        return TextBuilder.build { s in
            if let displayName {
                s.append("\"")
                s.append(displayName)
                s.append("\" ")
            }
            s.append("<")
            uri.write(to: &s)
            s.append(">")
            for p in parameters {
                s.append(parameter: p)
            }
        }
    }
}
