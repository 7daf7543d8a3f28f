extension SIPParser {
    /// Where a raw message's Call-ID value is, found without parsing, or nil when the scan cannot be sure.
    ///
    /// The loop that receives a datagram learns from this which shard owns the call and hands that shard the bytes
    /// to parse, so a message is parsed, handled and freed on one thread. Parsing on the receiving loop and handing
    /// over the parsed message moved every one of its Strings and arrays to the other core to be used and freed.
    ///
    /// A non-nil answer is exactly the value `SIPMessage(bytes:)` gives `callID`: the first `Call-ID` or `i` field
    /// in the header section, trimmed of spaces and tabs. Anything where the two could differ answers nil, and the
    /// message is parsed where it arrived: a continuation line (RFC 3261 section 7.3.1 folding) before or right
    /// after the field, or an empty value. (`CallIDScanTests` holds the scan to the model.)
    package static func callIDRange(in bytes: [UInt8]) -> Range<Int>? {
        bytes.withUnsafeBufferPointer { b -> Range<Int>? in
            let n = b.count
            var found: Range<Int>?
            var lineStart = 0
            var isStartLine = true
            while lineStart < n {
                let lf = ByteScan.first(0x0A, in: b, lineStart, n) ?? n
                let end = lf > lineStart && b[lf - 1] == 0x0D ? lf - 1 : lf
                // A blank line ends the header section (the model's CRLFCRLF or LFLF).
                if end == lineStart { break }
                let isContinuation = ByteScan.isSpace(b[lineStart])
                if let found { return isContinuation ? nil : found }
                if isContinuation { return nil }
                if !isStartLine, let value = callIDValue(b, lineStart, end) {
                    // An empty first Call-ID is the model's answer too, but not one worth a shortcut.
                    if value.isEmpty { return nil }
                    found = value
                }
                isStartLine = false
                lineStart = lf + 1
            }
            return found
        }
    }

    /// The trimmed value of a `Call-ID` or `i` header line (any case, possibly empty), nil for any other line.
    private static func callIDValue(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Range<Int>? {
        ByteScan.fieldValue(b, start, end, long: "call-id", compact: UInt8(ascii: "i")).map {
            ByteScan.trimmed(b, $0.lowerBound, $0.upperBound)
        }
    }
}
