import PluginAPI

/// What one processing step changed in a message, for `--explain`: start line, header fields added, removed and
/// changed, and SDP lines removed and added.
public struct MessageDiff: Sendable, Equatable {
    public var startLine: (before: String, after: String)?
    public var added: [SIPHeader] = []
    public var removed: [SIPHeader] = []
    public var changed: [(name: String, before: String, after: String)] = []
    public var bodyRemoved: [String] = []
    public var bodyAdded: [String] = []

    public static func == (a: MessageDiff, b: MessageDiff) -> Bool { a.lines == b.lines }

    public var isEmpty: Bool { lines.isEmpty }

    public init(from before: SIPMessage, to after: SIPMessage) {
        let l0 = Self.startText(before)
        let l1 = Self.startText(after)
        if l0 != l1 { startLine = (l0, l1) }
        var names: [String] = []
        for h in before.headers + after.headers where !names.contains(h.canonicalName) { names.append(h.canonicalName) }
        for n in names {
            let b = before.headers.filter { $0.canonicalName == n }
            let a = after.headers.filter { $0.canonicalName == n }
            let common = Swift.min(a.count, b.count)
            for i in 0..<common where a[i].value != b[i].value {
                changed.append((a[i].name, b[i].value, a[i].value))
            }
            removed += b.dropFirst(common)
            added += a.dropFirst(common)
        }
        if before.body != after.body {
            let bl = Self.bodyLines(before)
            let al = Self.bodyLines(after)
            bodyRemoved = Self.subtract(bl, al)
            bodyAdded = Self.subtract(al, bl)
        }
    }

    static func startText(_ m: SIPMessage) -> String {
        switch m.startLine {
        case .request(let method, let uri, let v): return "\(method) \(uri) \(v)"
        case .response(let v, let s, let r): return "\(v) \(s) \(r)"
        }
    }

    static func bodyLines(_ m: SIPMessage) -> [String] {
        String(decoding: m.body, as: UTF8.self).split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }).map(String.init)
    }

    /// Multiset difference that keeps order, so repeated lines (two `a=sendrecv`) are counted right.
    static func subtract(_ a: [String], _ b: [String]) -> [String] {
        var counts: [String: Int] = [:]
        for l in b { counts[l, default: 0] += 1 }
        return a.filter { l in
            if let c = counts[l], c > 0 {
                counts[l] = c - 1
                return false
            }
            return true
        }
    }

    /// Human-readable lines, one per change.
    public var lines: [String] {
        var out: [String] = []
        if let s = startLine { out.append("~ start line: \(s.before)  ->  \(s.after)") }
        for c in changed { out.append("~ \(c.name): \(c.before)  ->  \(c.after)") }
        for h in removed { out.append("- \(h.name): \(h.value)") }
        for h in added { out.append("+ \(h.name): \(h.value)") }
        for l in bodyRemoved { out.append("- sdp \(l)") }
        for l in bodyAdded { out.append("+ sdp \(l)") }
        return out
    }
}
