import PluginAPI

/// The header fields of a request the parser refused, read as leniently as possible, for one purpose: answering
/// it with a 4xx/5xx (RFC 3261 section 8.2 asks a UAS to answer a malformed request when it can). Nothing read
/// here is ever routed or forwarded.
package struct RawHeaders {
    package let startLine: String
    /// Unfolded fields in order; compact names already long.
    let fields: [(name: String, value: String)]

    package init?(_ bytes: [UInt8]) {
        var lines: [String] = []
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            let end = i > start && bytes[i - 1] == 0x0D ? i - 1 : i
            if end == start { break }
            lines.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = i + 1
            if lines.count > 200 { break }
        }
        guard let first = lines.first else { return nil }
        startLine = first
        var fields: [(String, String)] = []
        for line in lines.dropFirst() {
            if line.first == " " || line.first == "\t", let last = fields.last {
                fields[fields.count - 1] = (last.0, last.1 + " " + line.trimmingCharacters(in: .whitespaces))
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = SIPHeader.canonical(line[..<colon].trimmingCharacters(in: .whitespaces))
            fields.append((name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        self.fields = fields
    }

    package var isRequest: Bool { !startLine.hasPrefix("SIP/") }
    package var method: String { String(startLine.prefix { $0 != " " }) }
    package func first(_ canonicalName: String) -> String? { fields.first { $0.name == canonicalName }?.value }

    /// A response to this request, or nil when the headers a response must copy (Via, From, To, Call-ID, CSeq)
    /// are not there: then the request is dropped (RFC 3261 section 16.3 for what cannot be answered).
    package func response(_ status: Int, _ reason: String, toTag: String, warning: String) -> SIPMessage? {
        guard isRequest, method != "ACK",
            let from = first("from"), let to = first("to"), let callID = first("call-id"), let cseq = first("cseq")
        else { return nil }
        let vias = fields.filter { $0.name == "via" }.map(\.value)
        guard !vias.isEmpty else { return nil }
        var headers = vias.map { SIPHeader("Via", $0) }
        headers += [
            SIPHeader("From", from), SIPHeader("To", to.contains(";tag=") ? to : to + ";tag=" + toTag),
            SIPHeader("Call-ID", callID), SIPHeader("CSeq", cseq),
            SIPHeader("Warning", "399 patchbay \"\(warning.replacingOccurrences(of: "\"", with: "'"))\""),
        ]
        return SIPMessage(startLine: .response(version: "SIP/2.0", status: status, reason: reason), headers: headers)
    }
}
