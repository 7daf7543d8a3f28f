/// An SDP body (RFC 8866, formerly RFC 4566) as an ordered list of lines: the session-level lines, then one
/// `MediaDescription` per `m=` line. Every line is kept as written, so an unchanged description serialises to the
/// bytes it was parsed from (with CRLF line endings); the editing operations touch only the lines they are about.
///
/// Operations that take `mediaType: String? = nil` apply to every `audio` and `video` section when it is nil, and
/// to every section of that type (compared case-insensitively) otherwise.
public struct SessionDescription: Sendable, Equatable, CustomStringConvertible {
    /// The lines before the first `m=` line (`v=`, `o=`, `s=`, `c=`, `t=`, `a=`...), in order, without line endings.
    public var sessionLines: [String]
    /// The media sections, in the order of their `m=` lines. Offer/answer matches sections by position
    /// (RFC 3264 section 6), so an answer or re-offer must keep them; see `rejectMedia(type:)`.
    public var media: [MediaDescription]

    public init(sessionLines: [String], media: [MediaDescription] = []) {
        self.sessionLines = sessionLines
        self.media = media
    }

    /// Parses `text`, which may end its lines with CRLF or a bare LF. Returns nil when the first non-empty line is
    /// not a `v=` line (so the body is not SDP) or when an `m=` line does not have a media type, a numeric port and
    /// a protocol: a body the model cannot describe is better left alone than rewritten.
    /// Empty lines are dropped, as SDP has no place for them.
    public init?(_ text: String) {
        guard let parsed = SDPLines.withBytes(text, Self.parse) else { return nil }
        self = parsed
    }

