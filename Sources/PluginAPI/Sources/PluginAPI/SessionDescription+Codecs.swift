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

    public init(
        payloadType: Int, name: String?, clockRate: Int?, channels: Int? = nil,
        formatParameters: String? = nil
    ) {
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
        CodecSelector(selector).matches(self)
    }

    /// Formats that carry no media of their own: an `m=` line left with only these cannot carry a call.
    static let auxiliaryNames: Set<String> = ["telephone-event", "cn", "red", "rtx", "ulpfec", "flexfec"]

    /// Whether `name` is one of `auxiliaryNames`, compared without a lower-cased copy.
    static func isAuxiliary(_ name: String) -> Bool {
        guard SDPLines.isASCII(name.utf8) else { return auxiliaryNames.contains(name.lowercased()) }
        return auxiliaryNames.contains { SDPLines.lowercased(name, equals: $0) }
    }

    /// `staticPayloadTypes` by number: an array lookup where a format is described.
    fileprivate static let staticByNumber: [Codec?] = {
        var table = [Codec?](repeating: nil, count: 128)
        for (pt, codec) in staticPayloadTypes { table[pt] = codec }
        return table
    }()
}

func isPayloadNumber<S: StringProtocol>(_ s: S) -> Bool {
    !s.isEmpty && s.utf8.count <= 3 && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
}

/// A codec selector (`"PCMU"`, `"18"`, `"opus/48000/2"`) taken apart once, so that matching it against every format
/// of a section splits and trims nothing.
struct CodecSelector {
    /// The selector without surrounding blanks.
    let text: Substring
    /// The payload type, when the selector is all digits.
    let payloadType: Int?
    let name: Substring
    /// The clock rate, when the selector gives one (nil inside: it gives one that is not a number).
    let clockRate: Int??
    let channels: Int??
    private let isASCII: Bool

    init(_ selector: String) {
        let text = SDPLines.trimmed(selector[...])
        self.text = text
        isASCII = SDPLines.isASCII(text.utf8)
        payloadType = isPayloadNumber(text) ? Int(text) : nil
        if isASCII {
            // At most the three parts that count, found on bytes.
            let u = text.utf8
            let first = u.firstIndex(of: 0x2F)
            let second = first.flatMap { u[u.index(after: $0)...].firstIndex(of: 0x2F) }
            let third = second.flatMap { u[u.index(after: $0)...].firstIndex(of: 0x2F) }
            name = text[..<(first ?? text.endIndex)]
            clockRate = first.map { Int(text[u.index(after: $0)..<(second ?? text.endIndex)]) }
            channels = second.map { Int(text[u.index(after: $0)..<(third ?? text.endIndex)]) }
            return
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        name = parts[0]
        clockRate = parts.count > 1 ? .some(Int(parts[1])) : nil
        channels = parts.count > 2 ? .some(Int(parts[2])) : nil
    }

    func matches(_ codec: Codec) -> Bool {
        if let payloadType { return payloadType == codec.payloadType }
        // Compared as ASCII without case, with no lower-cased copies: this runs for every format and selector.
        guard let codecName = codec.name, asciiEqualsIgnoringCase(codecName.utf8, name.utf8) else { return false }
        if let clockRate { guard let rate = clockRate, rate == codec.clockRate else { return false } }
        if let channels { guard let count = channels, count == (codec.channels ?? 1) else { return false } }
        return true
    }

    /// Whether a format that is not a payload number (`t38`) is this selector, without case.
    func matches(format: String) -> Bool {
        guard isASCII, SDPLines.isASCII(format.utf8) else { return format.lowercased() == text.lowercased() }
        return asciiEqualsIgnoringCase(format.utf8, text.utf8)
    }
}

/// What a section says about one format of its `m=` line (or one payload number), found in one pass over the lines
/// by `MediaDescription.describe`.
struct FormatEntry {
    /// The format packed by `key(_:)`, nil when it must be compared as a String.
    let key: UInt64?
    /// The codec, for a payload number.
    var codec: Codec?
    /// Whether an rtpmap has described `codec`: only the first counts.
    var mapped = false
    /// The index in `lines` of its first `a=fmtp`.
    var fmtp: Int?
    /// Scratch for the editing operations: the format is to go (or, for `orderCodecs`, has been placed).
    var marked = false

