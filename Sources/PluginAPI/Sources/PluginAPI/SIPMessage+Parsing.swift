/// Structural framing of a SIP message: start line, header fields (folded lines joined), body by Content-Length.
/// The host validates the grammar with libosip2 before it builds this model; this framing keeps the order and
/// text of the header fields, which osip's model does not (it sorts known headers into separate lists).
/// Plugin tests use it to read fixtures without the host.
public struct SIPFramingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension SIPMessage {
    public init(parsing text: String) throws {
        try self.init(bytes: Array(text.utf8))
    }

    /// Frames `bytes`. A Content-Length larger than the bytes after the header section is an error; octets beyond
    /// it are discarded (RFC 3261 section 18.3). Whether a short Content-Length on UDP is acceptable is the
    /// transport's decision, not the model's.
    public init(bytes: [UInt8]) throws {
        // Find the end of the header section: CRLFCRLF, or a bare LFLF from lenient peers.
        var headerEnd = -1
        var bodyStart = bytes.count
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 0x0A {
                if bytes[i + 1] == 0x0A {
                    headerEnd = i
                    bodyStart = i + 2
                    break
                }
                if bytes[i + 1] == 0x0D, i + 2 < bytes.count, bytes[i + 2] == 0x0A {
                    headerEnd = i
                    bodyStart = i + 3
                    break
                }
            }
            i += 1
        }
        if headerEnd < 0 { headerEnd = bytes.count }
        // Split on bytes, not Characters: in a Swift String "\r\n" is one grapheme and never equals "\n".
        var lines: [String] = []
        var lineStart = 0
        var j = 0
        while j <= headerEnd {
            if j == headerEnd || bytes[j] == 0x0A {
                var lineEnd = j
                if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
                if let f = bytes[lineStart..<lineEnd].first, f == 0x20 || f == 0x09, !lines.isEmpty {
                    // RFC 3261 section 7.3.1: a folded line continues the previous field, joined by one space.
                    lines[lines.count - 1] += " " + String(Substring(line).trimmingSIPWhitespace())
                } else if lineEnd > lineStart {
                    lines.append(line)
                }
                lineStart = j + 1
            }
            j += 1
        }
        guard let first = lines.first else { throw SIPFramingError("empty message") }
        startLine = try Self.parseStartLine(Substring(first))
        var headers: [SIPHeader] = []
        var contentLength: Int?
        for fullLine in lines.dropFirst() {
            let line = Substring(fullLine)
            guard let colon = line.firstIndex(of: ":") else {
                throw SIPFramingError("header line without a colon: \(line.prefix(40))")
            }
            let name = String(line[..<colon].trimmingSIPWhitespace())
            guard !name.isEmpty, !name.contains(" ") else { throw SIPFramingError("bad header name: \(name)") }
            let value = String(line[line.index(after: colon)...].trimmingSIPWhitespace())
            let h = SIPHeader(name, value)
            if h.canonicalName == "content-length" {
                guard let n = Int(value), n >= 0 else { throw SIPFramingError("bad Content-Length: \(value)") }
                if let contentLength, contentLength != n {
                    throw SIPFramingError("conflicting Content-Length values")
                }
                contentLength = n
            } else {
                headers.append(h)
            }
        }
        self.headers = headers
        let available = Swift.max(0, bytes.count - bodyStart)
        let length = contentLength ?? available
        if length > available {
            throw SIPFramingError("Content-Length \(length) exceeds the \(available) body bytes received")
        }
        body = Array(bytes[bodyStart..<(bodyStart + length)])
    }

    static func parseStartLine(_ line: Substring) throws -> StartLine {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        if line.hasPrefix("SIP/") {
            guard parts.count >= 2, let status = Int(parts[1]), (100...699).contains(status) else {
                throw SIPFramingError("bad status line: \(line.prefix(60))")
            }
            return .response(
                version: String(parts[0]), status: status, reason: parts.count > 2 ? String(parts[2]) : "")
        }
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].hasPrefix("SIP/") else {
            throw SIPFramingError("bad request line: \(line.prefix(60))")
        }
        return .request(method: String(parts[0]), uri: String(parts[1]), version: String(parts[2]))
    }
}
