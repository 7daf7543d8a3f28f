/// A SIP request or response as plugins see it: a plain value with the start line, the header fields in the order
/// they arrived, and the body bytes. Content-Length is not stored: `serialized()` writes it from the body, so an
/// adapter that edits the SDP can never leave a wrong length behind.
public struct SIPMessage: Sendable, Equatable {
    public enum StartLine: Sendable, Equatable {
        case request(method: String, uri: String, version: String)
        case response(version: String, status: Int, reason: String)
    }

    public var startLine: StartLine
    /// Ordered header fields, Content-Length excluded.
    public var headers: [SIPHeader]
    public var body: [UInt8]

    public init(startLine: StartLine, headers: [SIPHeader] = [], body: [UInt8] = []) {
        self.startLine = startLine
        // Messages built by the host never carry one: test before filtering, which copies the array.
        let hasLength = headers.contains { $0.hasName("content-length") }
        self.headers = hasLength ? headers.filter { !$0.hasName("content-length") } : headers
        self.body = body
    }

    public var isRequest: Bool {
        if case .request = startLine { return true }
        return false
    }

    /// The request method, or for a response the method named in CSeq.
    public var method: String {
        if case .request(let m, _, _) = startLine { return m }
        return cseq?.method ?? ""
    }

    public var statusCode: Int? {
        if case .response(_, let s, _) = startLine { return s }
        return nil
    }

    /// The Request-URI, parsed; setting it on a response does nothing.
    public var requestURI: SIPURI? {
        get {
            if case .request(_, let uri, _) = startLine { return SIPURI(uri) }
            return nil
        }
        set {
            if case .request(let m, _, let v) = startLine, let newValue {
                startLine = .request(method: m, uri: newValue.description, version: v)
            }
        }
    }

    // MARK: Header lookup (case-insensitive, compact forms understood)

    /// The first field with this name, as written.
    public func header(_ name: String) -> String? {
        let c = SIPHeader.longForm(name)
        // By index: `first(where:)` copied each field it looked at into the closure (a retain and release of both
        // Strings), and this runs a dozen times and more for every message.
        for i in headers.indices where headers[i].hasName(c) { return headers[i].value }
        return nil
    }

    /// All values of a header. For list headers (Via, Contact, Diversion, ...) comma-separated entries are split,
    /// so `Diversion: a, b` and two Diversion lines read the same.
    public func values(_ name: String) -> [String] {
        let c = SIPHeader.longForm(name)
        let fields = headers.filter { $0.hasName(c) }.map(\.value)
        guard SIPHeader.isListHeader(c) else { return fields }
        return fields.flatMap { splitOutsideQuotes(Substring($0), separator: ",") }
            .map { String($0.trimmingSIPWhitespace()) }
            .filter { !$0.isEmpty }
    }

    public func hasHeader(_ name: String) -> Bool { header(name) != nil }

    /// Replaces every field of this name by one field at the position of the first (or at the end).
    public mutating func setHeader(_ name: String, _ value: String) {
        let c = SIPHeader.longForm(name)
        if let i = headers.firstIndex(where: { $0.hasName(c) }) {
            headers[i] = SIPHeader(name, value)
            var j = headers.index(after: i)
            while j < headers.endIndex {
                if headers[j].hasName(c) { headers.remove(at: j) } else { j += 1 }
            }
        } else {
            addHeader(name, value)
        }
    }

    /// Appends a field after the last one of the same name (keeping same-name order, which SIP says is
    /// significant), or at the end.
    public mutating func addHeader(_ name: String, _ value: String) {
        let c = SIPHeader.longForm(name)
        if let i = headers.lastIndex(where: { $0.hasName(c) }) {
            headers.insert(SIPHeader(name, value), at: i + 1)
        } else {
            headers.append(SIPHeader(name, value))
        }
    }

    /// Replaces a list header by one field per value, in order; an empty list removes it.
    public mutating func setValues(_ name: String, _ values: [String]) {
        let c = SIPHeader.longForm(name)
        guard let first = headers.firstIndex(where: { $0.hasName(c) }) else {
            for v in values { headers.append(SIPHeader(name, v)) }
            return
        }
        let written = headers[first].name
        headers.removeAll { $0.hasName(c) }
        headers.insert(contentsOf: values.map { SIPHeader(written, $0) }, at: Swift.min(first, headers.count))
    }

    public mutating func removeHeader(_ name: String) {
        let c = SIPHeader.longForm(name)
        headers.removeAll { $0.hasName(c) }
    }

    public mutating func removeHeaders(where predicate: (SIPHeader) -> Bool) {
        headers.removeAll(where: predicate)
    }

    // MARK: Typed access

    /// Every entry of a name-addr header, parsed. Entries that do not parse are skipped.
    public func nameAddresses(_ name: String) -> [NameAddress] { values(name).compactMap(NameAddress.init) }

    public mutating func setNameAddresses(_ name: String, _ values: [NameAddress]) {
        setValues(name, values.map(\.description))
    }

    public var from: NameAddress? {
        get { header("From").flatMap(NameAddress.init) }
        set { if let newValue { setHeader("From", newValue.description) } else { removeHeader("From") } }
    }

    public var to: NameAddress? {
        get { header("To").flatMap(NameAddress.init) }
        set { if let newValue { setHeader("To", newValue.description) } else { removeHeader("To") } }
    }

    /// `requestURI?.user` without parsing the URI: routing reads the called number of every new call.
    public var requestURIUser: Substring? {
        guard case .request(_, let uri, _) = startLine else { return nil }
        let text = Substring(uri)
        return SIPURI.userRange(in: text).map { text[$0] }
    }