    init(_ format: String, codec: Codec?) {
        key = SDPLines.withBytes(format) { Self.key($0, 0..<$0.count) }
        self.codec = codec
    }

    /// A short ASCII text as one integer (its bytes, its length in the top byte) so that the payload numbers of
    /// lines and formats compare as integers; nil for text longer than seven bytes or not ASCII.
    static func key(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64? {
        guard range.count <= 7 else { return nil }
        var key = UInt64(range.count) << 56
        for i in range {
            guard bytes[i] < 0x80 else { return nil }
            key |= UInt64(bytes[i]) << (8 * UInt64(i - range.lowerBound))
        }
        return key
    }
}

/// The parts of an `a=rtpmap:` / `a=fmtp:` / `a=rtcp-fb:` line as byte ranges, as `payloadLine` splits it.
struct PayloadLineBytes {
    enum Attribute { case rtpmap, fmtp, rtcpFB }
    let attribute: Attribute
    let payloadType: Range<Int>
    /// From the end of the payload type to the end of the line.
    let rest: Range<Int>

    init?(_ b: UnsafeBufferPointer<UInt8>) {
        // The attribute name is ASCII and ends at the first colon, so bytes decide what `payloadLine` decides
        // with Substrings; the byte after "a=" is then ASCII, so "a=" is a whole-Character prefix.
        func named(_ name: StaticString) -> Bool {
            let n = name.utf8CodeUnitCount
            guard b.count > 2 + n, b[2 + n] == 0x3A else { return false }
            let p = name.utf8Start
            for k in 0..<n where b[2 + k] != p[k] { return false }
            return true
        }
        guard b.count > 2, b[0] == 0x61, b[1] == 0x3D else { return nil }  // a=
        let start: Int
        if named("rtpmap") {
            attribute = .rtpmap
            start = 9
        } else if named("fmtp") {
            attribute = .fmtp
            start = 7
        } else if named("rtcp-fb") {
            attribute = .rtcpFB
            start = 10
        } else {
            return nil
        }
        var end = start
        while end < b.count, b[end] != 0x20, b[end] != 0x09 { end += 1 }
        payloadType = start..<end
        rest = end..<b.count
    }
}

// MARK: - Media section

extension MediaDescription {
    /// The formats of the `m=` line that are RTP payload type numbers, in order, each described by its rtpmap and
    /// fmtp lines or by the static table. Other formats (`t38`, `*`) are not codecs and are left out.
    public var codecs: [Codec] {
        let table = formatTable()
        var out: [Codec] = []
        out.reserveCapacity(table.count)
        for entry in table { if let codec = withFormatParameters(entry) { out.append(codec) } }
        return out
    }

    /// Every format of the `m=` line, by position, as its rtpmap and fmtp lines (or the static table) describe it,
    /// from one pass over the lines: asking about several codecs costs one scan of the section, not one per
    /// format and per selector (SDP filtering was most of an INVITE's adapter time before).
    func formatTable() -> [FormatEntry] {
        var table: [FormatEntry] = []
        table.reserveCapacity(formats.count)
        for f in formats {
            let codec = isPayloadNumber(f) ? Int(f).map(Self.baseCodec) : nil
            table.append(FormatEntry(f, codec: codec))
        }
        describe(&table, keys: formats)
        return table
    }

    /// The payload type as this section describes it, whether or not the `m=` line lists it.
    public func codec(payloadType: Int) -> Codec {
        let pt = String(payloadType)
        var table = [FormatEntry(pt, codec: Self.baseCodec(payloadType))]
        describe(&table, keys: [pt])
        return withFormatParameters(table[0])!
    }

    private static func baseCodec(_ payloadType: Int) -> Codec {
        if (0..<128).contains(payloadType), let codec = Codec.staticByNumber[payloadType] { return codec }
        return Codec(payloadType: payloadType, name: nil, clockRate: nil)
    }

    /// The entry's codec with `formatParameters` from its fmtp line, which `describe` only locates.
    private func withFormatParameters(_ entry: FormatEntry) -> Codec? {
        guard var codec = entry.codec else { return nil }
        if let i = entry.fmtp, let p = Self.payloadLine(lines[i]) {
            codec.formatParameters = String(SDPLines.trimmed(p.rest))
        }
        return codec
    }

