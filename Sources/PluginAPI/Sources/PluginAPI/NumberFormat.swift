/// How a peer wants a house-format number written. Raw values are the spellings used in `patchbay.yaml`.
/// Examples are for `+49301234567` seen from a Berlin context (country 49, area 30, prefixes 0 and 00).
public enum NumberFormat: String, Sendable, CaseIterable {
    /// `+49301234567`, the house format itself.
    case e164
    /// `0049301234567`: international prefix and all digits, for peers that cannot take a `+`.
    case international
    /// `0301234567` at home, `0044...` for other countries.
    case national
    /// `1234567` inside the own area, otherwise as `national`.
    case local
    /// The extension (`2345`) inside a DID block, otherwise as `national`.
    case extensionOrNational = "extension"
}
