/// An RTP payload format offered in a media section, as its `a=rtpmap` and `a=fmtp` lines describe it or, for a
/// static payload type without an rtpmap, as RFC 3551 assigns it.
public struct Codec: Sendable, Hashable {
    public var payloadType: Int
    /// Encoding name as written (`PCMU`, `telephone-event`, `opus`); nil for a dynamic payload type that has no
    /// rtpmap, which the section does not really describe.
    public var name: String?
    public var clockRate: Int?
    /// Channels as the rtpmap gives them; for audio an omitted count means 1 (RFC 8866 section 6.6), for video
    /// there is none.
    public var channels: Int?
    /// The text of the `a=fmtp` line after the payload type (`annexb=no`, `0-15`), if there is one.
    public var formatParameters: String?

    public init(payloadType: Int, name: String?, clockRate: Int?, channels: Int? = nil,
                formatParameters: String? = nil) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.formatParameters = formatParameters
    }

    /// RFC 3551 section 6's static payload types, which a section may use without an rtpmap.
    public static let staticPayloadTypes: [Int: Codec] = {
        let audio: [(Int, String, Int, Int?)] = [
            (0, "PCMU", 8000, 1), (3, "GSM", 8000, 1), (4, "G723", 8000, 1), (5, "DVI4", 8000, 1),
            (6, "DVI4", 16000, 1), (7, "LPC", 8000, 1), (8, "PCMA", 8000, 1), (9, "G722", 8000, 1),
            (10, "L16", 44100, 2), (11, "L16", 44100, 1), (12, "QCELP", 8000, 1), (13, "CN", 8000, 1),
            (14, "MPA", 90000, nil), (15, "G728", 8000, 1), (16, "DVI4", 11025, 1), (17, "DVI4", 22050, 1),
            (18, "G729", 8000, 1),
        ]
        let video: [(Int, String)] = [
            (25, "CelB"), (26, "JPEG"), (28, "nv"), (31, "H261"), (32, "MPV"), (33, "MP2T"), (34, "H263"),
        ]
        var table: [Int: Codec] = [:]
        for (pt, name, rate, channels) in audio {
            table[pt] = Codec(payloadType: pt, name: name, clockRate: rate, channels: channels)
        }
        for (pt, name) in video { table[pt] = Codec(payloadType: pt, name: name, clockRate: 90000) }
        return table
    }()

    /// Whether `selector` names this codec. All digits: the payload type (`"18"`). Otherwise the encoding name,
    /// case-insensitively, optionally narrowed by clock rate and channels (`"telephone-event/8000"`,
    /// `"opus/48000/2"`), which tells apart the 8 kHz and 48 kHz telephone-events of a WebRTC offer.
    public func matches(_ selector: String) -> Bool {
        let selector = SDPLines.trimmed(selector[...])
        if isPayloadNumber(selector) { return Int(selector) == payloadType }
        let parts = selector.split(separator: "/", omittingEmptySubsequences: false)
        // Compared as ASCII without case, with no lower-cased copies: this runs for every format and selector.
        guard let name, name.utf8.count == parts[0].utf8.count,
            zip(name.utf8, parts[0].utf8).allSatisfy({ asciiLower($0) == asciiLower($1) })
        else { return false }
        if parts.count > 1 { guard let rate = Int(parts[1]), rate == clockRate else { return false } }
        if parts.count > 2 { guard let count = Int(parts[2]), count == (channels ?? 1) else { return false } }
        return true
    }

    /// Formats that carry no media of their own: an `m=` line left with only these cannot carry a call.
    static let auxiliaryNames: Set<String> = ["telephone-event", "cn", "red", "rtx", "ulpfec", "flexfec"]
}

@inline(__always) func asciiLower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

func isPayloadNumber<S: StringProtocol>(_ s: S) -> Bool {
    !s.isEmpty && s.utf8.count <= 3 && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
}

// MARK: - Media section

extension MediaDescription {
    /// The formats of the `m=` line that are RTP payload type numbers, in order, each described by its rtpmap and
    /// fmtp lines or by the static table. Other formats (`t38`, `*`) are not codecs and are left out.
    public var codecs: [Codec] {
        let table = codecTable()
        return formats.compactMap { table[$0] }
    }