    /// Fills in `table` (whose entries are `keys`) from the section's rtpmap and fmtp lines in one pass: the first
    /// rtpmap and the first fmtp of each number count.
    private func describe(_ table: inout [FormatEntry], keys: [String]) {
        guard !table.isEmpty else { return }
        let audio = SDPLines.lowercased(type, equals: "audio")
        for i in lines.indices {
            SDPLines.withBytes(lines[i]) { b in
                guard let p = PayloadLineBytes(b), p.attribute != .rtcpFB else { return }
                let key = FormatEntry.key(b, p.payloadType)
                for j in table.indices where Self.same(b, p.payloadType, key, table[j].key, keys[j]) {
                    if p.attribute == .fmtp {
                        if table[j].fmtp == nil { table[j].fmtp = i }
                    } else if table[j].codec != nil, !table[j].mapped {
                        table[j].mapped = true
                        Self.applyRtpmap(b, p.rest, line: lines[i], audio: audio, to: &table[j].codec!)
                    }
                }
            }
        }
    }

    /// Whether the payload type at `range` of a line is the format `format` (packed as `formatKey`), as String
    /// equality decides.
    @inline(__always)
    private static func same(
        _ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ key: UInt64?, _ formatKey: UInt64?, _ format: String
    ) -> Bool {
        if let key, let formatKey { return key == formatKey }
        return String(decoding: UnsafeBufferPointer(rebasing: b[range]), as: UTF8.self) == format
    }

    /// Sets name, clock rate and channels from the text after an rtpmap's payload type.
    private static func applyRtpmap(
        _ b: UnsafeBufferPointer<UInt8>, _ rest: Range<Int>, line: String, audio: Bool, to codec: inout Codec
    ) {
        guard SDPLines.isASCII(b[rest]) else {
            // Characters, not bytes, bound the parts of non-ASCII text.
            let rest = SDPLines.trimmed(payloadLine(line)!.rest)
            let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
            codec.name = String(parts[0])
            codec.clockRate = parts.count > 1 ? Int(parts[1]) : nil
            codec.channels = parts.count > 2 ? Int(parts[2]) : (audio ? 1 : nil)
            return
        }
        let text = SDPLines.trimmed(b, rest)
        let first = b[text].firstIndex(of: 0x2F)
        let second = first.flatMap { b[($0 + 1)..<text.upperBound].firstIndex(of: 0x2F) }
        let third = second.flatMap { b[($0 + 1)..<text.upperBound].firstIndex(of: 0x2F) }
        codec.name = SDPLines.string(b, text.lowerBound..<(first ?? text.upperBound))
        codec.clockRate = first.flatMap { SDPLines.int(b, ($0 + 1)..<(second ?? text.upperBound)) }
        if let second {
            codec.channels = SDPLines.int(b, (second + 1)..<(third ?? text.upperBound))
        } else {
            codec.channels = audio ? 1 : nil
        }
    }

    /// The formats of the `m=` line that `selector` names (see `Codec.matches(_:)`), in `m=` line order. A format
    /// that is not a payload number matches a selector equal to it, so `"t38"` selects T.38.
    public func formats(matching selector: String) -> [String] {
        let table = formatTable()
        let selector = CodecSelector(selector)
        var out: [String] = []
        for j in formats.indices where matches(selector, j, table) { out.append(formats[j]) }
        return out
    }

    private func matches(_ selector: CodecSelector, _ j: Int, _ table: [FormatEntry]) -> Bool {
        guard let codec = table[j].codec else { return selector.matches(format: formats[j]) }
        return selector.matches(codec)
    }

    /// Marks every format equal to `formats[j]`: the operations decide by format, so a number listed twice goes
    /// (or is placed) as one.
    private func mark(_ j: Int, _ table: inout [FormatEntry], _ value: Bool = true) {
        for k in formats.indices where Self.same(k, j, table, formats) { table[k].marked = value }
    }

    /// Whether formats `k` and `j` are equal Strings.
    @inline(__always)
    private static func same(_ k: Int, _ j: Int, _ table: [FormatEntry], _ formats: [String]) -> Bool {
        if let a = table[k].key, let b = table[j].key { return a == b }
        return formats[k] == formats[j]
    }