    /// The parser behind `init?(_:)`, on the bytes: SDP is ASCII in practice, and walking Characters (where
    /// "\r\n" is one grapheme) cost more than the rest of an INVITE's SDP work. Every line array is sized before
    /// it is filled, so each is allocated once.
    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> SessionDescription? {
        var newlines = 0
        for byte in text where byte == 0x0A { newlines += 1 }
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: newlines + 1) { found in
            // The non-empty lines without their line endings: a bare LF ends a line as well as CRLF.
            var count = 0
            var start = 0
            for end in 0...text.count where end == text.count || text[end] == 0x0A {
                var last = end
                if last > start, text[last - 1] == 0x0D { last -= 1 }
                if last > start {
                    found[count] = start..<last
                    count += 1
                }
                start = end + 1
            }
            let lines = UnsafeBufferPointer(rebasing: found[..<count])
            guard let first = lines.first, SDPLines.hasPrefix(text, first, 0x76) else { return nil }  // v=
            var m = 0
            while m < lines.count, !SDPLines.hasPrefix(text, lines[m], 0x6D) { m += 1 }  // m=
            let session = SDPLines.strings(text, lines[..<m])
            var sections: [MediaDescription] = []
            if m < lines.count {
                var sectionCount = 0
                for line in lines[m...] where SDPLines.hasPrefix(text, line, 0x6D) { sectionCount += 1 }
                sections.reserveCapacity(sectionCount)
            }
            while m < lines.count {
                var next = m + 1
                while next < lines.count, !SDPLines.hasPrefix(text, lines[next], 0x6D) { next += 1 }
                guard
                    let section = MediaDescription(
                        mediaLine: UnsafeBufferPointer(rebasing: text[lines[m]]), text: nil,
                        lines: SDPLines.strings(text, lines[(m + 1)..<next]))
                else { return nil }
                sections.append(section)
                m = next
            }
            return SessionDescription(sessionLines: session, media: sections)
        }
    }

    /// The SDP text, every line ended by CRLF as RFC 8866 requires.
    public var description: String {
        var count = 0
        for line in sessionLines { count += line.utf8.count + 2 }
        for section in media { count += section.textCount }
        return SDPWriter.string(count: count) { out in
            for line in sessionLines { out.line(line) }
            for section in media { section.write(to: &out) }
        }
    }

    // MARK: Session level

    /// The session-level connection (`c=`), which applies to every media section that has none of its own.
    public var connection: SDPConnection? {
        sessionLines.lazy.compactMap { $0.hasPrefix("c=") ? SDPConnection($0) : nil }.first
    }

    /// Where the media of `section` goes: its own `c=` line, else the session-level one.
    public func connection(for section: MediaDescription) -> SDPConnection? {
        section.connection ?? connection
    }

    /// The session-level direction attribute, which applies to every media section that has none of its own.
    /// Setting it replaces the first one in place (removing any others); nil removes them.
    public var direction: MediaDirection? {
        get { SDPLines.direction(in: sessionLines) }
        set { SDPLines.setDirection(newValue, in: &sessionLines) }
    }

    /// The direction in force for `section`: its own attribute, else the session-level one, else `sendrecv`
    /// (RFC 3264 section 5.1). Hold detection wants this rather than either attribute alone.
    public func effectiveDirection(of section: MediaDescription) -> MediaDirection {
        section.direction ?? direction ?? .sendrecv
    }

    /// Values of the session-level `a=<name>:<value>` lines, in order; a flag attribute (`a=<name>`) yields "".
    public func attributeValues(_ name: String) -> [String] {
        SDPLines.attributeValues(name, in: sessionLines)
    }

    // MARK: Editing

    /// Sets the direction attribute of each selected media section (see `MediaDescription.direction`).
    public mutating func setDirection(_ direction: MediaDirection?, mediaType: String? = nil) {
        forEachMedia(mediaType) { $0.direction = direction }
    }

    /// Removes every media section of `type` (case-insensitive). Fine for an initial offer; an answer or a re-offer
    /// must keep the number and order of `m=` lines, and should use `rejectMedia(type:)` instead.
    public mutating func removeMedia(type: String) {
        let type = type.lowercased()
        media.removeAll { SDPLines.lowercased($0.type, equals: type) }
    }

    /// Sets the port of every media section of `type` to 0, which disables the stream in an offer and rejects it
    /// in an answer (RFC 3264 sections 6 and 8.2) while keeping the `m=` line the other side correlates by position.
    public mutating func rejectMedia(type: String) {
        let type = type.lowercased()
        for i in media.indices where SDPLines.lowercased(media[i].type, equals: type) { media[i].port = 0 }
    }

    /// Removes the `a=` lines whose text after `a=` starts with `prefix`, compared case-insensitively so `X-` also
    /// catches `x-`: `"X-"` removes `a=X-sqn:0`, `"rtcp-fb"` removes every `a=rtcp-fb:...`. With `mediaType` nil
    /// this applies to the session level and every media section (not only audio and video, since vendor
    /// attributes turn up anywhere); with a type, only to the sections of that type.
    public mutating func removeAttributes(prefix: String, mediaType: String? = nil) {
        if let mediaType {
            let type = mediaType.lowercased()
            for i in media.indices where SDPLines.lowercased(media[i].type, equals: type) {
                media[i].removeAttributes(prefix: prefix)
            }
        } else {
            SDPLines.removeAttributes(prefix: prefix, from: &sessionLines)
            for i in media.indices { media[i].removeAttributes(prefix: prefix) }
        }
    }

    /// Calls `body` for each section `mediaType` selects (nil: audio and video).
    mutating func forEachMedia(_ mediaType: String?, _ body: (inout MediaDescription) -> Void) {
        let type = mediaType?.lowercased()
        for i in media.indices {
            let t = media[i].type
            let selected =
                type.map { SDPLines.lowercased(t, equals: $0) }
                ?? (SDPLines.lowercased(t, equals: "audio") || SDPLines.lowercased(t, equals: "video"))
            if selected { body(&media[i]) }
        }
    }
}

/// The value of a `c=` line (`IN IP4 192.0.2.10`).
public struct SDPConnection: Sendable, Hashable, CustomStringConvertible {
    /// `IN` in practice.
    public var networkType: String
    /// `IP4` or `IP6`.
    public var addressType: String
    /// The address or host name without any `/ttl` or `/count` suffix of multicast addresses.
    public var address: String

