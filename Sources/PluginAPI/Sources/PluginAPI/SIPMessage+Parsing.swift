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
        let (lines, bodyStart) = Self.headerLines(bytes)
        // Work on byte ranges and make each String once: this runs for every message received, and per-line String
        // work (or Character comparisons, where "\r\n" is a single grapheme) costs several times osip's own parse.
        guard let first = lines.first else { throw SIPFramingError("empty message") }
        // Octets that are not UTF-8 are kept (`OctetText`); one look at the header section tells whether any
        // value needs more than the plain decoding.
        let ascii = OctetText.isASCII(bytes[0..<Swift.min(bodyStart, bytes.count)])
        func text(_ range: Range<Int>) -> String {
            ascii ? String(decoding: bytes[range], as: UTF8.self) : OctetText.decode(bytes[range])
        }
        startLine = try Self.parseStartLine(bytes[first], ascii: ascii)
        var headers: [SIPHeader] = []
        headers.reserveCapacity(lines.count)
        var contentLength: Int?
        var k = 1
        while k < lines.count {
            let line = lines[k]
            guard let colon = bytes[line].firstIndex(of: 0x3A) else {
                let text = String(decoding: bytes[line].prefix(40), as: UTF8.self)
                throw SIPFramingError("header line without a colon: \(text)")
            }
            let nameRange = Self.trim(bytes, line.lowerBound..<colon)
            guard !nameRange.isEmpty, !bytes[nameRange].contains(0x20), !bytes[nameRange].contains(0x09) else {
                throw SIPFramingError("bad header name: \(String(decoding: bytes[nameRange], as: UTF8.self))")
            }
            var value = text(Self.trim(bytes, (colon + 1)..<line.upperBound))
            // RFC 3261 section 7.3.1: folded lines continue the field, joined by one space.
            while k + 1 < lines.count, bytes[lines[k + 1].lowerBound] == 0x20 || bytes[lines[k + 1].lowerBound] == 0x09
            {
                k += 1
                let more = Self.trim(bytes, lines[k])
                if !more.isEmpty { value += (value.isEmpty ? "" : " ") + text(more) }
            }
            if Self.isContentLength(bytes[nameRange]) {
                guard let n = Int(value), n >= 0 else { throw SIPFramingError("bad Content-Length: \(value)") }
                if let contentLength, contentLength != n {
                    throw SIPFramingError("conflicting Content-Length values")
                }
                contentLength = n
            } else {
                headers.append(SIPHeader(text(nameRange), value))
            }
            k += 1
        }
        self.headers = headers
        let available = Swift.max(0, bytes.count - bodyStart)
        let length = contentLength ?? available
        if length > available {
            throw SIPFramingError("Content-Length \(length) exceeds the \(available) body bytes received")
        }
        body = Array(bytes[bodyStart..<(bodyStart + length)])
    }

    /// The header section's lines (start line included) and where the body starts (`bytes.count` when there is no
    /// blank line). The section ends at the first LF followed by LF or CRLF (CRLFCRLF, or a bare LFLF from lenient
    /// peers); each line loses a CR before its LF, and empty lines are skipped.
    static func headerLines(_ bytes: [UInt8]) -> (lines: [Range<Int>], bodyStart: Int) {
        // One pass over the line feeds, found with memchr. Byte by byte, the two passes this replaced were a tenth
        // of the framing.
        var bodyStart = bytes.count
        // Room for a typical message's lines at once: growing 1, 2, 4, ... 32 cost five allocations per message.
        var lines: [Range<Int>] = []
        lines.reserveCapacity(32)
        bytes.withUnsafeBufferPointer { b in
            var lineStart = 0
            while true {
                // Without a further LF the last line runs to the end of the bytes.
                let lf = firstIndex(of: 0x0A, in: b, from: lineStart) ?? b.count
                var end = lf
                if end > lineStart, b[end - 1] == 0x0D { end -= 1 }
                if end > lineStart { lines.append(lineStart..<end) }
                guard lf < b.count else { return }
                if lf + 1 < b.count {
                    if b[lf + 1] == 0x0A {
                        bodyStart = lf + 2
                        return
                    }
                    if b[lf + 1] == 0x0D, lf + 2 < b.count, b[lf + 2] == 0x0A {
                        bodyStart = lf + 3
                        return
                    }
                }
                lineStart = lf + 1
            }
        }
        return (lines, bodyStart)
    }

    static func trim(_ bytes: [UInt8], _ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound
        var hi = range.upperBound
        while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
        while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
        return lo..<hi
    }

    /// `Content-Length` or `l`, any case, without making a String.
    static func isContentLength(_ name: ArraySlice<UInt8>) -> Bool {
        if name.count == 1 { return name.first! | 0x20 == UInt8(ascii: "l") }
        // On lent buffers: a zip over the slice and a String's UTF8View stepped both iterators generically, about
        // 2,000 instructions for the one field of each message that is Content-Length.
        return name.count == 14 && asciiEqualsIgnoringCase(name, "content-length".utf8)
    }

    /// The start line, split at its first two spaces on bytes (each part becomes a String once; the line as a
    /// whole only for an error message).
    static func parseStartLine(_ line: ArraySlice<UInt8>, ascii: Bool = false) throws -> StartLine {
        func text(_ part: ArraySlice<UInt8>) -> String {
            ascii ? String(decoding: part, as: UTF8.self) : OctetText.decode(part)
        }
        func hasSIPPrefix(_ part: ArraySlice<UInt8>) -> Bool { part.starts(with: "SIP/".utf8) }
        let space1 = line.firstIndex(of: 0x20)
        let space2 = space1.flatMap { line[($0 + 1)...].firstIndex(of: 0x20) }
        if hasSIPPrefix(line) {
            guard let space1, let status = Int(text(line[(space1 + 1)..<(space2 ?? line.endIndex)])),
                (100...699).contains(status)
            else {
                throw SIPFramingError("bad status line: \(text(line.prefix(60)))")
            }
            return .response(
                version: text(line[..<space1]), status: status, reason: space2.map { text(line[($0 + 1)...]) } ?? "")
        }
        guard let space1, let space2, space1 > line.startIndex, space2 > space1 + 1, hasSIPPrefix(line[(space2 + 1)...])
        else {
            throw SIPFramingError("bad request line: \(text(line.prefix(60)))")
        }
        return .request(
            method: text(line[..<space1]), uri: text(line[(space1 + 1)..<space2]), version: text(line[(space2 + 1)...]))
    }
}
