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
        let t = Substring(text).trimmingSIPWhitespace()
        if t == "*" {
            displayName = nil
            uri = SIPURI(scheme: "sip", host: "*")
            parameters = []
            isWildcard = true
            return
        }
        if let lt = Self.indexOfAngle(t) {
            guard let gt = t[lt...].utf8.firstIndex(of: 0x3E) else { return nil }
            let name = t[..<lt].trimmingSIPWhitespace()
            let n = name.utf8
            if n.count >= 2, n.first == 0x22, n.last == 0x22 {
                displayName = String(name[n.index(after: n.startIndex)..<n.index(before: n.endIndex)])
            } else {
                displayName = name.isEmpty ? nil : String(name)
            }
            guard let uri = SIPURI(parsing: t[t.utf8.index(after: lt)..<gt]) else { return nil }
            self.uri = uri
            parameters = [SIPParameter].parse(t[t.utf8.index(after: gt)...])
        } else {
            // addr-spec form: parameters after the URI belong to the header (RFC 3261 section 20.10).
            let parts = splitOutsideQuotes(t, separator: ";")
            guard let uri = SIPURI(parsing: parts[0]) else { return nil }
            displayName = nil
            self.uri = uri
            parameters = parts.count > 1 ? [SIPParameter].parse(t[parts[1].startIndex...]) : []
        }
    }

    /// Where the URI's user part is in one value, read exactly as `init(_:)` reads it, without building anything:
    /// nil when that initialiser would fail or the URI has no user. Number translation reads and rewrites only this.
    static func userRange(in text: Substring) -> Range<Substring.Index>? { UserPartScan.inNameAddress(text) }

    /// The `tag` parameter of a name-addr value, without parsing its URI: dialog matching reads the To tag of every
    /// request and response. Read as `[SIPParameter].parse(...)[parameter: "tag"]` reads the header parameters (the
    /// differential test in SIPMessageTests holds it to that), on bytes, without building the parameter list.
    static func tag(in text: String) -> String? {
        UserPartScan.withBytes(of: Substring(text)) { b in
            tagValue(b).map { String(decoding: UnsafeBufferPointer(rebasing: b[$0]), as: UTF8.self) }
        }
    }

    /// The first `tag` header parameter's value in `b`, as offsets (nil also for a bare `;tag`, as the first
    /// parameter named tag decides).
    private static func tagValue(_ b: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var partStart: Int
        if let lt = UserPartScan.angle(b, 0, b.count) {
            guard let gt = UserPartScan.first(b, UInt8(ascii: ">"), lt, b.count) else { return nil }
            partStart = gt + 1
        } else {
            guard let semi = firstOutsideQuotes(b, UInt8(ascii: ";"), 0, b.count) else { return nil }
            partStart = semi
        }
        while partStart <= b.count {
            let end = firstOutsideQuotes(b, UInt8(ascii: ";"), partStart, b.count) ?? b.count
            let (lo, hi) = UserPartScan.trimmed(b, partStart, end)
            if lo < hi {
                let eq = UserPartScan.first(b, UInt8(ascii: "="), lo, hi)
                let (nameLo, nameHi) = UserPartScan.trimmed(b, lo, eq ?? hi)
                if nameHi - nameLo == 3, asciiLower(b[nameLo]) == UInt8(ascii: "t"),
                    asciiLower(b[nameLo + 1]) == UInt8(ascii: "a"), asciiLower(b[nameLo + 2]) == UInt8(ascii: "g")
                {
                    guard let eq else { return nil }
                    let (valueLo, valueHi) = UserPartScan.trimmed(b, eq + 1, hi)
                    return valueLo..<valueHi
                }
            }
            partStart = end + 1
        }
        return nil
    }

    /// Position of the `<` that opens the URI, ignoring any inside a quoted display name.
    private static func indexOfAngle(_ t: Substring) -> Substring.Index? {
        // Bytes, not Characters: the delimiters are ASCII (see splitOutsideQuotes).
        UserPartScan.offsetIndex(in: t) { UserPartScan.angle($0, 0, $0.count) }
    }

    public var description: String {
        if isWildcard { return "*" }
        var s = ""
        if let displayName { s += "\"\(displayName)\" " }
        s += "<\(uri)>"
        for p in parameters { s += ";" + p.text }
        return s
    }
}
