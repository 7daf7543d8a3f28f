import COsip
import Foundation
import Logging
import PluginAPI

/// Why a datagram or stream message was refused, and what a UAS should answer (nil: drop silently, as RFC 3261
/// section 18.3 and 16.3 ask for responses and for requests too broken to answer).
public struct SIPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var responseStatus: Int?

    public init(_ reason: String, status: Int? = 400) {
        self.reason = reason
        self.responseStatus = status
    }

    public var description: String { reason }
}

/// Turns received bytes into a `SIPMessage`. libosip2 decides whether the message is well-formed SIP and parses
/// the typed parts (start line, URIs, CSeq, Via); the Swift framing then builds the model plugins see, keeping the
/// header fields in arrival order and as written.
///
/// Why not serialise through osip as well: `osip_message_to_str` rewrites what it writes (reorders known headers,
/// splits `Allow: A, B` into one line per value, writes `Max-forwards`), `osip_message_set_body` appends rather
/// than replaces, and a B2BUA composes every outbound message anyway. Writing from the Swift model sends exactly
/// what the adapters produced, with a Content-Length computed from the body, and is faster: on the 851-byte
/// INVITE fixture, `swift run -c release ParseSerialise Tests/Fixtures/pbx-invite-national.sip` measured
/// osip parse 3.5 us, osip_message_to_str 2.3 us, this parse (osip + model) 6.4 us, and `serialized()` 0.95 us,
/// 0.41x of osip's serialiser in the same run (2026-11-28, release build, 2-core dev machine).
public struct SIPParser: Sendable {
    /// Largest message accepted. UDP datagrams cannot exceed 65,507 bytes; a TCP stream message is capped by the
    /// transport with this same limit.
    public var maxMessageSize = 65_535
    /// Longest single header line; guards osip against pathological lines.
    public var maxLineLength = 8_192

    public init() {
        SIPParser.initialiseOsip()
    }

    public func parse(_ bytes: [UInt8]) throws -> SIPMessage {
        try precheck(bytes)
        var raw: UnsafeMutablePointer<osip_message_t>?
        guard osip_message_init(&raw) == 0, let msg = raw else { throw SIPParseError("out of memory", status: 500) }
        defer { osip_message_free(msg) }
        let rc = Self.forOsip(bytes).withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                osip_message_parse(msg, $0, buf.count)
            }
        }
        let isResponse = bytes.starts(with: Array("SIP/".utf8))
        guard rc == 0 else {
            // A response that does not parse matches nothing and is dropped; a request gets 400.
            throw SIPParseError("libosip2 could not parse the message (\(rc))", status: isResponse ? nil : 400)
        }
        try checkMandatoryHeaders(msg, isResponse: isResponse)
        do {
            return try SIPMessage(bytes: bytes)
        } catch let e as SIPFramingError {
            throw SIPParseError(e.description, status: isResponse ? nil : 400)
        }
    }

    /// osip scans the header section with C string functions, so a NUL there (legal only as a quoted-pair inside a
    /// quoted string, RFC 4475 intmeth) ends its view of the message early and it refuses a valid message. osip gets
    /// a copy with those NULs replaced by DEL, another octet that is legal only in the same place; the model is
    /// built from the original bytes. The body is framed by length and may hold NULs (mpart01).
    static func forOsip(_ bytes: [UInt8]) -> [UInt8] {
        guard let headerEnd = headerSectionEnd(bytes), bytes[0..<headerEnd].contains(0) else { return bytes }
        var copy = bytes
        for i in 0..<headerEnd where copy[i] == 0 { copy[i] = 0x7F }
        return copy
    }

    static func headerSectionEnd(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i + 3 < bytes.count {
            if bytes[i] == 0x0D, bytes[i + 1] == 0x0A, bytes[i + 2] == 0x0D, bytes[i + 3] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    /// Cheap checks on the raw bytes before osip sees them (osip has a history of crashes on malformed input).
    func precheck(_ bytes: [UInt8]) throws {
        guard bytes.count >= 16 else { throw SIPParseError("message too short (\(bytes.count) bytes)", status: nil) }
        guard bytes.count <= maxMessageSize else {
            throw SIPParseError("message larger than \(maxMessageSize) bytes", status: 513)
        }
        var lineStart = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            if i - lineStart > maxLineLength { throw SIPParseError("header line longer than \(maxLineLength) bytes") }
            if i == lineStart || (i == lineStart + 1 && bytes[lineStart] == 0x0D) { return }  // end of headers
            lineStart = i + 1
        }
        if bytes.count - lineStart > maxLineLength {
            throw SIPParseError("header line longer than \(maxLineLength) bytes")
        }
    }

    func checkMandatoryHeaders(_ msg: UnsafeMutablePointer<osip_message_t>, isResponse: Bool) throws {
        let status: Int? = isResponse ? nil : 400
        func missing(_ h: String) -> SIPParseError { SIPParseError("missing \(h) header", status: status) }
        guard pb_osip_has_from(msg) != 0 else { throw missing("From") }
        guard pb_osip_has_to(msg) != 0 else { throw missing("To") }
        guard pb_osip_call_id_number(msg) != nil else { throw missing("Call-ID") }
        guard let cseqMethod = pb_osip_cseq_method(msg), let cseqNumber = pb_osip_cseq_number(msg) else {
            throw missing("CSeq")
        }
        guard pb_osip_via_count(msg) > 0 else { throw missing("Via") }
        guard UInt32(String(cString: cseqNumber)) != nil else {
            throw SIPParseError("CSeq number is not a 32-bit integer", status: status)
        }
        if !isResponse {
            guard pb_osip_has_req_uri(msg) != 0, let method = pb_osip_method(msg) else {
                throw SIPParseError("bad request line")
            }
            guard strcmp(method, cseqMethod) == 0 else {
                throw SIPParseError("CSeq method does not match the request method")
            }
        }
    }

    private static let initialised: Bool = {
        pb_osip_init { level, file, line, message in
            guard let message else { return }
            // osip is chatty at info levels; only its errors are worth an operator's attention.
            let text = String(cString: message).trimmingCharacters(in: .newlines)
            if level <= 2 {
                osipLogger.warning("\(text)", metadata: ["file": "\(String(cString: file!)):\(line)"])
            } else {
                osipLogger.trace("\(text)")
            }
        }
        return true
    }()

    static func initialiseOsip() { _ = initialised }
}

let osipLogger = Logger(label: "patchbay.osip")