    /// Every payload-number format of the `m=` line as its rtpmap and fmtp lines (or the static table) describe
    /// it, from one pass over the lines: asking about several codecs costs one scan of the section, not one per
    /// format and per selector (SDP filtering was most of an INVITE's adapter time before).
    func codecTable() -> [String: Codec] {
        var table: [String: Codec] = [:]
        for f in formats where isPayloadNumber(f) {
            guard let pt = Int(f) else { continue }
            table[f] = Self.baseCodec(pt)
        }
        return describe(table)
    }

    /// The payload type as this section describes it, whether or not the `m=` line lists it.
    public func codec(payloadType: Int) -> Codec {
        let pt = String(payloadType)
        return describe([pt: Self.baseCodec(payloadType)])[pt]!
    }

    private static func baseCodec(_ payloadType: Int) -> Codec {
        Codec.staticPayloadTypes[payloadType] ?? Codec(payloadType: payloadType, name: nil, clockRate: nil)
    }

    /// Fills in `codecs` (keyed by payload number) from the section's rtpmap and fmtp lines in one pass: the first
    /// rtpmap and the first fmtp of each number count.
    private func describe(_ codecs: [String: Codec]) -> [String: Codec] {
        var table = codecs
        guard !table.isEmpty else { return table }
        let audio = type.lowercased() == "audio"
        var mapped = Set<Substring>()
        for line in lines {
            guard let p = Self.payloadLine(line), var codec = table[String(p.payloadType)] else { continue }
            if p.attribute == "rtpmap", !mapped.contains(p.payloadType) {
                mapped.insert(p.payloadType)
                let parts = SDPLines.trimmed(p.rest).split(separator: "/", omittingEmptySubsequences: false)
                codec.name = String(parts[0])
                codec.clockRate = parts.count > 1 ? Int(parts[1]) : nil
                codec.channels = parts.count > 2 ? Int(parts[2]) : (audio ? 1 : nil)
            } else if p.attribute == "fmtp", codec.formatParameters == nil {
                codec.formatParameters = String(SDPLines.trimmed(p.rest))
            } else {
                continue
            }
            table[String(p.payloadType)] = codec
        }
        return table
    }

    /// The formats of the `m=` line that `selector` names (see `Codec.matches(_:)`), in `m=` line order. A format
    /// that is not a payload number matches a selector equal to it, so `"t38"` selects T.38.
    public func formats(matching selector: String) -> [String] {
        formats(matching: selector, in: codecTable())
    }

    func formats(matching selector: String, in table: [String: Codec]) -> [String] {
        let lowered = SDPLines.trimmed(selector[...]).lowercased()
        return formats.filter { format in
            guard let codec = table[format] else { return format.lowercased() == lowered }
            return codec.matches(selector)
        }
    }

    /// Removes every codec that none of `selectors` names. See `removeCodecs(_:)` for what goes with a codec and
    /// for a section left without one.
    public mutating func keepCodecs(_ selectors: [String]) {
        let table = codecTable()
        let keep = Set(selectors.flatMap { formats(matching: $0, in: table) })
        removeFormats(Set(formats.filter { !keep.contains($0) }), table: table)
    }

    /// Removes the codecs `selectors` name: the payload number from the `m=` line and its `a=rtpmap`, `a=fmtp` and
    /// `a=rtcp-fb` lines, since phones reject an fmtp or rtpmap for a payload type the `m=` line does not list. An
    /// `rtx` format whose `apt` names a removed codec goes too, as it would retransmit nothing, and so does a RED
    /// format whose redundancy list names one.
    ///
    /// A section cannot be left without formats, and one left with only telephone-event, CN, RED or FEC formats
    /// carries no call. Either way the stream is rejected the RFC 3264 way: port 0, keeping the `m=` line (which
    /// the other side correlates by position) with at least one format, the first of the original ones when
    /// every format was removed.
    public mutating func removeCodecs(_ selectors: [String]) {
        let table = codecTable()
        removeFormats(Set(selectors.flatMap { formats(matching: $0, in: table) }), table: table)
    }

    /// Moves the codecs `preference` names to the front, in the order of the list (codecs one selector names keep
    /// their order among themselves); the others follow in their original order. Only the `m=` line changes.
    public mutating func orderCodecs(_ preference: [String]) {
        var ordered: [String] = []
        var placed = Set<String>()
        let table = codecTable()
        for selector in preference {
            for format in formats(matching: selector, in: table) where !placed.contains(format) {
                ordered.append(format)
                placed.insert(format)
            }
        }
        ordered += formats.filter { !placed.contains($0) }
        formats = ordered
    }

