import Foundation
import PluginAPI

/// Small scans over a header value's UTF-8 bytes with integer offsets, for the scans that run on every message
/// (the top Via in `ViaValue`, the Call-ID in `SIPParser.callIDRange`). Every delimiter they look for is ASCII, and
/// Substring index arithmetic, which validates each step, cost more than the scanning itself.
package enum ByteScan {
    /// `text`'s bytes, lent when the Substring has them contiguous (a native String's always are).
    static func withBytes<R>(_ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        text.utf8.withContiguousStorageIfAvailable(body) ?? Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// RFC 3261 token: alphanumerics and `-.!%*_+`'~` (methods, header and parameter names).
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x21, 0x25, 0x2A, 0x5F, 0x2B, 0x60, 0x27, 0x7E: true
        default: false
        }
    }

    /// SIP's linear white space within a line: space or tab.
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    package static func string(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self)
    }

    static func equalsIgnoringCase(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ name: String) -> Bool {
        asciiEqualsIgnoringCase(UnsafeBufferPointer(rebasing: b[r]), name.utf8)
    }

    /// The first `byte` in `from..<to`, or nil (memchr: the line feeds of every received message are found this way).
    package static func first(_ byte: UInt8, in b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int? {
        guard from < to, let base = b.baseAddress, let p = memchr(base + from, Int32(byte), to - from) else {
            return nil
        }
        return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
    }

    /// The value of the header line `start..<end`, from after its colon to the end of the line (untrimmed), when the
    /// line's name is `long` (lower case) or its compact letter `compact`, in any case and with spaces or tabs
    /// around it; nil for any other line. Most lines are passed over on their first byte.
    static func fieldValue(
        _ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, long: String, compact: UInt8
    ) -> Range<Int>? {
        let first = b[start] | 0x20
        guard first == long.utf8.first || first == compact else { return nil }
        guard let colon = Self.first(0x3A, in: b, start, end) else { return nil }
        let name = trimmed(b, start, colon)
        guard name.count == 1 ? first == compact : equalsIgnoringCase(b, name, long) else { return nil }
        return (colon + 1)..<end
    }

    /// `lo..<hi` without the spaces and tabs at either end.
    static func trimmed(_ b: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> Range<Int> {
        var lo = lo
        var hi = hi
        while lo < hi, isSpace(b[lo]) { lo += 1 }
        while hi > lo, isSpace(b[hi - 1]) { hi -= 1 }
        return lo..<hi
    }
}
