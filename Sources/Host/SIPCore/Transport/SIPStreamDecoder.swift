import NIOCore

/// Why a stream connection can no longer be framed. Every case means the byte stream has lost (or would lose) its
/// message boundaries, so the connection must be closed: there is no way to find where the next message starts.
public enum SIPStreamDecoderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No blank line ended the header section within `limit` bytes.
    case headerSectionTooLong(limit: Int)
    /// Header section plus Content-Length would exceed `limit` bytes (found before the body is buffered).
    case messageTooLarge(length: Int, limit: Int)
    /// RFC 3261 section 20.14: on a stream the header is mandatory; without it the body cannot be delimited.
    case missingContentLength
    /// A Content-Length that is not a non-negative decimal number.
    case invalidContentLength(String)
    /// Several Content-Length fields with different values: either could be the frame, so neither is trusted.
    case conflictingContentLength

    public var description: String {
        switch self {
        case .headerSectionTooLong(let limit): "header section longer than \(limit) bytes"
        case .messageTooLarge(let length, let limit): "message of \(length) bytes exceeds the \(limit)-byte limit"
        case .missingContentLength: "message without Content-Length on a stream transport"
        case .invalidContentLength(let value): "bad Content-Length: \(value)"
        case .conflictingContentLength: "conflicting Content-Length values"
        }
    }
}

/// Frames SIP messages on a byte stream (RFC 3261 section 18.3): each `[UInt8]` it emits is exactly one message,
/// start line to the last body byte, ready for `SIPParser.parse`.
///
/// - Framing is by length only: the header section ends at the first empty line (CRLF CRLF, or the bare LF forms
///   `SIPMessage(bytes:)` also accepts), then exactly Content-Length bytes follow. The body is never scanned, so NULs,
///   bare LFs or blank lines inside it are just bytes.
/// - CR and LF between messages are skipped. A CRLFCRLF among them is an RFC 5626 section 4.4.1 keep-alive "ping";
///   with `answersKeepAlive` (the default) each one is answered at once with a single CRLF "pong", as 5626 section
///   3.5.1 asks of the receiving side. A lone CRLF (a pong from the peer) is skipped without an answer, so two
///   Patchbays cannot ping-pong forever.
/// - A message without Content-Length closes the connection by default (`.close`): the header is mandatory on
///   streams (section 20.14), and guessing 0 would turn a body into the start of the next "message" and garble every
///   message after it. `.assumeEmptyBody` accepts such messages as body-less for peers known to omit it on
///   body-less requests (Kamailio has the same switch, `tcp_accept_no_cl`, off by default).
/// - Limits close the connection rather than skip: a header section without its end after `maxHeaderSize` bytes,
///   or a Content-Length making the message larger than `maxMessageSize`, throws `SIPStreamDecoderError` before
///   the body is buffered, so a peer cannot make us hold more than the limit.
///
/// Incremental: bytes already searched for the header end are not searched again, so one byte per read costs
/// O(1) per byte, not O(n).
public struct SIPStreamDecoder: ByteToMessageDecoder {
    public typealias InboundOut = [UInt8]

    /// What to do with a message that has no Content-Length (see the type's documentation).
    public enum MissingContentLengthPolicy: Sendable, Equatable {
        case close
        case assumeEmptyBody
    }

    /// Largest whole message (headers and body). The same default as `SIPParser.maxMessageSize`.
    public var maxMessageSize: Int
    /// Longest header section (start line to the blank line). Real INVITEs stay under 4 KB; 16 KB leaves room for
    /// long Via/Record-Route stacks and Identity headers while bounding what a peer can make us buffer unframed.
    public var maxHeaderSize: Int
    public var missingContentLength: MissingContentLengthPolicy
    public var answersKeepAlive: Bool

    /// Bytes after the reader index already searched for the end of the header section (nothing is consumed until
    /// a whole message is there, so offsets from the reader index stay valid between calls).
    private var scanned = 0
    /// Length of the message being received, once its header section has been read.
    private var messageLength: Int?
    /// How much of a CRLFCRLF ping the CR/LF bytes skipped so far have matched (0...3).
    private var pingMatched = 0

    public init(
        maxMessageSize: Int = 65_535, maxHeaderSize: Int = 16_384,
        missingContentLength: MissingContentLengthPolicy = .close, answersKeepAlive: Bool = true
    ) {
        self.maxMessageSize = maxMessageSize
        self.maxHeaderSize = maxHeaderSize
        self.missingContentLength = missingContentLength
        self.answersKeepAlive = answersKeepAlive
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if messageLength == nil {
            skipKeepAlives(context: context, buffer: &buffer)
            guard buffer.readableBytes > 0 else { return .needMoreData }
            let tooLong = SIPStreamDecoderError.headerSectionTooLong(limit: maxHeaderSize)
            guard let bodyStart = findBodyStart(buffer) else {
                if buffer.readableBytes > maxHeaderSize { throw tooLong }
                return .needMoreData
            }
            guard bodyStart <= maxHeaderSize else { throw tooLong }
            let declared = try buffer.withUnsafeReadableBytes { try Self.contentLength(in: $0, headerEnd: bodyStart) }
            let bodyLength: Int
            switch (declared, missingContentLength) {
            case (let n?, _): bodyLength = n
            case (nil, .assumeEmptyBody): bodyLength = 0
            case (nil, .close): throw SIPStreamDecoderError.missingContentLength
            }
            let length = bodyStart + bodyLength
            guard length <= maxMessageSize else {
                throw SIPStreamDecoderError.messageTooLarge(length: length, limit: maxMessageSize)
            }
            messageLength = length
            scanned = 0
        }
        guard let length = messageLength, buffer.readableBytes >= length else { return .needMoreData }
        let message = buffer.readBytes(length: length)!
        messageLength = nil
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    /// At end of stream whole messages still go up; a partial one is dropped, as there is no one left to answer.
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while buffer.readableBytes > 0, try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        messageLength = nil
        scanned = 0
        return .needMoreData
    }