    public init(networkType: String = "IN", addressType: String, address: String) {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    /// Parses a `c=` line, or just its value.
    public init?(_ line: String) {
        let value = line.hasPrefix("c=") ? line.dropFirst(2) : line[...]
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 3 else { return nil }
        networkType = String(parts[0])
        addressType = String(parts[1])
        address = String(parts[2].prefix(while: { $0 != "/" }))
    }

    /// `0.0.0.0` (or `::`): the RFC 2543 way to put a call on hold, which older equipment still sends.
    public var isUnspecified: Bool { address == "0.0.0.0" || address == "::" }

    public var description: String { "\(networkType) \(addressType) \(address)" }
}

/// The direction attributes of RFC 3264 section 5.1 / RFC 8866 section 6.7.
public enum MediaDirection: String, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// The direction the other side states in its answer: `sendonly` answers `recvonly` and vice versa.
    public var reversed: MediaDirection {
        switch self {
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        case .sendrecv, .inactive: self
        }
    }
}

/// Line helpers shared by the session level and the media sections, which both keep their lines as `[String]`.
enum SDPLines {
    /// Splits `a=name:value` / `a=name` into substrings of `line`, so callers can splice around them.
    static func attribute(_ line: String) -> (name: Substring, value: Substring?)? {
        guard line.hasPrefix("a=") else { return nil }
        let body = line.dropFirst(2)
        guard let colon = body.utf8.firstIndex(of: 0x3A) else { return (body, nil) }
        return (body[..<colon], body[body.utf8.index(after: colon)...])
    }

    static func attributeValues(_ name: String, in lines: [String]) -> [String] {
        lines.compactMap { line in
            guard let a = attribute(line), a.name == name else { return nil }
            return a.value.map(String.init) ?? ""
        }
    }

    static func removeAttributes(prefix: String, from lines: inout [String]) {
        let prefix = prefix.lowercased()
        lines.removeAll { $0.hasPrefix("a=") && $0.dropFirst(2).lowercased().hasPrefix(prefix) }
    }

    /// Replaces the first line `matches` selects by `replacement` and removes the others; appends `replacement`
    /// when none matches. A nil replacement removes them all.
    static func replaceLines(in lines: inout [String], with replacement: String?, where matches: (String) -> Bool) {
        var replaced = false
        var out: [String] = []
        out.reserveCapacity(lines.count + 1)
        for line in lines {
            guard matches(line) else {
                out.append(line)
                continue
            }
            if let replacement, !replaced { out.append(replacement) }
            replaced = true
        }
        if let replacement, !replaced { out.append(replacement) }
        lines = out
    }

    static func direction(in lines: [String]) -> MediaDirection? {
        for line in lines {
            if let a = attribute(line), a.value == nil, let d = MediaDirection(rawValue: String(a.name)) { return d }
        }
        return nil
    }

    static func setDirection(_ direction: MediaDirection?, in lines: inout [String]) {
        replaceLines(in: &lines, with: direction.map { "a=\($0.rawValue)" }) { line in
            guard let a = attribute(line), a.value == nil else { return false }
            return MediaDirection(rawValue: String(a.name)) != nil
        }
    }

    /// `s` without leading and trailing spaces and tabs, as whole Characters.
    static func trimmed(_ s: Substring) -> Substring {
        let u = s.utf8
        var start = u.startIndex
        var end = u.endIndex
        while start < end, u[start] == 0x20 || u[start] == 0x09 { u.formIndex(after: &start) }
        while start < end {
            let before = u.index(before: end)
            guard u[before] == 0x20 || u[before] == 0x09 else { break }
            end = before
        }
        // A space next to a combining or prepended mark is part of that mark's Character, which the Character-wise
        // trim keeps; ASCII at both ends of what is left means every removed space stood alone.
        if start == end || (u[start] < 0x80 && u[u.index(before: end)] < 0x80) { return s[start..<end] }
        var s = s
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }

    /// Whether `s.lowercased() == lowered`, without the lower-cased copy when both are ASCII.
    static func lowercased(_ s: String, equals lowered: String) -> Bool {
        let a = s.utf8
        let b = lowered.utf8
        guard isASCII(a), isASCII(b) else { return s.lowercased() == lowered }
        return asciiEqualsIgnoringCase(a, b)
    }

    // MARK: Bytes

    /// Calls `body` with the UTF-8 of `s`, without a copy for a native string.
    @inline(__always)
    static func withBytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = s.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = s
        return copy.withUTF8(body)
    }

    static func isASCII<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        var all: UInt8 = 0
        for byte in bytes { all |= byte }
        return all < 0x80
    }

    /// Whether the line at `range` of `text` starts with `<letter>=`, as `String.hasPrefix` decides it: a
    /// non-ASCII byte after the `=` may be a mark that joins it into another Character, so that case asks String.
    static func hasPrefix(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ letter: UInt8) -> Bool {
        guard range.count >= 2, text[range.lowerBound] == letter, text[range.lowerBound + 1] == 0x3D else {
            return false
        }
        if range.count == 2 || text[range.lowerBound + 2] < 0x80 { return true }
        return string(text, range).hasPrefix(String(decoding: [letter, 0x3D], as: UTF8.self))
    }

    /// The lines at `ranges` of `text` as Strings, in an array allocated once.
    static func strings(_ text: UnsafeBufferPointer<UInt8>, _ ranges: Slice<UnsafeBufferPointer<Range<Int>>>)
        -> [String]
    {
        var out: [String] = []
        out.reserveCapacity(ranges.count)
        for range in ranges { out.append(string(text, range)) }
        return out
    }

    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// `Int(String(bytes))` without the String: an optional sign, then decimal digits, nil on overflow.
    static func int(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        guard i < range.upperBound else { return nil }
        let negative = bytes[i] == 0x2D
        if negative || bytes[i] == 0x2B {
            i += 1
            guard i < range.upperBound else { return nil }
        }
        var n = 0
        while i < range.upperBound {
            let digit = bytes[i] &- 0x30
            guard digit < 10 else { return nil }
            let (times10, o1) = n.multipliedReportingOverflow(by: 10)
            let (next, o2) =
                negative
                ? times10.subtractingReportingOverflow(Int(digit)) : times10.addingReportingOverflow(Int(digit))
            guard !o1, !o2 else { return nil }
            n = next
            i += 1
        }
        return n
    }

    /// `range` without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound
        var end = range.upperBound
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while start < end, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return start..<end
    }
}

/// Writes SDP text into a String allocated once at its final size; the caller counts the bytes first.
struct SDPWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    static func string(count: Int, _ body: (inout SDPWriter) -> Void) -> String {
        guard count > 0 else { return "" }
        return String(unsafeUninitializedCapacity: count) { buffer in
            var writer = SDPWriter(base: buffer.baseAddress!, capacity: buffer.count)
            body(&writer)
            precondition(writer.count == count, "SDP text counted \(count) bytes, wrote \(writer.count)")
            return writer.count
        }
    }

    private init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    mutating func append(_ s: String) {
        SDPLines.withBytes(s) { bytes in
            guard let from = bytes.baseAddress else { return }
            precondition(count + bytes.count <= capacity)
            (base + count).update(from: from, count: bytes.count)
            count += bytes.count
        }
    }

    mutating func append(byte: UInt8) {
        precondition(count < capacity)
        base[count] = byte
        count += 1
    }

    /// `line` and CRLF.
    mutating func line(_ line: String) {
        append(line)
        append(byte: 0x0D)
        append(byte: 0x0A)
    }

    /// `"\(n)"`.
    mutating func append(decimal n: Int) {
        let digits = Self.decimalCount(n)
        precondition(count + digits <= capacity)
        if n < 0 { base[count] = 0x2D }
        var rest = n.magnitude
        var i = count + digits
        repeat {
            i -= 1
            base[i] = 0x30 + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
        count += digits
    }

    /// The length of `"\(n)"`.
    static func decimalCount(_ n: Int) -> Int {
        var rest = n.magnitude
        var digits = n < 0 ? 2 : 1
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }
}
