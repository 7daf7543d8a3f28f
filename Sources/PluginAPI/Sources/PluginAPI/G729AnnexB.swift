/// Where a body needs text inserted so that every G.729 format has an explicit `annexb`: a G.729 format is one an
/// rtpmap names `G729` (any case), or static payload 18 without an rtpmap, per `m=` section. A format with an fmtp
/// that lacks `annexb` gets `;annexb=yes` at the end of it; one without an fmtp gets `a=fmtp:PT annexb=yes` after its
/// rtpmap, else after the section's last rtpmap or fmtp, else after its `m=` line. One pass over the bytes with
/// integer offsets and payload types as numbers, nothing allocated per line: through `SessionDescription`'s codec
/// operations, which build a format table, the rule cost more per INVITE than both adapters together, and with a
/// dictionary per section still 33,000 instructions (`make bench-callgrind`).
enum G729AnnexB {
    struct Edit {
        var at: Int
        var text: [UInt8]
    }

    /// What one section knows about one of its formats.
    struct Format {
        var payloadType: Int
        var rtpmapEnd: Int?
        var isG729: Bool?
        var fmtpEnd: Int?
        var fmtpHasAnnexB = false
        var fmtpEndsWithSemicolon = false
    }

    static func edits(in b: UnsafeBufferPointer<UInt8>) -> [Edit]? {
        // Most bodies have no G.729: no "729" and no " 18" anywhere means nothing to do.
        guard contains(b, 0, b.count, "729") || contains(b, 0, b.count, " 18") else { return nil }
        var edits: [Edit] = []
        var formats: [Format] = []
        var active = false
        var lastDescriptionEnd = 0
        var newline: [UInt8] = [0x0D, 0x0A]
        func finish() {
            guard active else { return }
            for f in formats where f.isG729 ?? (f.payloadType == 18) {
                if let end = f.fmtpEnd {
                    guard !f.fmtpHasAnnexB else { continue }
                    edits.append(
                        Edit(at: end, text: Array((f.fmtpEndsWithSemicolon ? "annexb=yes" : ";annexb=yes").utf8)))
                } else {
                    edits.append(
                        Edit(
                            at: f.rtpmapEnd ?? lastDescriptionEnd,
                            text: Array("a=fmtp:\(f.payloadType) annexb=yes".utf8) + newline))
                }
            }
        }
        var lineStart = 0
        while lineStart < b.count {
            let lf = firstIndex(of: 0x0A, in: b, from: lineStart) ?? b.count
            let next = Swift.min(lf + 1, b.count)
            var end = lf
            if end > lineStart, b[end - 1] == 0x0D { end -= 1 }
            if lf < b.count { newline = end < lf ? [0x0D, 0x0A] : [0x0A] }
            if end - lineStart >= 2, b[lineStart] == UInt8(ascii: "m"), b[lineStart + 1] == UInt8(ascii: "=") {
                finish()
                active = true
                lastDescriptionEnd = next
                formats.removeAll(keepingCapacity: true)
                // m=<media> <port> <proto> <fmt> ...: formats are the words after the third.
                var i = lineStart + 2
                var word = 0
                while i < end {
                    while i < end, b[i] == 0x20 { i += 1 }
                    let (value, after) = number(b, i, end)
                    if word >= 3, after > i, let value { formats.append(Format(payloadType: value)) }
                    i = after
                    while i < end, b[i] != 0x20 { i += 1 }
                    word += 1
                }
            } else if active {
                let rtpmap = starts(b, lineStart, end, "a=rtpmap:")
                if rtpmap || starts(b, lineStart, end, "a=fmtp:") {
                    lastDescriptionEnd = next
                    let (pt, after) = number(b, lineStart + (rtpmap ? 9 : 7), end)
                    if let pt, let k = formats.firstIndex(where: { $0.payloadType == pt }) {
                        var i = after
                        while i < end, b[i] == 0x20 { i += 1 }
                        if rtpmap {
                            formats[k].rtpmapEnd = next
                            var j = i
                            while j < end, b[j] != UInt8(ascii: "/") { j += 1 }
                            formats[k].isG729 = asciiEqualsIgnoringCase(
                                UnsafeBufferPointer(rebasing: b[i..<j]), "g729".utf8)
                        } else {
                            var valueEnd = end
                            while valueEnd > i, b[valueEnd - 1] == 0x20 { valueEnd -= 1 }
                            formats[k].fmtpEnd = valueEnd
                            formats[k].fmtpHasAnnexB = contains(b, i, end, "annexb", ignoringCase: true)
                            formats[k].fmtpEndsWithSemicolon = valueEnd > i && b[valueEnd - 1] == UInt8(ascii: ";")
                        }
                    }
                }
            }
            lineStart = next
        }
        finish()
        return edits.sorted { $0.at < $1.at }
    }

    /// A payload type (decimal digits) at `i`, and where it ends; nil when there are no digits.
    static func number(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> (Int?, Int) {
        var j = i
        var value = 0
        while j < end, b[j] >= 0x30, b[j] <= 0x39, j - i < 4 {
            value = value * 10 + Int(b[j] - 0x30)
            j += 1
        }
        return (j > i ? value : nil, j)
    }

    static func starts(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard end - start >= n else { return false }
        let p = prefix.utf8Start
        for k in 0..<n where b[start + k] != p[k] { return false }
        return true
    }

    static func contains(
        _ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ needle: StaticString, ignoringCase: Bool = false
    ) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard end - start >= n else { return false }
        let p = needle.utf8Start
        if ignoringCase {
            for s in start...(end - n) {
                var k = 0
                while k < n, asciiLower(b[s + k]) == p[k] { k += 1 }
                if k == n { return true }
            }
            return false
        }
        var s = start
        // memchr for the first byte, then the rest.
        while s <= end - n, let hit = firstIndex(of: p[0], in: b, from: s), hit <= end - n {
            var k = 1
            while k < n, b[hit + k] == p[k] { k += 1 }
            if k == n { return true }
            s = hit + 1
        }
        return false
    }
}
