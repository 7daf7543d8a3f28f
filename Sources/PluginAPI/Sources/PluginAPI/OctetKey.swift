/// A protocol token (Call-ID, tag, branch) as a dictionary key: equal exactly when the octets are, never by Unicode
/// canonical equivalence as a String key would be (two Call-IDs that differ only in how an accented letter is
/// composed are two calls).
///
/// The key is held in a spelling in which String equality is octet equality: ASCII as it is (every token Patchbay
/// makes, and every well-formed one), any other octet as its escape code point (`OctetText`), which Unicode
/// normalisation leaves alone. Comparing and hashing are then the String's own, on its fast paths: comparing the
/// octets through closures added 6,000 instructions to a call's transactions (`make bench-callgrind`).
public struct OctetKey: Hashable, Sendable, CustomStringConvertible {
    private let key: String

    public init(_ text: String) { key = OctetText.escapingNonASCII(text) }

    /// The token as the model holds it (`OctetText`): the same text that was given.
    public var text: String { OctetText.hasEscapes(key) ? OctetText.decode(OctetText.octets(key)) : key }

    public var description: String { text }
}