    /// Removes every codec that none of `selectors` names. See `removeCodecs(_:)` for what goes with a codec and
    /// for a section left without one.
    public mutating func keepCodecs(_ selectors: [String]) {
        var table = formatTable()
        let selectors = selectors.map(CodecSelector.init)
        for j in formats.indices {
            table[j].marked = !selectors.contains { matches($0, j, table) }
        }
        removeMarkedFormats(&table)
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
        var table = formatTable()
        let selectors = selectors.map(CodecSelector.init)
        for j in formats.indices {
            table[j].marked = selectors.contains { matches($0, j, table) }
        }
        removeMarkedFormats(&table)
    }

    /// Moves the codecs `preference` names to the front, in the order of the list (codecs one selector names keep
    /// their order among themselves); the others follow in their original order. Only the `m=` line changes.
    public mutating func orderCodecs(_ preference: [String]) {
        var table = formatTable()
        order(preference.map(CodecSelector.init), &table)
    }

    /// `keepCodecs(selectors)` then `orderCodecs(selectors)`, with the selectors compiled once (per adapter) and
    /// one format table: what a codec policy (`ProfileRules.codecs`) does to every offer and answer. Building the
    /// table twice and the selectors per message was a fifth of an INVITE's adapter time.
    mutating func keepAndOrderCodecs(_ selectors: [CodecSelector]) {
        var table = formatTable()
        for j in formats.indices {
            table[j].marked = !selectors.contains { matches($0, j, table) }
        }
        removeMarkedFormats(&table)
        // What is left is described as before (the lines removed were those of removed formats), and the order
        // step reads only the entries' codecs and keys. When a section lost every format and keeps its first, the
        // entries left are that format's, once per time it was listed, and the first stands for it.
        var rest = table.filter { !$0.marked }
        order(selectors, &rest)
    }