    /// Renumbers the first telephone-event of the `m=` line to `payloadType`, in the `m=` line and its rtpmap,
    /// fmtp and rtcp-fb lines. When another format already has that number and an rtpmap describes it, the two
    /// swap numbers, so neither is lost and no number is used twice. When the other format is described only by
    /// the static table (say 0 for PCMU) it cannot move, and nothing changes.
    ///
    /// Returns false when nothing changed because of such a clash or because `payloadType` is outside 0...127;
    /// true otherwise, including when the section has no telephone-event.
    @discardableResult
    public mutating func remapTelephoneEvent(to payloadType: Int) -> Bool {
        guard (0...127).contains(payloadType) else { return false }
        guard let current = formats(matching: "telephone-event").first else { return true }
        let target = String(payloadType)
        guard current != target else { return true }
        if formats.contains(target) {
            guard lines.contains(where: { Self.isLine($0, "rtpmap", of: target) }) else { return false }
            renumber([current: target, target: current])
        } else {
            // Lines left over for a number the m= line does not list would now describe telephone-event twice.
            lines.removeAll { Self.payloadLine($0).map { $0.payloadType == target } ?? false }
            renumber([current: target])
        }
        return true
    }

    /// `a=ptime` in milliseconds. Setting replaces the line in place, or appends one; nil removes it.
    public var packetTime: Int? {
        get { attributeValues("ptime").first.flatMap { Int(SDPLines.trimmed($0[...])) } }
        set { setAttribute("ptime", newValue.map(String.init)) }
    }

    /// `a=maxptime` in milliseconds. Setting replaces the line in place, or appends one; nil removes it.
    public var maxPacketTime: Int? {
        get { attributeValues("maxptime").first.flatMap { Int(SDPLines.trimmed($0[...])) } }
        set { setAttribute("maxptime", newValue.map(String.init)) }
    }

    /// The value of fmtp parameter `name` (case-insensitive) of the first codec `codec` names that has it; ""
    /// for a parameter without `=`, nil when absent.
    public func formatParameter(codec selector: String, name: String) -> String? {
        let key = name.lowercased()
        for format in formats(matching: selector) {
            guard let i = fmtpIndex(format), let p = Self.payloadLine(lines[i]) else { continue }
            for segment in Self.parameterSegments(p.rest) {
                let param = Self.parameter(segment)
                if param.name.lowercased() == key { return param.value.map(String.init) ?? "" }
            }
        }
        return nil
    }

    /// Sets fmtp parameter `name` of every codec `codec` names to `value`: replaces its value inside an existing
    /// `a=fmtp` line (matching the name case-insensitively, keeping the other parameters and their spacing),
    /// appends it there, or adds `a=fmtp:<pt> name=value` after the codec's rtpmap. A nil `value` removes the
    /// parameter, and the whole fmtp line once it has none left.
    public mutating func setFormatParameter(codec selector: String, name: String, value: String?) {
        for format in formats(matching: selector) { setFormatParameter(format: format, name: name, value: value) }
    }

    // MARK: Internals

    /// Splits `a=rtpmap:` / `a=fmtp:` / `a=rtcp-fb:` lines into substrings of `line`: the attribute, the payload
    /// type and everything after it. `a=rtcp-fb:*` yields `*`, which no payload number equals.
    static func payloadLine(_ line: String) -> (attribute: Substring, payloadType: Substring, rest: Substring)? {
        guard let a = SDPLines.attribute(line), let value = a.value,
              a.name == "rtpmap" || a.name == "fmtp" || a.name == "rtcp-fb" else { return nil }
        let end = value.utf8.firstIndex { $0 == 0x20 || $0 == 0x09 } ?? value.endIndex
        return (a.name, value[..<end], value[end...])
    }

    static func parameterSegments(_ rest: Substring) -> [Substring] {
        let params = SDPLines.trimmed(rest)
        return params.isEmpty ? [] : params.split(separator: ";", omittingEmptySubsequences: false)
    }

