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
        // Split on bytes, not Characters: in a Swift String "\r\n" is one grapheme and never equals "\n".
        var lines: [String] = []
        for raw in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = raw.last == 0x0D ? raw.dropLast() : raw[...]
            if !line.isEmpty { lines.append(String(decoding: line, as: UTF8.self)) }
        }
        guard let first = lines.first, first.hasPrefix("v=") else { return nil }

        var session: [String] = []
        var sections: [MediaDescription] = []
        var mediaLine: String?
        var mediaLines: [String] = []
        func closeSection() -> Bool {
            guard let m = mediaLine else { return true }
            guard let section = MediaDescription(mediaLine: m, lines: mediaLines) else { return false }
            sections.append(section)
            return true
        }
        for line in lines {
            if line.hasPrefix("m=") {
                guard closeSection() else { return nil }
                mediaLine = line
                mediaLines = []
            } else if mediaLine == nil {
                session.append(line)
            } else {
                mediaLines.append(line)
            }
        }
        guard closeSection() else { return nil }
        self.init(sessionLines: session, media: sections)
    }

    /// The SDP text, every line ended by CRLF as RFC 8866 requires.
    public var description: String {
        var out = ""
        for line in sessionLines {
            out += line
            out += "\r\n"
        }
        for section in media { out += section.description }
        return out
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
        media.removeAll { $0.type.lowercased() == type }
    }

    /// Sets the port of every media section of `type` to 0, which disables the stream in an offer and rejects it
    /// in an answer (RFC 3264 sections 6 and 8.2) while keeping the `m=` line the other side correlates by position.
    public mutating func rejectMedia(type: String) {
        let type = type.lowercased()
        for i in media.indices where media[i].type.lowercased() == type { media[i].port = 0 }
    }

    /// Removes the `a=` lines whose text after `a=` starts with `prefix`, compared case-insensitively so `X-` also
    /// catches `x-`: `"X-"` removes `a=X-sqn:0`, `"rtcp-fb"` removes every `a=rtcp-fb:...`. With `mediaType` nil
    /// this applies to the session level and every media section (not only audio and video, since vendor
    /// attributes turn up anywhere); with a type, only to the sections of that type.
    public mutating func removeAttributes(prefix: String, mediaType: String? = nil) {
        if let mediaType {
            let type = mediaType.lowercased()
            for i in media.indices where media[i].type.lowercased() == type {
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
            let t = media[i].type.lowercased()
            let selected = type.map { t == $0 } ?? (t == "audio" || t == "video")
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

    static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