    private mutating func order(_ preference: [CodecSelector], _ table: inout [FormatEntry]) {
        var ordered: [String] = []
        ordered.reserveCapacity(formats.count)
        for selector in preference {
            for j in formats.indices where !table[j].marked && matches(selector, j, table) {
                ordered.append(formats[j])
                mark(j, &table)
            }
        }
        for j in formats.indices where !table[j].marked { ordered.append(formats[j]) }
        // Unchanged order: leave the array alone, still shared with the copy the caller compares against.
        if ordered != formats { formats = ordered }
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
        let table = formatTable()
        let telephoneEvent = CodecSelector("telephone-event")
        guard let first = formats.indices.first(where: { matches(telephoneEvent, $0, table) }) else { return true }
        let current = formats[first]
        let target = String(payloadType)
        guard current != target else { return true }
        if formats.contains(target) {
            guard lines.contains(where: { Self.isLine($0, "rtpmap", of: target) }) else { return false }
            renumber([current: target, target: current], table)
        } else {
            // Lines left over for a number the m= line does not list would now describe telephone-event twice.
            lines.removeAll { Self.payloadLine($0).map { $0.payloadType == target } ?? false }
            renumber([current: target], table)
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
            a.name == "rtpmap" || a.name == "fmtp" || a.name == "rtcp-fb"
        else { return nil }
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

    /// Removes the formats `table` marks and everything describing them; see `removeCodecs(_:)` for the rules.
    private mutating func removeMarkedFormats(_ table: inout [FormatEntry]) {
        guard table.contains(where: \.marked) else { return }
        var grew = true
        while grew {
            grew = false
            for j in formats.indices where !table[j].marked {
                guard let i = table[j].fmtp else { continue }
                if referencesRemoved(lines[i], j, table) {
                    mark(j, &table)
                    grew = true
                }
            }
        }
        var remaining: [String] = []
        remaining.reserveCapacity(formats.count)
        for j in formats.indices where !table[j].marked { remaining.append(formats[j]) }
        if remaining.isEmpty {
            mark(0, &table, false)
            remaining = [formats[0]]
            port = 0
        } else if !formats.indices.contains(where: { !table[$0].marked && !isAuxiliary($0, table) }) {
            port = 0
        }
        let formats = self.formats
        lines.removeAll { line in
            SDPLines.withBytes(line) { b in
                guard let p = PayloadLineBytes(b) else { return false }
                let key = FormatEntry.key(b, p.payloadType)
                return formats.indices.contains { j in
                    table[j].marked && Self.same(b, p.payloadType, key, table[j].key, formats[j])
                }
            }
        }
        self.formats = remaining
    }

    /// Whether the fmtp parameters of `formats[j]` (its fmtp line is `line`) tie it to a removed payload type:
    /// `apt=` of rtx (RFC 4588), or the `111/111` redundancy list of RED (RFC 2198).
    private func referencesRemoved(_ line: String, _ j: Int, _ table: [FormatEntry]) -> Bool {
        let isRED = table[j].codec?.name.map { SDPLines.lowercased($0, equals: "red") } ?? false
        return SDPLines.withBytes(line) { b in
            guard let p = PayloadLineBytes(b), SDPLines.isASCII(b[p.rest]) else {
                // Characters, not bytes, bound the parameters of non-ASCII text.
                return referencesRemoved(Self.payloadLine(line)!.rest, isRED: isRED, table)
            }
            func removed(_ range: Range<Int>) -> Bool {
                let key = FormatEntry.key(b, range)
                return formats.indices.contains { k in
                    table[k].marked && Self.same(b, range, key, table[k].key, formats[k])
                }
            }
            let params = SDPLines.trimmed(b, p.rest)
            guard !params.isEmpty else { return false }
            var firstSegment: Range<Int>?
            var start = params.lowerBound
            while start <= params.upperBound {
                let end = b[start..<params.upperBound].firstIndex(of: 0x3B) ?? params.upperBound  // ;
                if firstSegment == nil { firstSegment = start..<end }
                let segment = SDPLines.trimmed(b, start..<end)
                if let eq = b[segment].firstIndex(of: 0x3D) {  // =
                    let name = SDPLines.trimmed(b, segment.lowerBound..<eq)
                    if name.count == 3, asciiLower(b[name.lowerBound]) == 0x61,
                        asciiLower(b[name.lowerBound + 1]) == 0x70, asciiLower(b[name.lowerBound + 2]) == 0x74,  // apt
                        removed(SDPLines.trimmed(b, (eq + 1)..<segment.upperBound))
                    {
                        return true
                    }
                }
                start = end + 1
            }
            guard isRED, let list = firstSegment.map({ SDPLines.trimmed(b, $0) }) else { return false }
            var item = list.lowerBound
            while item < list.upperBound {
                let end = b[item..<list.upperBound].firstIndex(of: 0x2F) ?? list.upperBound  // /
                if end > item, removed(item..<end) { return true }
                item = end + 1
            }
            return false
        }
    }

    /// `referencesRemoved` on Characters, for parameters with non-ASCII text.
    private func referencesRemoved(_ parameters: Substring, isRED: Bool, _ table: [FormatEntry]) -> Bool {
        func removed(_ value: Substring) -> Bool {
            formats.indices.contains { table[$0].marked && formats[$0] == String(value) }
        }
        let segments = Self.parameterSegments(parameters)
        if segments.contains(where: { segment in
            let param = Self.parameter(segment)
            return param.name.lowercased() == "apt" && param.value.map(removed) == true
        }) {
            return true
        }
        guard isRED, let list = segments.first else { return false }
        return SDPLines.trimmed(list).split(separator: "/").contains(where: removed)
    }

    private func isAuxiliary(_ j: Int, _ table: [FormatEntry]) -> Bool {
        guard let name = table[j].codec?.name else { return false }
        return Codec.isAuxiliary(name)
    }

    /// Applies `mapping` to every payload number at once (so a swap needs no temporary number): the `m=` line,
    /// the rtpmap, fmtp and rtcp-fb lines, and the fmtp parameters that name other payload types (`apt=` of rtx,
    /// the redundancy list of RED), which would otherwise point at the wrong codec.
    private mutating func renumber(_ mapping: [String: String], _ table: [FormatEntry]) {
        var red = Set<String>()
        for j in formats.indices where table[j].codec?.name.map({ SDPLines.lowercased($0, equals: "red") }) == true {
            red.insert(formats[j])
        }
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

    /// `MediaDescription.keepAndOrderCodecs(_:)` on every section.
    mutating func keepAndOrderCodecs(_ selectors: [CodecSelector]) {
        forEachMedia(nil) { $0.keepAndOrderCodecs(selectors) }
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
