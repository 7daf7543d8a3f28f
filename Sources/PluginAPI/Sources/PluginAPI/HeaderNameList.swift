/// A list of header names to strip (`strip_headers`, a peer's `internal_headers`), compiled once per adapter or
/// configuration: names in any case or compact form, and `Prefix*` entries that match every name starting so
/// (without case). What `[String].matchesHeader(_:)` decides, without going through every entry's text for every
/// field: those comparisons, per field of every INVITE against every entry of two lists, were a tenth of the INVITE
/// path's instructions.
public struct HeaderNameList: Sendable, Equatable {
    /// The entries as written, in order.
    public let entries: [String]
    private let names: SIPHeader.NameSet
    /// The text before `*` of each prefix entry.
    private let stems: [[UInt8]]

    public init(_ entries: [String]) {
        self.entries = entries
        var exact: [String] = []
        var stems: [[UInt8]] = []
        for entry in entries {
            if entry.utf8.last == UInt8(ascii: "*") {
                stems.append(Array(entry.utf8.dropLast()))
            } else {
                // Lower-cased byte by byte like the comparison (not by Unicode case mapping, which could change a
                // non-ASCII byte the field's name has as written).
                let long = SIPHeader.longForm(entry)
                exact.append(String(decoding: long.utf8.map(asciiLower), as: UTF8.self))
            }
        }
        names = SIPHeader.NameSet(exact)
        self.stems = stems
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Whether the field's name (long or compact form, any case) is one of the names or starts with one of the
    /// prefixes.
    public func matches(_ header: SIPHeader) -> Bool {
        if names.contains(header.name) { return true }
        guard !stems.isEmpty else { return false }
        var name = SIPHeader.longForm(header.name)
        return name.withUTF8 { b in
            stems.contains { stem in
                b.count >= stem.count && asciiEqualsIgnoringCase(UnsafeBufferPointer(rebasing: b[..<stem.count]), stem)
            }
        }
    }

    public static func == (lhs: HeaderNameList, rhs: HeaderNameList) -> Bool { lhs.entries == rhs.entries }
}

extension SIPMessage {
    /// Removes every field whose name `list` matches.
    public mutating func removeHeaders(_ list: HeaderNameList) {
        guard !list.isEmpty else { return }
        removeHeaders { list.matches($0) }
    }
}