    /// Consumes CR and LF before a message, answering each CRLFCRLF ping with one CRLF.
    private mutating func skipKeepAlives(context: ChannelHandlerContext, buffer: inout ByteBuffer) {
        var pings = 0
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte == Self.cr || byte == Self.lf {
            buffer.moveReaderIndex(forwardBy: 1)
            // The ping alternates CR, LF, CR, LF: even positions expect CR.
            if byte == (pingMatched % 2 == 0 ? Self.cr : Self.lf) {
                pingMatched += 1
            } else {
                pingMatched = byte == Self.cr ? 1 : 0
            }
            if pingMatched == 4 {
                pings += 1
                pingMatched = 0
            }
        }
        // A message starts here: a later ping must be a fresh CRLFCRLF after it.
        if buffer.readableBytes > 0 { pingMatched = 0 }
        guard pings > 0, answersKeepAlive else { return }
        let pong = context.channel.allocator.buffer(bytes: Array(repeating: [Self.cr, Self.lf], count: pings).joined())
        context.writeAndFlush(NIOAny(pong), promise: nil)
    }

    /// Offset (from the reader index) of the first body byte, i.e. just past the empty line ending the headers.
    private mutating func findBodyStart(_ buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { raw in
            var i = scanned
            while i < raw.count {
                if raw[i] == Self.lf {
                    // An empty line follows this LF: LF, or CR LF. Without the lookahead bytes, resume here next time.
                    guard i + 1 < raw.count else { break }
                    if raw[i + 1] == Self.lf { return i + 2 }
                    if raw[i + 1] == Self.cr {
                        guard i + 2 < raw.count else { break }
                        if raw[i + 2] == Self.lf { return i + 3 }
                    }
                }
                i += 1
            }
            scanned = i
            return nil
        }
    }

    /// The Content-Length of the header section `raw[0..<headerEnd]` (long form or compact `l`, any case, folded
    /// lines joined), nil when absent.
    static func contentLength(in raw: UnsafeRawBufferPointer, headerEnd: Int) throws -> Int? {
        var values: [[UInt8]] = []
        var inContentLength = false
        // The start line cannot be a header: skip to the first LF.
        var lineStart = (raw[0..<headerEnd].firstIndex(of: lf) ?? headerEnd) + 1
        while lineStart < headerEnd {
            var lineEnd = raw[lineStart..<headerEnd].firstIndex(of: lf) ?? headerEnd
            let next = lineEnd + 1
            if lineEnd > lineStart, raw[lineEnd - 1] == cr { lineEnd -= 1 }
            defer { lineStart = next }
            if lineEnd == lineStart { break }  // the empty line
            let first = raw[lineStart]
            if first == 0x20 || first == 0x09 {
                // RFC 3261 section 7.3.1 folding: this line continues the previous field's value.
                if inContentLength { values[values.count - 1] += [0x20] + raw[lineStart..<lineEnd] }
                continue
            }
            guard let colon = raw[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")) else {
                inContentLength = false
                continue  // not a header line; the parser will say so, framing only needs Content-Length
            }
            inContentLength = isContentLength(raw[lineStart..<colon])
            if inContentLength { values.append(Array(raw[(colon + 1)..<lineEnd])) }
        }
        var result: Int?
        for value in values {
            let n = try parseLength(value)
            if let result, result != n { throw SIPStreamDecoderError.conflictingContentLength }
            result = n
        }
        return result
    }

    /// `Content-Length` or `l`, any case, with optional whitespace before the colon.
    static func isContentLength(_ name: Slice<UnsafeRawBufferPointer>) -> Bool {
        var end = name.endIndex
        while end > name.startIndex, name[end - 1] == 0x20 || name[end - 1] == 0x09 { end -= 1 }
        let trimmed = name[name.startIndex..<end]
        if trimmed.count == 1 { return trimmed.first! | 0x20 == UInt8(ascii: "l") }
        guard trimmed.count == 14 else { return false }
        return zip(trimmed, "content-length".utf8).allSatisfy { $0 | 0x20 == $1 || $0 == $1 }
    }

    /// Decimal digits between optional whitespace. Absurd lengths saturate rather than overflow: they only need to
    /// compare larger than any limit.
    static func parseLength(_ value: [UInt8]) throws -> Int {
        let digits = value.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw SIPStreamDecoderError.invalidContentLength(String(decoding: digits.prefix(40), as: UTF8.self))
        }
        var n = 0
        for d in digits { n = min(n * 10 + Int(d - 0x30), Int(Int32.max)) }
        return n
    }
}