    static func parameter(_ segment: Substring) -> (name: Substring, value: Substring?) {
        let s = SDPLines.trimmed(segment)
        guard let eq = s.firstIndex(of: "=") else { return (s, nil) }
        return (SDPLines.trimmed(s[..<eq]), SDPLines.trimmed(s[s.index(after: eq)...]))
    }

    static func isLine(_ line: String, _ attribute: String, of payloadType: String) -> Bool {
        guard let p = payloadLine(line) else { return false }
        return p.attribute == attribute && p.payloadType == payloadType
    }

    private func fmtpIndex(_ format: String) -> Int? {
        lines.firstIndex { Self.isLine($0, "fmtp", of: format) }
    }

    private mutating func setAttribute(_ name: String, _ value: String?) {
        SDPLines.replaceLines(in: &lines, with: value.map { "a=\(name):\($0)" }) {
            SDPLines.attribute($0).map { $0.name == name } ?? false
        }
    }

    private mutating func setFormatParameter(format: String, name: String, value: String?) {
        let key = name.lowercased()
        guard let i = fmtpIndex(format), let p = Self.payloadLine(lines[i]) else {
            guard let value else { return }
            let line = "a=fmtp:\(format) \(name)=\(value)"
            let rtpmap = lines.firstIndex { Self.isLine($0, "rtpmap", of: format) }
            let lastDescription = lines.lastIndex { Self.payloadLine($0).map { $0.attribute != "rtcp-fb" } ?? false }
            if let after = rtpmap ?? lastDescription { lines.insert(line, at: after + 1) } else { lines.append(line) }
            return
        }
        var segments = Self.parameterSegments(p.rest)
        if let j = segments.firstIndex(where: { Self.parameter($0).name.lowercased() == key }) {
            if let value {
                let written = Self.parameter(segments[j]).name
                segments[j] = segments[j].prefix(while: { $0 == " " }) + written + "=" + value
            } else {
                segments.remove(at: j)
            }
        } else if let value {
            // Follow the line's own separator style, and do not leave an empty parameter before the new one.
            let spaced = segments.count > 1 && segments[1].first == " "
            while let last = segments.last, SDPLines.trimmed(last).isEmpty { segments.removeLast() }
            segments.append((segments.isEmpty || !spaced ? "" : " ") + name + "=" + value)
        } else {
            return
        }
        let params = SDPLines.trimmed(segments.joined(separator: ";")[...])
        if params.isEmpty {
            lines.remove(at: i)
        } else {
            lines[i] = "a=fmtp:\(format) \(params)"
        }
    }

    /// Removes `requested` formats and everything describing them; see `removeCodecs(_:)` for the rules.
    /// `table`: the section's codec table, when the caller has one already.
    private mutating func removeFormats(_ requested: Set<String>, table given: [String: Codec]? = nil) {
        var remove = requested.intersection(formats)
        guard !remove.isEmpty else { return }
        let table = given ?? codecTable()
        var grew = true
        while grew {
            grew = false
            for format in formats where !remove.contains(format) {
                guard let i = fmtpIndex(format), let p = Self.payloadLine(lines[i]) else { continue }
                if referencesRemoved(p.rest, format: format, remove, table) {
                    remove.insert(format)
                    grew = true
                }
            }
        }
        var remaining = formats.filter { !remove.contains($0) }
        if remaining.isEmpty {
            remove.remove(formats[0])
            remaining = [formats[0]]
            port = 0
        } else if remaining.allSatisfy({ isAuxiliary($0, table) }) {
            port = 0
        }
        formats = remaining
        lines.removeAll { line in Self.payloadLine(line).map { remove.contains(String($0.payloadType)) } ?? false }
    }

    /// Whether the fmtp parameters of `format` tie it to a removed payload type: `apt=` of rtx (RFC 4588), or the
    /// `111/111` redundancy list of RED (RFC 2198).
    private func referencesRemoved(
        _ parameters: Substring, format: String, _ removed: Set<String>, _ table: [String: Codec]
    ) -> Bool {
        let segments = Self.parameterSegments(parameters)
        if segments.contains(where: { segment in
            let param = Self.parameter(segment)
            return param.name.lowercased() == "apt" && param.value.map { removed.contains(String($0)) } == true
        }) {
            return true
        }
        guard table[format]?.name?.lowercased() == "red", let list = segments.first
        else { return false }
        return SDPLines.trimmed(list).split(separator: "/").contains { removed.contains(String($0)) }
    }

