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
        let framing = try precheck(bytes)
        var raw: UnsafeMutablePointer<osip_message_t>?
        guard osip_message_init(&raw) == 0, let msg = raw else { throw SIPParseError("out of memory", status: 500) }
        defer { osip_message_free(msg) }
        func osipParse(_ buf: UnsafeBufferPointer<UInt8>) -> Int32 {
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                osip_message_parse(msg, $0, buf.count)
            }
        }
        // Most messages (ACK, BYE, provisional responses) have no NUL and a Content-Length of 0 already: osip reads
        // their header section where it is, without a copy.
        let rc =
            Self.osipNeedsCopy(bytes, framing)
            ? Self.forOsip(bytes, framing).withUnsafeBufferPointer(osipParse)
            : bytes.withUnsafeBufferPointer { all in
                osipParse(UnsafeBufferPointer(rebasing: all[..<(framing.bodyStart ?? all.count)]))
            }
        let isResponse = bytes.starts(with: Array("SIP/".utf8))
        guard rc == 0 else {
            // A response that does not parse matches nothing and is dropped; a request gets 400.
            throw SIPParseError("libosip2 could not parse the message (\(rc))", status: isResponse ? nil : 400)
        }
        try checkMandatoryHeaders(msg, isResponse: isResponse)
        let message: SIPMessage
        do {
            message = try SIPMessage(bytes: bytes)
        } catch let e as SIPFramingError {
            throw SIPParseError(e.description, status: isResponse ? nil : 400)
        }
        if !isResponse {
            for name in ["From", "To"] {
                guard let value = message.header(name), let problem = AddressGrammar.problem(in: value) else {
                    continue
                }
                throw SIPParseError("malformed \(name) header: \(problem)")
            }
        }
        return message
    }

    /// What osip is given: the header section and the blank line after it, without the body, and with a
    /// Content-Length of 0.
    ///
    /// - The body is not osip's to judge: precheck has matched the one Content-Length against the bytes, and the
    ///   model frames the body by length. Given a multipart body, osip parses every part's headers, and it leaks the
    ///   part's content type when that does not parse (65 bytes per message, found by `make fuzz`): a peer could
    ///   grow the process with crafted MESSAGEs. Without a body it parses none; Content-Length is overwritten with
    ///   spaces and a `0` in the same bytes because osip refuses a length that its copy does not hold.
    /// - osip scans the header section with C string functions, so a NUL there (legal only as a quoted-pair inside
    ///   a quoted string, RFC 4475 intmeth) ends its view of the message early and it refuses a valid message. osip
    ///   gets those NULs replaced by DEL, another octet that is legal only in the same place; the model is built
    ///   from the original bytes.
    static func forOsip(_ bytes: [UInt8], _ framing: Framing) -> [UInt8] {
        var copy = Array(bytes[0..<(framing.bodyStart ?? bytes.count)])
        for i in copy.indices where copy[i] == 0 { copy[i] = 0x7F }
        if let value = framing.contentLength {
            for i in value { copy[i] = 0x20 }
            copy[value.upperBound - 1] = UInt8(ascii: "0")
        }
        return copy
    }

    /// Whether `forOsip` would change anything in the header section: a NUL in it, or a Content-Length other
    /// than spaces and a single `0`.
    static func osipNeedsCopy(_ bytes: [UInt8], _ framing: Framing) -> Bool {
        if let value = framing.contentLength {
            guard !value.isEmpty, bytes[value.upperBound - 1] == UInt8(ascii: "0") else { return true }
            for i in value.dropLast() where bytes[i] != 0x20 { return true }
        }
        return bytes[0..<(framing.bodyStart ?? bytes.count)].contains(0)
    }

    /// What precheck found out about the message's framing, for `forOsip`.
    struct Framing: Equatable {
        /// After the blank line that ends the header section; nil when there is none.
        var bodyStart: Int?
        /// The one Content-Length's value, from after its colon to the end of its line.
        var contentLength: Range<Int>?
    }

    /// Cheap checks on the raw bytes before osip sees them (osip has a history of crashes on malformed input, and
    /// it silently accepts a Content-Length shorter than the body and truncates): size, line lengths, the shape of
    /// the start line, and Content-Length against the bytes that are really there.
    func precheck(_ bytes: [UInt8]) throws -> Framing {
        guard bytes.count >= 16 else { throw SIPParseError("message too short (\(bytes.count) bytes)", status: nil) }
        guard bytes.count <= maxMessageSize else {
            throw SIPParseError("message larger than \(maxMessageSize) bytes", status: 513)
        }
        var lines: [Range<Int>] = []
        // Room for a typical message's lines at once: growing 1, 2, 4, ... 32 cost five allocations per message.
        lines.reserveCapacity(32)
        var lineStart = 0
        var bodyStart: Int?
        // Line feeds found with memchr, not byte by byte.
        try bytes.withUnsafeBufferPointer { b in
            while let i = ByteScan.first(0x0A, in: b, lineStart, b.count) {
                if i - lineStart > maxLineLength {
                    throw SIPParseError("header line longer than \(maxLineLength) bytes")
                }
                let end = i > lineStart && b[i - 1] == 0x0D ? i - 1 : i
                if end == lineStart {
                    bodyStart = i + 1
                    return
                }
                lines.append(lineStart..<end)
                lineStart = i + 1
            }
        }
        if bodyStart == nil {
            if bytes.count - lineStart > maxLineLength {
                throw SIPParseError("header line longer than \(maxLineLength) bytes")
            }
            if lineStart < bytes.count { lines.append(lineStart..<bytes.count) }
        }
        guard let first = lines.first else { throw SIPParseError("no start line", status: nil) }
        try Self.checkStartLine(bytes[first])
        let contentLength = try Self.checkContentLength(bytes, lines: lines.dropFirst(), bodyStart: bodyStart)
        return Framing(bodyStart: bodyStart, contentLength: contentLength)
    }

    static let knownMethods: Set<String> = [
        "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "UPDATE", "PRACK", "SUBSCRIBE", "NOTIFY",
        "REFER", "MESSAGE", "PUBLISH",
    ]

    /// RFC 3261 section 7.1: `Method SP Request-URI SP SIP-Version`, single spaces (RFC 4475 lwsstart, trws and
    /// lwsruri are refused rather than repaired, so nothing malformed is propagated); an unknown version gets 505
    /// and a Request-URI scheme Patchbay cannot route gets 416 (unkscm, novelsc). A response whose status line is
    /// broken (bigcode) matches nothing and is dropped.
    static func checkStartLine(_ line: ArraySlice<UInt8>) throws {
        // Nearly every line is plainly valid; proving that on bytes skips the String splitting below, which only
        // has to find the precise complaint about a bad one.
        if isPlainStartLine(line) { return }
        try checkStartLineInFull(line)
    }

    static func checkStartLineInFull(_ line: ArraySlice<UInt8>) throws {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        if text.hasPrefix("SIP/") {
            guard parts.count >= 3, parts[0] == "SIP/2.0", parts[1].count == 3, parts[1].allSatisfy(\.isASCIIDigit),
                parts[1].first != "0"
            else { throw SIPParseError("malformed status line", status: nil) }
            return
        }
        guard parts.count == 3, !parts.contains(where: \.isEmpty) else {
            throw SIPParseError("malformed request line (RFC 3261 section 7.1: single spaces between three elements)")
        }
        guard parts[0].utf8.allSatisfy(ByteScan.isTokenByte) else { throw SIPParseError("malformed method") }
        let version = parts[2].uppercased()
        if version != "SIP/2.0" {
            let v = version.dropFirst(4)
            if version.hasPrefix("SIP/"), v.split(separator: ".").count == 2,
                v.allSatisfy({ $0 == "." || $0.isASCIIDigit })
            {
                throw SIPParseError("SIP version \(parts[2]) is not supported", status: 505)
            }
            throw SIPParseError("malformed SIP version")
        }
        let uri = parts[1]
        guard let colon = uri.firstIndex(of: ":"), colon != uri.startIndex,
            uri[..<colon].first?.isASCIILetter == true,
            uri[..<colon].allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "+" || $0 == "-" || $0 == "." })
        else { throw SIPParseError("malformed Request-URI") }
        let scheme = uri[..<colon].lowercased()
        if !["sip", "sips", "tel"].contains(scheme) {
            throw SIPParseError("Request-URI scheme '\(scheme)' is not supported", status: 416)
        }
    }

    /// One Content-Length at most, a decimal number, and no larger than the body that arrived (RFC 3261 section
    /// 18.3: over UDP a longer one is a 400; RFC 4475 clerr, ncl and mcl01). A shorter one is fine: the octets
    /// after it are ignored (dblreq).
    /// Returns where the value is (after the colon, to the end of the line), or nil when there is no Content-Length.
    static func checkContentLength(
        _ bytes: [UInt8], lines: ArraySlice<Range<Int>>, bodyStart: Int?
    ) throws -> Range<Int>? {
        var found: Range<Int>?
        var value: ArraySlice<UInt8> = []
        try bytes.withUnsafeBufferPointer { b in
            // Continuation lines start with whitespace and carry no name, so they never match.
            for r in lines where !r.isEmpty {
                guard
                    let v = ByteScan.fieldValue(
                        b, r.lowerBound, r.upperBound, long: "content-length",
                        compact: UInt8(ascii: "l"))
                else { continue }
                guard found == nil else { throw SIPParseError("more than one Content-Length") }
                found = v
                value = bytes[ByteScan.trimmed(b, v.lowerBound, v.upperBound)]
            }
        }
        guard found != nil else { return nil }
        // On bytes, without a String per message: at most nine ASCII digits.
        guard !value.isEmpty, value.count <= 9, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw SIPParseError("Content-Length '\(String(decoding: value.prefix(20), as: UTF8.self))' is not a length")
        }
        let length = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        let available = bodyStart.map { bytes.count - $0 } ?? 0
        if length > available {
            throw SIPParseError("Content-Length \(length) is larger than the \(available) body bytes received")
        }
        return found
    }

    /// `SIP/2.0 NNN reason` with a status of 100-999, or `TOKEN SP uri SP SIP/2.0` with a sip, sips or tel
    /// Request-URI: lines `checkStartLine` accepts, recognised without building strings.
    static func isPlainStartLine(_ line: ArraySlice<UInt8>) -> Bool {
        let version = sipVersion
        if line.starts(with: version) {
            let b = line.dropFirst(version.count)
            guard b.count >= 5 else { return false }
            let i = b.startIndex
            return b[i] == 0x20 && (0x31...0x39).contains(b[i + 1]) && (0x30...0x39).contains(b[i + 2])
                && (0x30...0x39).contains(b[i + 3]) && b[i + 4] == 0x20
        }
        guard let sp1 = line.firstIndex(of: 0x20), sp1 > line.startIndex,
            let sp2 = line[(sp1 + 1)...].firstIndex(of: 0x20), sp2 > sp1 + 1,
            line[(sp2 + 1)...].elementsEqual(version), line[line.startIndex..<sp1].allSatisfy(ByteScan.isTokenByte)
        else { return false }
        let uri = line[(sp1 + 1)..<sp2]
        guard let colon = uri.firstIndex(of: 0x3A) else { return false }
        let scheme = uri[uri.startIndex..<colon]
        func isScheme(_ name: String) -> Bool { scheme.elementsEqual(name.utf8) { $0 | 0x20 == $1 } }
        return isScheme("sip") || isScheme("sips") || isScheme("tel")
    }

    private static let sipVersion = Array("SIP/2.0".utf8)

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
                // RFC 4475 mismatch02: for a method Patchbay does not know, 501 says more than 400.
                let known = Self.knownMethods.contains(String(cString: method))
                throw SIPParseError("CSeq method does not match the request method", status: known ? 400 : 501)
            }
        }
    }

    private static let initialised: Bool = {
        pb_osip_init { level, file, line, message in
            guard let message else { return }
            // osip's "errors" are its reasons for refusing a message from the network, which the engine already
            // logs (and answers) once per message; at warning level a flood of garbage would become a flood of
            // log lines. Its fatal/bug levels (0, 1) stay warnings.
            let text = String(cString: message).trimmingCharacters(in: .newlines)
            if level <= 1 {
                osipLogger.warning("\(text)", metadata: ["file": "\(String(cString: file!)):\(line)"])
            } else if level == 2 {
                osipLogger.debug("\(text)", metadata: ["file": "\(String(cString: file!)):\(line)"])
            } else {
                osipLogger.trace("\(text)")
            }
        }
        return true
    }()

    package static func initialiseOsip() { _ = initialised }
}

let osipLogger = Logger(label: "patchbay.osip")

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
}
