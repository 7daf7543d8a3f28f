import PluginAPI

/// The parts of one Via value that transaction matching reads. Parsing is deliberately tolerant: the grammar was
/// checked when the message came in, and matching must not fail on spacing the grammar allows
/// (`SIP / 2.0 / UDP host : 5060 ; branch = x`).
package struct ViaValue: Sendable {
    package var transport: String
    /// host[:port], lower-cased and without whitespace, so the same sent-by written twice compares equal.
    package var sentBy: String
    package var parameters: [(name: String, value: String?)]

    package init?(_ text: Substring) {
        let parsed: (transport: String, sentBy: String, parameters: [(name: String, value: String?)])? =
            ByteScan.withBytes(text) { b in
                guard let head = Self.head(b) else { return nil }
                var parameters: [(name: String, value: String?)] = []
                Self.forEachParameter(b, from: head.parameters) { name, value in
                    parameters.append((ByteScan.string(b, name).lowercased(), value.map { ByteScan.string(b, $0) }))
                    return true
                }
                return (ByteScan.string(b, head.transport).uppercased(), head.sentBy, parameters)
            }
        guard let parsed else { return nil }
        (transport, sentBy, parameters) = parsed
    }

    /// The branch and sent-by of an RFC 3261 Via (its first `branch` parameter starts with the magic cookie), or
    /// nil for any other: what `ViaValue(text)` would give as `branch` and `sentBy`, without the parameter list and
    /// transport it also builds. Every message received and every response sent is keyed this way, so it runs
    /// several times per message.
    static func cookieBranch(_ text: Substring) -> (branch: String, sentBy: String)? {
        ByteScan.withBytes(text) { b in
            guard let head = head(b) else { return nil }
            var branch: Range<Int>??
            forEachParameter(b, from: head.parameters) { name, value in
                guard ByteScan.equalsIgnoringCase(b, name, "branch") else { return true }
                branch = .some(value)
                return false
            }
            let cookie = TransactionKey.magicCookieBytes
            guard case .some(.some(let value)) = branch, value.count >= cookie.count,
                cookie.indices.allSatisfy({ b[value.lowerBound + $0] == cookie[$0] })
            else { return nil }
            return (ByteScan.string(b, value), head.sentBy)
        }
    }

    /// What the received/rport stamp of RFC 3261 section 18.2.1 and RFC 3581 reads: the sent-by, whether a
    /// `received` parameter is there already, and where the name of an `rport` without a value ends (an index
    /// into `text`'s base string). Nil where `ViaValue` would be nil.
    package static func stampFacts(
        _ text: Substring
    ) -> (sentBy: String, hasReceived: Bool, bareRportEnd: String.Index?)? {
        let facts: (sentBy: String, hasReceived: Bool, bareRportEnd: Int?)? = ByteScan.withBytes(text) { b in
            guard let head = head(b) else { return nil }
            var hasReceived = false
            var bareRportEnd: Int?
            forEachParameter(b, from: head.parameters) { name, value in
                if ByteScan.equalsIgnoringCase(b, name, "received") { hasReceived = true }
                if value == nil, bareRportEnd == nil, ByteScan.equalsIgnoringCase(b, name, "rport") {
                    bareRportEnd = name.upperBound
                }
                return true
            }
            return (head.sentBy, hasReceived, bareRportEnd)
        }
        guard let facts else { return nil }
        let u = text.utf8
        return (facts.sentBy, facts.hasReceived, facts.bareRportEnd.map { u.index(u.startIndex, offsetBy: $0) })
    }

    // The scans below are `ByteScan`'s: on the value's bytes with integer offsets.

    /// Returns the transport's bytes, the sent-by (lower-cased, without whitespace) and where the parameters start
    /// (their first `;`).
    private static func head(_ b: UnsafeBufferPointer<UInt8>) -> (
        transport: Range<Int>, sentBy: String, parameters: Int
    )? {
        let semicolon = ByteScan.first(0x3B, in: b, 0, b.count) ?? b.count
        // sent-protocol "SIP / 2.0 / transport": the transport follows the second slash.
        guard let slash1 = ByteScan.first(0x2F, in: b, 0, semicolon),
            let slash2 = ByteScan.first(0x2F, in: b, slash1 + 1, semicolon)
        else { return nil }
        var i = slash2 + 1
        while i < semicolon, ByteScan.isSpace(b[i]) { i += 1 }
        let transportStart = i
        while i < semicolon, !ByteScan.isSpace(b[i]) { i += 1 }
        guard i < semicolon, transportStart < i else { return nil }
        // Written straight into the String (no intermediate byte array): this runs for every message received.
        let rest = UnsafeBufferPointer(rebasing: b[i..<semicolon])
        let sentBy = String(unsafeUninitializedCapacity: rest.count) { buffer in
            var n = 0
            for c in rest where !ByteScan.isSpace(c) {
                buffer[n] = asciiLower(c)
                n += 1
            }
            return n
        }
        guard !sentBy.isEmpty else { return nil }
        return (transportStart..<i, sentBy, semicolon)
    }

    /// Calls `body` with each parameter's name and value (nil for a bare `;name`), trimmed of spaces and tabs,
    /// from the `;` at `start` on, until `body` returns false. Empty parameters are skipped.
    private static func forEachParameter(
        _ b: UnsafeBufferPointer<UInt8>, from start: Int, _ body: (Range<Int>, Range<Int>?) -> Bool
    ) {
        var rest = start
        while rest < b.count {
            let partStart = rest + 1
            let end = ByteScan.first(0x3B, in: b, partStart, b.count) ?? b.count
            rest = end
            let part = ByteScan.trimmed(b, partStart, end)
            guard !part.isEmpty else { continue }
            guard let eq = ByteScan.first(0x3D, in: b, part.lowerBound, part.upperBound) else {
                if !body(part, nil) { return }
                continue
            }
            if !body(ByteScan.trimmed(b, part.lowerBound, eq), ByteScan.trimmed(b, eq + 1, part.upperBound)) { return }
        }
    }

    package var branch: String? { parameters.first { $0.name == "branch" }?.value ?? nil }

    /// The whole value in one spelling, for the RFC 2543 comparison of the top Via: parameter order is kept because
    /// an RFC 2543 element retransmits the same bytes.
    var normalized: String {
        var text = "SIP/2.0/\(transport) \(sentBy)"
        for p in parameters { text += ";" + p.name + (p.value.map { "=" + $0 } ?? "") }
        return text
    }
}
