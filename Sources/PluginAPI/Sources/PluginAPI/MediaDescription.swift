/// One media section of an SDP body: the fields of its `m=` line and the lines that follow it up to the next `m=`.
public struct MediaDescription: Sendable, Equatable, CustomStringConvertible {
    /// `audio`, `video`, `image`, `application`... as written.
    public var type: String
    /// The transport port. 0 disables the stream in an offer and rejects it in an answer (RFC 3264).
    public var port: Int
    /// The `/<number of ports>` suffix of the port field, when there is one.
    public var portCount: Int?
    /// `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, `udptl`...
    public var proto: String
    /// RTP payload type numbers (`"18"`, `"101"`) in order of preference, or other formats such as `t38`.
    public var formats: [String]
    /// The lines after the `m=` line (`c=`, `b=`, `a=`...), in order, without line endings.
    public var lines: [String]

    // The m= line as received and its canonical form at parse time. While the fields still produce that canonical
    // form the received line is written back, so unusual spacing in a section nobody edited survives untouched.
    private var receivedMediaLine: String?
    private var receivedCanonicalLine: String?

    public init(type: String, port: Int, portCount: Int? = nil, proto: String, formats: [String],
                lines: [String] = []) {
        self.type = type
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.lines = lines
    }

    /// Parses an `m=` line and the lines of its section. Nil when the `m=` line lacks a type, a numeric port or a
    /// protocol.
    public init?(mediaLine: String, lines: [String] = []) {
        guard mediaLine.hasPrefix("m=") else { return nil }
        let fields = mediaLine.dropFirst(2).split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 3 else { return nil }
        let portField = fields[1].split(separator: "/", omittingEmptySubsequences: false)
        guard let port = Int(portField[0]), port >= 0 else { return nil }
        var portCount: Int?
        if portField.count > 1 {
            guard portField.count == 2, let n = Int(portField[1]) else { return nil }
            portCount = n
        }
        self.init(
            type: String(fields[0]), port: port, portCount: portCount, proto: String(fields[2]),
            formats: fields.dropFirst(3).map(String.init), lines: lines)
        receivedMediaLine = mediaLine
        receivedCanonicalLine = canonicalMediaLine
    }

    /// The `m=` line as the fields describe it, single-spaced.
    public var mediaLine: String {
        let canonical = canonicalMediaLine
        if let receivedMediaLine, canonical == receivedCanonicalLine { return receivedMediaLine }
        return canonical
    }

    private var canonicalMediaLine: String {
        var line = "m=\(type) \(port)"
        if let portCount { line += "/\(portCount)" }
        line += " \(proto)"
        for format in formats { line += " \(format)" }
        return line
    }

    /// The section's text: the `m=` line and every following line, each ended by CRLF.
    public var description: String {
        var out = mediaLine + "\r\n"
        for line in lines {
            out += line
            out += "\r\n"
        }
        return out
    }

    /// Compares what the section says, not how its `m=` line was spaced when received.
    public static func == (lhs: MediaDescription, rhs: MediaDescription) -> Bool {
        lhs.type == rhs.type && lhs.port == rhs.port && lhs.portCount == rhs.portCount && lhs.proto == rhs.proto
            && lhs.formats == rhs.formats && lhs.lines == rhs.lines
    }

    // MARK: Connection and direction

    /// This section's own `c=` line; `SessionDescription.connection(for:)` falls back to the session level.
    public var connection: SDPConnection? {
        lines.lazy.compactMap { $0.hasPrefix("c=") ? SDPConnection($0) : nil }.first
    }

    /// This section's own direction attribute; `SessionDescription.effectiveDirection(of:)` applies the session
    /// level and the `sendrecv` default. Setting it replaces the first direction attribute in place and removes any
    /// others, or appends one when there is none; nil removes them all.
    public var direction: MediaDirection? {
        get { SDPLines.direction(in: lines) }
        set { SDPLines.setDirection(newValue, in: &lines) }
    }

    // MARK: Attributes

    /// Values of the `a=<name>:<value>` lines, in order; a flag attribute (`a=<name>`) yields "".
    public func attributeValues(_ name: String) -> [String] {
        SDPLines.attributeValues(name, in: lines)
    }

    /// Removes the `a=` lines whose text after `a=` starts with `prefix`, compared case-insensitively.
    public mutating func removeAttributes(prefix: String) {
        SDPLines.removeAttributes(prefix: prefix, from: &lines)
    }
}
