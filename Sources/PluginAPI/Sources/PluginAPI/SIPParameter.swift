/// A `;name=value` (or bare `;name`) parameter of a URI or a header, kept in order and in the case written.
public struct SIPParameter: Sendable, Hashable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    var text: String { value.map { "\(name)=\($0)" } ?? name }
}

extension Array where Element == SIPParameter {
    /// Parameter names are case-insensitive (RFC 3261 section 19.1.4).
    public subscript(parameter name: String) -> String? {
        get { first { $0.name.caseInsensitiveEquals(name) }?.value }
    }

    public func has(_ name: String) -> Bool { contains { $0.name.caseInsensitiveEquals(name) } }

    public mutating func set(_ name: String, _ value: String?) {
        if let i = firstIndex(where: { $0.name.caseInsensitiveEquals(name) }) {
            self[i].value = value
        } else {
            append(SIPParameter(name, value))
        }
    }

    public mutating func remove(_ name: String) { removeAll { $0.name.caseInsensitiveEquals(name) } }

    /// Parses `;a=b;c` (leading `;` optional); quoted values keep their quotes.
    static func parse(_ text: Substring) -> [SIPParameter] {
        splitOutsideQuotes(text, separator: ";").compactMap { part -> SIPParameter? in
            let p = part.trimmingSIPWhitespace()
            guard !p.isEmpty else { return nil }
            if let eq = p.firstIndex(of: "=") {
                return SIPParameter(
                    String(p[..<eq]).trimmedSIP(), String(p[p.index(after: eq)...]).trimmedSIP())
            }
            return SIPParameter(String(p), nil)
        }
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && lowercased() == other.lowercased()
    }

    func trimmedSIP() -> String { String(Substring(self).trimmingSIPWhitespace()) }
}

extension Substring {
    func trimmingSIPWhitespace() -> Substring {
        // On unicode scalars: "\r\n" is a single Character and would escape a Character comparison.
        let u = unicodeScalars
        var a = u.startIndex
        var b = u.endIndex
        func ws(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" }
        while a < b, ws(u[a]) { a = u.index(after: a) }
        while b > a, ws(u[u.index(before: b)]) { b = u.index(before: b) }
        return Substring(u[a..<b])
    }
}

/// Splits on `separator` outside double quotes and angle brackets, the way SIP list values and parameters nest.
func splitOutsideQuotes(_ text: Substring, separator: Character) -> [Substring] {
    var parts: [Substring] = []
    var start = text.startIndex
    var inQuotes = false
    var angle = 0
    var i = text.startIndex
    while i < text.endIndex {
        let c = text[i]
        if inQuotes {
            if c == "\\" {
                i = text.index(after: i)
                if i == text.endIndex { break }
            } else if c == "\"" {
                inQuotes = false
            }
        } else if c == "\"" {
            inQuotes = true
        } else if c == "<" {
            angle += 1
        } else if c == ">" {
            angle = Swift.max(0, angle - 1)
        } else if c == separator && angle == 0 {
            parts.append(text[start..<i])
            start = text.index(after: i)
        }
        i = text.index(after: i)
    }
    parts.append(text[start...])
    return parts
}