    private func isAuxiliary(_ format: String, _ table: [String: Codec]) -> Bool {
        guard let name = table[format]?.name else { return false }
        return Codec.auxiliaryNames.contains(name.lowercased())
    }

    /// Applies `mapping` to every payload number at once (so a swap needs no temporary number): the `m=` line,
    /// the rtpmap, fmtp and rtcp-fb lines, and the fmtp parameters that name other payload types (`apt=` of rtx,
    /// the redundancy list of RED), which would otherwise point at the wrong codec.
    private mutating func renumber(_ mapping: [String: String]) {
        let table = codecTable()
        let red = Set(formats.filter { table[$0]?.name?.lowercased() == "red" })
        formats = formats.map { mapping[$0] ?? $0 }
        lines = lines.map { line in
            guard let p = Self.payloadLine(line) else { return line }
            let old = String(p.payloadType)
            var rest = String(p.rest)
            if p.attribute == "fmtp" {
                let segments = Self.parameterSegments(p.rest)
                var rewritten = segments.map { segment -> Substring in
                    let param = Self.parameter(segment)
                    guard param.name.lowercased() == "apt", let v = param.value, let new = mapping[String(v)] else {
                        return segment
                    }
                    return segment.prefix(while: { $0 == " " }) + param.name + "=" + new
                }
                if red.contains(old), let list = rewritten.first {
                    let types = SDPLines.trimmed(list).split(separator: "/", omittingEmptySubsequences: false)
                    rewritten[0] = Substring(types.map { mapping[String($0)] ?? String($0) }.joined(separator: "/"))
                }
                if rewritten != segments { rest = " " + rewritten.joined(separator: ";") }
            }
            return "a=\(p.attribute):\(mapping[old] ?? old)\(rest)"
        }
    }
}

// MARK: - Whole description

extension SessionDescription {
    /// `MediaDescription.keepCodecs(_:)` on each selected section: keeps only the codecs `selectors` name
    /// (`"PCMU"`, `"telephone-event"`, `"18"`, `"opus/48000/2"`).
    public mutating func keepCodecs(_ selectors: [String], mediaType: String? = nil) {
        forEachMedia(mediaType) { $0.keepCodecs(selectors) }
    }

    /// `MediaDescription.removeCodecs(_:)` on each selected section, including its rejection of a section left
    /// without a codec that carries media.
    public mutating func removeCodecs(_ selectors: [String], mediaType: String? = nil) {
        forEachMedia(mediaType) { $0.removeCodecs(selectors) }
    }

    /// `MediaDescription.orderCodecs(_:)` on each selected section: the codecs `preference` names first.
    public mutating func orderCodecs(_ preference: [String], mediaType: String? = nil) {
        forEachMedia(mediaType) { $0.orderCodecs(preference) }
    }

    /// `MediaDescription.remapTelephoneEvent(to:)` on each selected section. Returns false if any section refused.
    @discardableResult
    public mutating func remapTelephoneEvent(to payloadType: Int, mediaType: String? = nil) -> Bool {
        var all = true
        forEachMedia(mediaType) { all = $0.remapTelephoneEvent(to: payloadType) && all }
        return all
    }

    /// Sets (or with nil removes) `a=ptime` in every section of `mediaType`; audio by default, since packet time
    /// means nothing for video.
    public mutating func setPacketTime(_ milliseconds: Int?, mediaType: String = "audio") {
        forEachMedia(mediaType) { $0.packetTime = milliseconds }
    }

    /// Sets (or with nil removes) `a=maxptime` in every section of `mediaType`; audio by default.
    public mutating func setMaxPacketTime(_ milliseconds: Int?, mediaType: String = "audio") {
        forEachMedia(mediaType) { $0.maxPacketTime = milliseconds }
    }

    /// `MediaDescription.setFormatParameter(codec:name:value:)` on each selected section, for example
    /// `setFormatParameter(codec: "G729", name: "annexb", value: "no")`.
    public mutating func setFormatParameter(codec: String, name: String, value: String?, mediaType: String? = nil) {
        forEachMedia(mediaType) { $0.setFormatParameter(codec: codec, name: name, value: value) }
    }
}