    /// `from?.uri.user` without parsing From: routing reads the calling number of every new call.
    public var fromUser: Substring? {
        guard let value = header("From") else { return nil }
        let text = Substring(value)
        return NameAddress.userRange(in: text).map { text[$0] }
    }

    public var callID: String? { header("Call-ID") }

    /// `to?.tag` without parsing the To URI.
    public var toTag: String? { header("To").flatMap(NameAddress.tag(in:)) }

    /// `from?.tag` without parsing the From URI.
    public var fromTag: String? { header("From").flatMap(NameAddress.tag(in:)) }

    /// The topmost Via entry (the first of the first Via field), trimmed: what transaction matching and the
    /// received/rport stamp read. Cheaper than `values("Via").first`, which splits every entry of every field.
    public var topVia: Substring? {
        guard let field = headers.first(where: { $0.hasName("via") }) else { return nil }
        let value = Substring(field.value)
        let end = firstOutsideQuotes(value, UInt8(ascii: ",")) ?? value.endIndex
        let entry = value[..<end].trimmingSIPWhitespace()
        return entry.isEmpty ? nil : entry
    }

    /// The CSeq's number and method: exactly two words separated by spaces or tabs, the first a 32-bit number.
    public var cseq: (number: UInt32, method: String)? {
        // Read on bytes: transaction matching and relaying read it several times per message, and splitting the
        // value into an array of Substrings each time showed in profiles.
        guard let v = header("CSeq") else { return nil }
        let u = v.utf8
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        var i = u.startIndex
        while i < u.endIndex, isSpace(u[i]) { i = u.index(after: i) }
        var number: UInt32 = 0
        let digits = i
        while i < u.endIndex, u[i] >= 0x30, u[i] <= 0x39 {
            let (times10, o1) = number.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt32(u[i] - 0x30))
            guard !o1, !o2 else { return nil }
            number = sum
            i = u.index(after: i)
        }
        guard i > digits, i < u.endIndex, isSpace(u[i]) else { return nil }
        while i < u.endIndex, isSpace(u[i]) { i = u.index(after: i) }
        let methodStart = i
        while i < u.endIndex, !isSpace(u[i]) { i = u.index(after: i) }
        guard i > methodStart else { return nil }
        let methodEnd = i
        while i < u.endIndex, isSpace(u[i]) { i = u.index(after: i) }
        guard i == u.endIndex else { return nil }
        return (number, String(v[methodStart..<methodEnd]))
    }

    public var contentType: String? { header("Content-Type") }

    /// Whether the body is SDP, as Content-Type says: what `sdp` parses.
    var hasSDPBody: Bool { !body.isEmpty && contentType?.lowercased().hasPrefix("application/sdp") == true }

    /// The body parsed as SDP when Content-Type says so; setting it rewrites the body (and so Content-Length).
    public var sdp: SessionDescription? {
        get {
            guard hasSDPBody else { return nil }
            return SessionDescription(String(decoding: body, as: UTF8.self))
        }
        set {
            if let newValue {
                body = Array(newValue.description.utf8)
                setHeader("Content-Type", "application/sdp")
            } else {
                body = []
                removeHeader("Content-Type")
            }
        }
    }

    // MARK: Serialisation

    /// The message as bytes, with a Content-Length computed from the body as the last header.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(serializedByteCount)
        serialize(text: { out.append(contentsOf: $0.utf8) }, octets: { out.append(contentsOf: $0) })
        return out
    }

    /// The message's bytes in order, as text pieces and runs of octets (the body, and any header octet that is not
    /// UTF-8, see `OctetText`): what `serialized()` joins, for a caller that writes them straight into a buffer of
    /// its own (the host's datagram buffers), without an intermediate byte array per message sent.
    public func serialize(text writeText: (String) -> Void, octets: ([UInt8]) -> Void) {
        // One memchr per piece says whether it holds an escaped octet; almost none do.
        func text(_ piece: String) {
            if OctetText.hasEscapes(piece) {
                OctetText.write(piece, text: writeText, octets: octets)
            } else {
                writeText(piece)
            }
        }
        // Methods, versions and header names are tokens (libosip2 refuses other octets there): only the
        // Request-URI, the reason phrase and the values can hold escaped octets.
        switch startLine {
        case .request(let m, let uri, let v):
            writeText(m)
            writeText(" ")
            text(uri)
            writeText(" ")
            writeText(v)
        case .response(let v, let s, let r):
            writeText(v)
            writeText(" ")
            writeText(String(s))
            writeText(" ")
            text(r)
        }
        writeText("\r\n")
        for h in headers {
            writeText(h.name)
            writeText(": ")
            text(h.value)
            writeText("\r\n")
        }
        writeText("Content-Length: ")
        writeText(String(body.count))
        writeText("\r\n\r\n")
        octets(body)
    }

    /// How many bytes `serialize` writes: exactly, unless a value holds escaped octets (`OctetText`), each of which
    /// counts four here for the one octet written. What a buffer reserves, never a length on the wire.
    public var serializedByteCount: Int {
        var n = 0
        switch startLine {
        case .request(let m, let uri, let v): n += m.utf8.count + uri.utf8.count + v.utf8.count + 4
        case .response(let v, let s, let r): n += v.utf8.count + String(s).utf8.count + r.utf8.count + 4
        }
        for h in headers { n += h.name.utf8.count + h.value.utf8.count + 4 }
        return n + "Content-Length: ".utf8.count + String(body.count).utf8.count + 4 + body.count
    }

    public var text: String { String(decoding: serialized(), as: UTF8.self) }
}

extension SIPMessage: CustomStringConvertible {
    public var description: String { text }
}
