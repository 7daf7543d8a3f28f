import NIOCore
import NIOEmbedded
import Testing

@testable import Engine
@testable import Records
@testable import Routing
@testable import SIPCore

/// The stream framer on an `EmbeddedChannel`: bytes go in with `writeInbound` in chunks of every size, framed
/// messages come out with `readInbound`, pongs with `readOutbound`, and a framing error is thrown by `writeInbound`
/// (that is how the channel reports an error reaching the end of its pipeline).
@Suite struct SIPStreamDecoderTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A body no string function could frame: a NUL, bare LFs, a blank line and a CRLFCRLF, and it ends in CR.
    static let awkwardBody: [UInt8] =
        bytes("v=0\n") + [0x00, 0xFF] + bytes("\n\nx\r\n\r\nINVITE sip:fake SIP/2.0\r\n\r\n") + [0x00, 0x0D]

    static let invite: [UInt8] =
        bytes(
            "INVITE sip:+4930987654@gw.example SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\n"
                + "Call-ID: a@10.0.0.1\r\nCSeq: 1 INVITE\r\nl: \(awkwardBody.count)\r\n\r\n") + awkwardBody
    static let bye: [UInt8] = bytes(
        "BYE sip:b@gw.example SIP/2.0\r\nCall-ID: b@10.0.0.1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
    /// Lower-case long form, whitespace around the value and before the colon.
    static let ok: [UInt8] = bytes(
        "SIP/2.0 200 OK\r\nCall-ID: a@10.0.0.1\r\ncontent-LENGTH  :  5 \r\nCSeq: 1 INVITE\r\n\r\nhello")

    static func channel(_ decoder: SIPStreamDecoder = SIPStreamDecoder()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
        return channel
    }

    /// Writes `bytes` in pieces of `size` bytes, collecting what comes out after each piece.
    static func feed(_ bytes: [UInt8], in size: Int, to channel: EmbeddedChannel) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let end = min(i + size, bytes.count)
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes[i..<end]))
            out += try readAll(channel)
            i = end
        }
        return out
    }

    static func readAll(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let message = try channel.readInbound(as: [UInt8].self) { out.append(message) }
        return out
    }

    static func outbound(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var out: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            out += buffer.readBytes(length: buffer.readableBytes)!
        }
        return out
    }

    @Test func oneByteAtATimeEmitsTheMessageOnlyWithItsLastByte() throws {
        let channel = try Self.channel()
        var emitted: [[UInt8]] = []
        for (i, byte) in Self.invite.enumerated() {
            try channel.writeInbound(channel.allocator.buffer(bytes: [byte]))
            emitted += try Self.readAll(channel)
            // Nothing may come out early: not at the body's blank lines, not at its embedded start line.
            if i < Self.invite.count - 1 { #expect(emitted.isEmpty, "emitted at byte \(i)") }
        }
        #expect(emitted == [Self.invite])
        #expect(try channel.finish().isClean)
    }

    /// Three messages with keep-alive CRLFs between them, cut into pieces of every size from one byte to the whole:
    /// the same three messages come out, byte for byte, whatever the cuts.
    @Test(arguments: [1, 2, 3, 5, 7, 13, 64, 211, 100_000])
    func pipelinedMessagesSurviveAnyChunking(size: Int) throws {
        let stream = Self.bytes("\r\n") + Self.invite + Self.bye + Self.bytes("\r\n") + Self.ok + Self.bye
        let channel = try Self.channel()
        #expect(try Self.feed(stream, in: size, to: channel) == [Self.invite, Self.bye, Self.ok, Self.bye])
        #expect(try channel.finish().isClean)
    }

    @Test func bareLineFeedHeadersAreFramedLikeSIPMessageDoes() throws {
        let lenient = Self.bytes("OPTIONS sip:gw SIP/2.0\nCall-ID: c\nContent-Length: 3\n\nab\n")
        let channel = try Self.channel()
        #expect(try Self.feed(lenient + Self.bye, in: 1, to: channel) == [lenient, Self.bye])
    }

    @Test func foldedContentLengthIsRead() throws {
        let folded = Self.bytes("MESSAGE sip:a SIP/2.0\r\nCall-ID: f\r\nContent-Length:\r\n  4\r\n\r\nbody")
        let channel = try Self.channel()
        #expect(try Self.feed(folded, in: 3, to: channel) == [folded])
    }

    // MARK: Keep-alive (RFC 5626 section 4.4.1)

    @Test func doubleCRLFPingIsAnsweredWithOneCRLFPong() throws {
        let channel = try Self.channel()
        // Byte by byte: the pong goes out once the fourth byte completes the ping, not before.
        _ = try Self.feed(Self.bytes("\r\n\r"), in: 1, to: channel)
        #expect(try Self.outbound(channel).isEmpty)
        _ = try Self.feed(Self.bytes("\n"), in: 1, to: channel)
        #expect(try Self.outbound(channel) == Self.bytes("\r\n"))
        // Two pings in one read get two pongs; a message after them is framed normally.
        #expect(try Self.feed(Self.bytes("\r\n\r\n\r\n\r\n") + Self.bye, in: 1_000, to: channel) == [Self.bye])
        #expect(try Self.outbound(channel) == Self.bytes("\r\n\r\n"))
    }

    @Test func singleCRLFPongIsSkippedWithoutAnswer() throws {
        let channel = try Self.channel()
        #expect(try Self.feed(Self.bytes("\r\n") + Self.bye + Self.bytes("\r\n"), in: 1, to: channel) == [Self.bye])
        #expect(try Self.outbound(channel).isEmpty)
    }

    @Test func pingsCanBeLeftUnanswered() throws {
        let channel = try Self.channel(SIPStreamDecoder(answersKeepAlive: false))
        #expect(try Self.feed(Self.bytes("\r\n\r\n") + Self.bye, in: 1, to: channel) == [Self.bye])
        #expect(try Self.outbound(channel).isEmpty)
    }

    // MARK: Content-Length missing or wrong

    static let noLength = bytes("ACK sip:b@gw.example SIP/2.0\r\nCall-ID: n\r\nCSeq: 1 ACK\r\n\r\n")

    @Test func missingContentLengthClosesByDefault() throws {
        let channel = try Self.channel()
        #expect(throws: SIPStreamDecoderError.missingContentLength) {
            try channel.writeInbound(channel.allocator.buffer(bytes: Self.noLength))
        }
        // The decoder is in its error state: nothing after the bad message is framed.
        #expect(throws: (any Error).self) { try channel.writeInbound(channel.allocator.buffer(bytes: Self.bye)) }
        #expect(try Self.readAll(channel).isEmpty)
    }

    @Test func missingContentLengthCanMeanNoBody() throws {
        let channel = try Self.channel(SIPStreamDecoder(missingContentLength: .assumeEmptyBody))
        #expect(try Self.feed(Self.noLength + Self.bye, in: 4, to: channel) == [Self.noLength, Self.bye])
    }

    @Test(arguments: ["abc", "-1", "", "1 2", "0x10"])
    func invalidContentLengthIsAnError(value: String) throws {
        let channel = try Self.channel()
        let message = Self.bytes("BYE sip:b SIP/2.0\r\nContent-Length: \(value)\r\n\r\n")
        #expect(throws: SIPStreamDecoderError.invalidContentLength(value)) {
            try channel.writeInbound(channel.allocator.buffer(bytes: message))
        }
    }

    @Test func conflictingContentLengthsAreAnError() throws {
        let channel = try Self.channel()
        let message = Self.bytes("BYE sip:b SIP/2.0\r\nContent-Length: 0\r\nl: 4\r\n\r\nbody")
        #expect(throws: SIPStreamDecoderError.conflictingContentLength) {
            try channel.writeInbound(channel.allocator.buffer(bytes: message))
        }
        // Repeating the same value is harmless.
        let repeated = Self.bytes("BYE sip:b SIP/2.0\r\nContent-Length: 4\r\nl: 4\r\n\r\nbody")
        #expect(try Self.feed(repeated, in: 1, to: Self.channel()) == [repeated])
    }

    // MARK: Limits

    @Test func messageOfExactlyTheLimitPassesAndOneByteMoreFails() throws {
        let head = Self.bytes("MESSAGE sip:a SIP/2.0\r\nContent-Length: 100\r\n\r\n")
        let limit = head.count + 100
        let fits = head + Array(repeating: 0x41, count: 100)
        #expect(try Self.feed(fits, in: 9, to: Self.channel(SIPStreamDecoder(maxMessageSize: limit))) == [fits])

        let channel = try Self.channel(SIPStreamDecoder(maxMessageSize: limit - 1))
        #expect(throws: SIPStreamDecoderError.messageTooLarge(length: limit, limit: limit - 1)) {
            try channel.writeInbound(channel.allocator.buffer(bytes: head))
        }
    }

    /// The refusal comes with the header section, before any of the announced body is buffered.
    @Test func hugeContentLengthFailsAtTheEndOfTheHeaders() throws {
        let head = Self.bytes("INVITE sip:a SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n")
        let channel = try Self.channel()
        #expect(throws: SIPStreamDecoderError.messageTooLarge(length: head.count + Int(Int32.max), limit: 65_535)) {
            _ = try Self.feed(head, in: 1, to: channel)
        }
    }

    @Test func headerSectionWithoutItsEndFailsPastTheLimit() throws {
        let channel = try Self.channel(SIPStreamDecoder(maxHeaderSize: 256))
        let line = Self.bytes("X-Padding: " + String(repeating: "p", count: 50) + "\r\n")
        var stream = Self.bytes("INVITE sip:a SIP/2.0\r\n")
        while stream.count <= 256 { stream += line }
        #expect(throws: SIPStreamDecoderError.headerSectionTooLong(limit: 256)) {
            _ = try Self.feed(stream, in: 16, to: channel)
        }
    }

    /// Leading CR/LF is consumed as it arrives, so keep-alives never count toward the header limit.
    @Test func keepAlivesDoNotCountTowardTheHeaderLimit() throws {
        let channel = try Self.channel(SIPStreamDecoder(maxHeaderSize: 128, answersKeepAlive: false))
        let stream = Array(repeating: Self.bytes("\r\n"), count: 500).joined() + Self.bye
        #expect(try Self.feed(Array(stream), in: 7, to: channel) == [Self.bye])
    }

    // MARK: End of stream

    @Test func partialMessageAtEndOfStreamIsDroppedQuietly() throws {
        let channel = try Self.channel()
        let partial = Array(Self.invite.dropLast(3))
        #expect(try Self.feed(Self.bye + partial, in: 50, to: channel) == [Self.bye])
        #expect(try channel.finish().isClean)
    }
}
