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

    // The m= line as received, kept only when it is not already in canonical form. While the fields still produce
    // the canonical form of this line it is written back, so unusual spacing in a section nobody edited survives
    // untouched. A received line that is canonical needs no copy: the fields spell it.
    private var receivedMediaLine: String?

    public init(
        type: String, port: Int, portCount: Int? = nil, proto: String, formats: [String],
        lines: [String] = []
    ) {
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
        let parsed = SDPLines.withBytes(mediaLine) { MediaDescription(mediaLine: $0, text: mediaLine, lines: lines) }
        guard let section = parsed else { return nil }
        self = section
    }

    /// `init?(mediaLine:lines:)` on the bytes of the line; `text` is the line as a String when the caller has one
    /// (the session parser does not, and needs none for a canonical line).
    init?(mediaLine bytes: UnsafeBufferPointer<UInt8>, text: String?, lines: [String]) {
        guard SDPLines.isASCII(bytes) else {
            self.init(characters: text ?? String(decoding: bytes, as: UTF8.self), lines: lines)
            return
        }
        guard bytes.count >= 2, bytes[0] == 0x6D, bytes[1] == 0x3D else { return nil }  // m=
        var i = 2
        var canonical = true
        func field() -> Range<Int>? {
            let separated = i
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
            let start = i
            while i < bytes.count, bytes[i] != 0x20, bytes[i] != 0x09 { i += 1 }
            // Canonical: the first field right after "m=", one space before each other one, nothing at the end.
            let blanks = start - separated
            if i == start {
                if blanks > 0 { canonical = false }
                return nil
            }
            if blanks != (separated == 2 ? 0 : 1) || (blanks == 1 && bytes[separated] != 0x20) { canonical = false }
            return start..<i
        }
        guard let typeField = field(), let portField = field(), let protoField = field() else { return nil }
        let slash = bytes[portField].firstIndex(of: 0x2F)
        guard let port = SDPLines.int(bytes, portField.lowerBound..<(slash ?? portField.upperBound)), port >= 0
        else { return nil }
        canonical = canonical && Self.isCanonical(port, bytes, portField.lowerBound..<(slash ?? portField.upperBound))
        var portCount: Int?
        if let slash {
            let countField = (slash + 1)..<portField.upperBound
            guard !bytes[countField].contains(0x2F), let n = SDPLines.int(bytes, countField) else { return nil }
            canonical = canonical && Self.isCanonical(n, bytes, countField)
            portCount = n
        }
        var separators = 0
        for byte in bytes[i...] where byte == 0x20 || byte == 0x09 { separators += 1 }
        var formats: [String] = []
        formats.reserveCapacity(separators)
        while let format = field() { formats.append(SDPLines.string(bytes, format)) }
        self.init(
            type: SDPLines.string(bytes, typeField), port: port, portCount: portCount,
            proto: SDPLines.string(bytes, protoField), formats: formats, lines: lines)
        if !canonical { receivedMediaLine = text ?? String(decoding: bytes, as: UTF8.self) }
    }

    /// The parser for an `m=` line with non-ASCII text, where fields end at Characters rather than bytes.
    private init?(characters mediaLine: String, lines: [String]) {
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
        if !mediaLine.utf8.elementsEqual(canonicalMediaLine.utf8) { receivedMediaLine = mediaLine }
    }

    /// Whether `range` of `bytes` is how `"\(n)"` writes the number it holds: no sign but `-`, no leading zero.
    private static func isCanonical(_ n: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        SDPWriter.decimalCount(n) == range.count && bytes[range.lowerBound] != 0x2B
            && (range.count == 1 || bytes[range.lowerBound + (n < 0 ? 1 : 0)] != 0x30)
    }

    /// The `m=` line as the fields describe it, single-spaced.
    public var mediaLine: String {
        receivedMediaLineInForce ?? canonicalMediaLine
    }

    /// The received `m=` line while the fields still say what it said.
    private var receivedMediaLineInForce: String? {
        guard let receivedMediaLine,
            let received = MediaDescription(characters: receivedMediaLine, lines: []),
            received.canonicalMediaLine == canonicalMediaLine
        else { return nil }
        return receivedMediaLine
    }

    private var canonicalMediaLine: String {
        SDPWriter.string(count: canonicalMediaLineCount) { writeCanonicalMediaLine(to: &$0) }
    }

    private var canonicalMediaLineCount: Int {
        var count = 2 + type.utf8.count + 1 + SDPWriter.decimalCount(port) + 1 + proto.utf8.count
        if let portCount { count += 1 + SDPWriter.decimalCount(portCount) }
        for format in formats { count += 1 + format.utf8.count }
        return count
    }

    private func writeCanonicalMediaLine(to out: inout SDPWriter) {
        out.append(byte: 0x6D)
        out.append(byte: 0x3D)
        out.append(type)
        out.append(byte: 0x20)
        out.append(decimal: port)
        if let portCount {
            out.append(byte: 0x2F)
            out.append(decimal: portCount)
        }
        out.append(byte: 0x20)
        out.append(proto)
        for format in formats {
            out.append(byte: 0x20)
            out.append(format)
        }
    }

    /// The section's text: the `m=` line and every following line, each ended by CRLF.
    public var description: String {
        SDPWriter.string(count: textCount) { write(to: &$0) }
    }

    /// The length of `description` in bytes.
    var textCount: Int {
        var count = (receivedMediaLineInForce?.utf8.count ?? canonicalMediaLineCount) + 2
        for line in lines { count += line.utf8.count + 2 }
        return count
    }

    func write(to out: inout SDPWriter) {
        if let received = receivedMediaLineInForce {
            out.line(received)
        } else {
            writeCanonicalMediaLine(to: &out)
            out.append(byte: 0x0D)
            out.append(byte: 0x0A)
        }
        for line in lines { out.line(line) }
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
